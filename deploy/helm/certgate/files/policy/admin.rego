# Who may call certgate's own admin API (certgate.admin.v1.AdminService)
# over a TLS admin listener. certgate evaluates data.certgate.admin.allow on
# its own, apart from the request decision (data.certgate.authz.decision),
# with the input
#
#   {"identity": <the verified client certificate, as input.identity of a
#                 decision>,
#    "method":   "GetStatus" | "Reload" | "Explain" | "ListPermissions"}
#
# It reads neither the route table nor data.certgate.groups / users: no
# application route (not even a catch-all "* /**" granted to
# "authenticated") and no "*" grant of the application's permissions gives
# anyone the admin API. A policy without this rule denies every admin call
# over TLS. The Unix socket admin listener is not asked: its file
# permissions decide.
#
# Data:
#   data.certgate.admin.groups  {group: [method]}   certificate O values
#   data.certgate.admin.users   {user: [method]}    certificate CN
# A method is a short method name of the service; "*" is every method.
package certgate.admin

default allow := false

allow if {
	some group in input.identity.groups
	grants(data.certgate.admin.groups[group])
}

# A certificate without a CN (user "") holds no user entry, not even one
# keyed "", as in data.certgate.authz.
allow if {
	input.identity.user != ""
	grants(data.certgate.admin.users[input.identity.user])
}

# grants(methods) is true when the list names the called method or "*".
grants(methods) if "*" in methods

grants(methods) if input.method in methods
