package certgate.admin_test

import data.certgate.admin

# Synthetic admin grants: one per feature, so each test exercises one rule.
# The shipped data.json is used only by the tests at the end.
admin_groups := {
	"operators": ["*"],
	"auditors": ["GetStatus", "ListPermissions"],
	"empty": [],
}

admin_users := {"oncall": ["Reload"]}

call(user, identity_groups, method) := {
	"identity": {"user": user, "groups": identity_groups},
	"method": method,
}

allowed(input_doc) if {
	admin.allow with input as input_doc
		with data.certgate.admin.groups as admin_groups
		with data.certgate.admin.users as admin_users
}

denied(input_doc) if {
	not admin.allow with input as input_doc
		with data.certgate.admin.groups as admin_groups
		with data.certgate.admin.users as admin_users
}

methods := ["GetStatus", "Reload", "Explain", "ListPermissions"]

test_a_star_group_may_call_every_method if {
	every m in methods {
		allowed(call("root", ["operators"], m))
	}
}

test_a_method_list_grants_only_its_methods if {
	allowed(call("alice", ["auditors"], "GetStatus"))
	allowed(call("alice", ["auditors"], "ListPermissions"))
	denied(call("alice", ["auditors"], "Reload"))
	denied(call("alice", ["auditors"], "Explain"))
}

test_a_user_entry_grants_its_methods if {
	allowed(call("oncall", [], "Reload"))
	denied(call("oncall", [], "Explain"))
	denied(call("someone-else", [], "Reload"))
}

test_groups_and_the_user_entry_add_up if {
	allowed(call("oncall", ["auditors"], "Reload"))
	allowed(call("oncall", ["auditors"], "GetStatus"))
	denied(call("oncall", ["auditors"], "Explain"))
}

test_no_user_holds_no_user_entry if {
	every m in methods {
		not admin.allow with input as call("", [], m)
			with data.certgate.admin.groups as admin_groups
			with data.certgate.admin.users as {"": ["*"]}
	}
	admin.allow with input as call("", ["operators"], "Reload")
		with data.certgate.admin.groups as admin_groups
		with data.certgate.admin.users as {"": ["*"]}
}

test_an_unknown_or_empty_group_grants_nothing if {
	every m in methods {
		denied(call("x", ["nobody"], m))
		denied(call("x", ["empty"], m))
		denied(call("x", [], m))
	}
}

test_method_names_are_compared_exactly if {
	denied(call("alice", ["auditors"], "getstatus"))
	denied(call("alice", ["auditors"], "/certgate.admin.v1.AdminService/GetStatus"))
	denied(call("alice", ["auditors"], ""))
}

test_a_holder_named_star_is_not_every_holder if {
	not admin.allow with input as call("x", ["auditors"], "GetStatus")
		with data.certgate.admin.groups as {"*": ["*"]}
		with data.certgate.admin.users as {"*": ["*"]}
}

test_allow_is_false_not_undefined_without_grants if {
	a := admin.allow with input as call("x", [], "GetStatus")
		with data.certgate.admin.groups as {}
		with data.certgate.admin.users as {}
	a == false
}

# The data-plane grants never reach the admin rule: the application's "*"
# (data.certgate.groups) and a catch-all route granted to "authenticated"
# give no admin call.
test_application_grants_and_routes_do_not_grant_admin if {
	every m in methods {
		not admin.allow with input as call("root", ["app-admins"], m)
			with data.certgate.routes as [
				{"permission": "authenticated", "method": "*", "path": "/**"},
				{"permission": "authenticated", "method": "POST", "path": "/certgate.admin.v1.AdminService/*"},
			]
			with data.certgate.groups as {"app-admins": ["*"]}
			with data.certgate.users as {"root": ["*"]}
			with data.certgate.admin.groups as {}
			with data.certgate.admin.users as {}
	}
}

# --- shipped example data (data.json) ------------------------------------------------

test_shipped_admins_may_call_every_method if {
	every m in methods {
		admin.allow with input as call("admin", ["admins"], m)
	}
}

test_shipped_other_groups_may_call_nothing if {
	every m in methods {
		every g in ["viewers", "ci", "builders"] {
			not admin.allow with input as call("someone", [g], m)
		}
		not admin.allow with input as call("jenkins", ["ci"], m)
	}
}
