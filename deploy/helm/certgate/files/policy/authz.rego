# The shipped certgate policy: a route table maps method + path to a
# permission, and groups (certificate O values) and users (certificate CN)
# hold permissions. It only ever runs for identities whose chain certgate has
# already verified; unauthenticated requests get a 401 before it is asked.
#
# Data:
#   data.certgate.routes  [{"permission": p, "method": m, "path": pattern}]
#   data.certgate.groups  {group: [permission]}
#   data.certgate.users   {user: [permission]}
#
# A certificate without a CN has user "": it holds no user entry (not even
# one keyed ""), only what its groups hold, plus "authenticated".
#
# Input: input.identity and input.request (docs/architecture.md, Rego input),
# and optionally input.route_candidates, a pre-selection of the routes (routes_to_match).
#
# Path patterns are compared segment by segment (split on "/"):
#   "*"         matches exactly one non-empty segment;
#   "/**"       at the end matches one or more further non-empty segments;
#   anything else must be equal, case-sensitively.
# A request path with a trailing slash ("/api/v1/vm/") does NOT match
# "/api/v1/vm": upstreams route the two differently (a collection versus a
# directory-style listing, or a redirect), so granting one must not silently
# grant the other. The path is normalized by the server before it gets here;
# this policy does not repair paths.
package certgate.authz

# decision is the one document the server reads. The default makes it
# defined for every input: a request no route matches is denied.
default decision := {
	"allow": false,
	"status": 403,
	"reason": "no_route",
	"permission": "",
	"headers": {},
	"response_headers": {},
}

# Allowed: some matched route's permission is held. When several are, the
# first in sort order is reported, so the header and the decision log are
# stable across evaluations.
decision := {
	"allow": true,
	"status": 200,
	"reason": grant_reason(permission),
	"permission": permission,
	"headers": {"x-certgate-permission": permission},
	"response_headers": {},
} if {
	count(granted) > 0
	permission := min(granted)
}

# Denied: a route matched but none of its permissions is held. The first
# missing permission in sort order is named so the client can ask for it.
decision := {
	"allow": false,
	"status": 403,
	"reason": "missing_permission",
	"permission": min(matched_permissions),
	"headers": {},
	"response_headers": {},
} if {
	count(matched_permissions) > 0
	count(granted) == 0
}

grant_reason("authenticated") := "authenticated"

grant_reason(p) := "granted" if p != "authenticated"

# routes_to_match are the routes compared with the request. certgate sends
# input.route_candidates: the routes its index of data.certgate.routes found
# for this method and path, every matching route among them, so that a
# request is not compared with a whole large table. Without it (opa eval,
# other callers) every route is compared. Each candidate is still matched
# below, so the candidates can only narrow the table, never widen it.
routes_to_match := input.route_candidates if {
	is_array(input.route_candidates)
} else := data.certgate.routes

# matched_routes holds every route that matches the request's method and path.
matched_routes contains route if {
	some route in routes_to_match
	method_matches(route.method)
	path_matches(route.path)
}

# matched_permissions holds the permission of every matched route.
matched_permissions contains route.permission if {
	some route in matched_routes
}

# granted holds the matched permissions this identity may use.
granted contains p if {
	some p in matched_permissions
	permitted(p)
}

# granted_permissions holds every permission this identity may use on some
# route, whatever the request: for the admin API ("what may this
# certificate do?"). Decisions do not read it.
granted_permissions contains p if {
	some p in known_permissions
	permitted(p)
}

# known_permissions are the permissions named by a route or held by the
# identity ("*" is not a permission of its own).
known_permissions contains route.permission if {
	some route in data.certgate.routes
}

known_permissions contains p if {
	some p in held
	p != "*"
}

# "authenticated" is a pseudo-permission every verified identity holds.
permitted("authenticated")

# "*" held grants every permission.
permitted(_) if holds("*")

permitted(p) if holds(p)

# holds(p) is true when a group of the identity or the identity's user
# entry lists p. It looks p up instead of building the set held, which would
# collect every permission of every group of the identity on each request.
holds(p) if {
	some group in input.identity.groups
	p in data.certgate.groups[group]
}

holds(p) if {
	input.identity.user != ""
	p in data.certgate.users[input.identity.user]
}

# held is the union of the permissions of every group of the identity and
# of the identity's user entry.
held contains p if {
	some group in input.identity.groups
	some p in data.certgate.groups[group]
}

held contains p if {
	input.identity.user != ""
	some p in data.certgate.users[input.identity.user]
}

# Route methods are written upper-case; "*" matches any method. The request
# method is compared as sent: HTTP methods are case-sensitive.
method_matches("*")

method_matches(m) if upper(m) == input.request.method

request_segments := split(input.request.path, "/")

# A pattern equal to the path matches it. Most routes have no wildcard and
# are decided here, without splitting; the rules below then need only look
# at patterns with a "*".
path_matches(pattern) if pattern == input.request.path

# A pattern without "/**" must have as many segments as the request path.
path_matches(pattern) if {
	contains(pattern, "*")
	not endswith(pattern, "/**")
	segments := split(pattern, "/")
	count(segments) == count(request_segments)
	prefix_matches(segments)
}

# A pattern ending in "/**" matches its prefix plus at least one more
# segment; none of the extra segments may be empty, so "/files/" and
# "/files/a/" do not match "/files/**" (the trailing-slash rule again).
path_matches(pattern) if {
	endswith(pattern, "/**")
	segments := split(trim_suffix(pattern, "/**"), "/")
	count(request_segments) > count(segments)
	prefix_matches(segments)
	not "" in array.slice(request_segments, count(segments), count(request_segments))
}

prefix_matches(segments) if {
	every i, s in segments {
		segment_matches(s, request_segments[i])
	}
}

segment_matches("*", s) if s != ""

segment_matches(p, s) if {
	p != "*"
	p == s
}
