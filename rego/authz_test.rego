package certgate.authz_test

import data.certgate.authz

# Synthetic data: one route per matching feature, so each test exercises one
# rule. The shipped data.json is used only by the tests at the end.
routes := [
	{"permission": "authenticated", "method": "GET", "path": "/status"},
	{"permission": "read_items", "method": "GET", "path": "/items"},
	{"permission": "write_items", "method": "POST", "path": "/items"},
	{"permission": "read_item", "method": "GET", "path": "/items/*"},
	{"permission": "read_item_part", "method": "GET", "path": "/items/*/parts/*"},
	{"permission": "read_files", "method": "GET", "path": "/files/**"},
	{"permission": "any_method", "method": "*", "path": "/anything"},
	{"permission": "zeta", "method": "GET", "path": "/shared"},
	{"permission": "alpha", "method": "GET", "path": "/shared"},
	{"permission": "mid", "method": "GET", "path": "/shared/*"},
	{"permission": "other", "method": "GET", "path": "/shared/**"},
]

groups := {
	"readers": ["read_items", "read_item"],
	"writers": ["write_items"],
	"admins": ["*"],
	"files": ["read_files"],
	"shared": ["zeta", "alpha", "mid", "other"],
	"zeta_only": ["zeta"],
	"any": ["any_method"],
}

users := {"alice": ["read_item_part"]}

req(identity_groups, method, path) := {
	"identity": {"user": "someone", "groups": identity_groups},
	"request": {"method": method, "path": path},
}

user_req(user, identity_groups, method, path) := {
	"identity": {"user": user, "groups": identity_groups},
	"request": {"method": method, "path": path},
}

# The synthetic data replaces data.certgate.routes, .groups and .users one by
# one: replacing data.certgate as a whole would also replace this package.
decide(input_doc) := d if {
	d := authz.decision with input as input_doc
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as users
}

matched(input_doc) := m if {
	m := authz.matched_permissions with input as input_doc
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as users
}

root_routes := [
	{"permission": "root", "method": "GET", "path": "/"},
	{"permission": "everything", "method": "GET", "path": "/**"},
]

matched_with_routes(route_list, path) := m if {
	m := authz.matched_permissions with input as req([], "GET", path)
		with data.certgate.routes as route_list
}

held(input_doc) := h if {
	h := authz.held with input as input_doc
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as users
}

allowed(permission) := {
	"allow": true,
	"status": 200,
	"reason": "granted",
	"permission": permission,
	"headers": {"x-certgate-permission": permission},
	"response_headers": {},
}

missing(permission) := {
	"allow": false,
	"status": 403,
	"reason": "missing_permission",
	"permission": permission,
	"headers": {},
	"response_headers": {},
}

no_route := {
	"allow": false,
	"status": 403,
	"reason": "no_route",
	"permission": "",
	"headers": {},
	"response_headers": {},
}

# --- response shape -------------------------------------------------------

test_allow_has_the_full_decision_shape if {
	decide(req(["readers"], "GET", "/items")) == allowed("read_items")
}

test_missing_permission_has_the_full_decision_shape if {
	decide(req(["writers"], "GET", "/items")) == missing("read_items")
}

test_no_route_has_the_full_decision_shape if {
	decide(req(["admins"], "GET", "/nowhere")) == no_route
}

test_decision_is_defined_without_any_data if {
	d := authz.decision with input as req(["admins"], "GET", "/items")
		with data.certgate.routes as []
		with data.certgate.groups as {}
		with data.certgate.users as {}
	d == no_route
}

test_decision_is_defined_for_an_empty_input if {
	d := decide({})
	d == no_route
}

# --- exact path segments ---------------------------------------------------

test_exact_path_matches if {
	decide(req(["readers"], "GET", "/items")) == allowed("read_items")
}

test_path_segments_are_case_sensitive if {
	decide(req(["readers"], "GET", "/Items")) == no_route
}

test_trailing_slash_does_not_match if {
	decide(req(["readers"], "GET", "/items/")) == no_route
}

test_longer_path_does_not_match_exact_route if {
	decide(req(["writers"], "POST", "/items/x")) == no_route
}

test_prefix_of_a_segment_does_not_match if {
	decide(req(["readers"], "GET", "/itemsx")) == no_route
}

test_root_path_matches_only_the_root_route if {
	matched_with_routes(root_routes, "/") == {"root"}
	matched_with_routes(root_routes, "//") == set()
	matched_with_routes(root_routes, "/x") == {"everything"}
}

# --- "*" segment -------------------------------------------------------------

test_star_matches_one_segment if {
	decide(req(["readers"], "GET", "/items/42")) == allowed("read_item")
}

test_star_does_not_match_an_empty_segment if {
	matched(req([], "GET", "/items/")) == set()
}

test_star_does_not_match_two_segments if {
	matched(req([], "GET", "/items/42/43")) == set()
}

test_several_stars if {
	decide(user_req("alice", [], "GET", "/items/1/parts/2")) == allowed("read_item_part")
	decide(user_req("alice", [], "GET", "/items/1/parts")) == no_route
	decide(user_req("alice", [], "GET", "/items/1/parts/2/3")) == no_route
}

test_literal_star_in_request_is_one_segment if {
	decide(req(["readers"], "GET", "/items/*")) == allowed("read_item")
}

# --- trailing "/**" ------------------------------------------------------------

test_double_star_matches_one_segment if {
	decide(req(["files"], "GET", "/files/a")) == allowed("read_files")
}

test_double_star_matches_many_segments if {
	decide(req(["files"], "GET", "/files/a/b/c.txt")) == allowed("read_files")
}

test_double_star_needs_at_least_one_segment if {
	matched(req([], "GET", "/files")) == set()
}

test_double_star_does_not_match_trailing_slash if {
	matched(req([], "GET", "/files/")) == set()
	matched(req([], "GET", "/files/a/")) == set()
}

test_double_star_checks_its_prefix if {
	matched(req([], "GET", "/filesx/a")) == set()
}

test_bare_double_star_matches_any_non_root_path if {
	matched_with_routes(root_routes, "/x/y") == {"everything"}
	matched_with_routes(root_routes, "/x/") == set()
}

# --- methods -------------------------------------------------------------------

test_method_selects_the_route if {
	decide(req(["writers"], "POST", "/items")) == allowed("write_items")
	decide(req(["readers"], "POST", "/items")) == missing("write_items")
}

test_unknown_method_is_no_route if {
	decide(req(["admins"], "PATCH", "/items")) == no_route
}

test_request_method_is_case_sensitive if {
	decide(req(["admins"], "get", "/items")) == no_route
}

test_route_method_is_upper_cased if {
	d := authz.decision with input as req(["readers"], "GET", "/items")
		with data.certgate.routes as [{"permission": "read_items", "method": "get", "path": "/items"}]
		with data.certgate.groups as groups
	d == allowed("read_items")
}

test_star_method_matches_every_method if {
	every m in ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"] {
		decide(req(["any"], m, "/anything")) == allowed("any_method")
	}
}

# --- permissions held ------------------------------------------------------------

test_group_grant if {
	decide(req(["readers"], "GET", "/items/1")) == allowed("read_item")
}

test_unknown_group_holds_nothing if {
	decide(req(["nobody"], "GET", "/items")) == missing("read_items")
}

test_no_groups_hold_nothing if {
	decide(req([], "GET", "/items")) == missing("read_items")
}

test_user_grant if {
	decide(user_req("alice", [], "GET", "/items/1/parts/2")) == allowed("read_item_part")
}

test_user_grant_is_per_user if {
	decide(user_req("bob", [], "GET", "/items/1/parts/2")) == missing("read_item_part")
}

test_user_and_group_grants_are_united if {
	held(user_req("alice", ["writers"], "GET", "/")) == {"read_item_part", "write_items"}
}

test_several_groups_are_united if {
	decide(req(["readers", "writers"], "GET", "/items")) == allowed("read_items")
	decide(req(["readers", "writers"], "POST", "/items")) == allowed("write_items")
	decide(req(["nobody", "writers"], "POST", "/items")) == allowed("write_items")
}

test_star_grants_every_permission if {
	decide(req(["admins"], "GET", "/items")) == allowed("read_items")
	decide(req(["admins"], "POST", "/items")) == allowed("write_items")
	decide(req(["admins"], "GET", "/files/x")) == allowed("read_files")
}

test_star_held_through_a_user if {
	d := authz.decision with input as user_req("root", [], "POST", "/items")
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as {"root": ["*"]}
	d == allowed("write_items")
}

test_star_does_not_create_routes if {
	decide(req(["admins"], "DELETE", "/items")) == no_route
}

test_authenticated_is_allowed_for_any_identity if {
	decide(req([], "GET", "/status")) == {
		"allow": true,
		"status": 200,
		"reason": "authenticated",
		"permission": "authenticated",
		"headers": {"x-certgate-permission": "authenticated"},
		"response_headers": {},
	}
}

# --- a certificate without a CN (user "") --------------------------------------------

# users_with_empty names a user entry "": a data file that has one must
# still grant nothing to certificates without a CN.
users_with_empty := {"": ["write_items", "*"], "alice": ["read_item_part"]}

decide_empty_user(identity_groups, method, path) := d if {
	d := authz.decision with input as user_req("", identity_groups, method, path)
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as users_with_empty
}

test_no_user_holds_no_user_entry if {
	decide_empty_user([], "POST", "/items") == missing("write_items")
	decide_empty_user([], "GET", "/items/1/parts/2") == missing("read_item_part")
}

test_no_user_keeps_its_group_grants if {
	decide_empty_user(["writers"], "POST", "/items") == allowed("write_items")
	decide_empty_user(["readers"], "GET", "/items/1") == allowed("read_item")
}

test_no_user_is_still_authenticated if {
	decide_empty_user([], "GET", "/status").reason == "authenticated"
}

test_no_user_holds_only_its_groups if {
	h := authz.held with input as user_req("", ["writers"], "GET", "/")
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as users_with_empty
	h == {"write_items"}
	g := authz.granted_permissions with input as user_req("", [], "GET", "/")
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as users_with_empty
	g == {"authenticated"}
}

# --- several matched routes --------------------------------------------------------

test_several_matches_allow_when_any_is_held if {
	decide(req(["zeta_only"], "GET", "/shared")) == allowed("zeta")
}

test_several_matches_report_first_granted_in_sort_order if {
	decide(req(["shared"], "GET", "/shared")) == allowed("alpha")
}

test_several_matches_report_first_missing_in_sort_order if {
	decide(req([], "GET", "/shared")) == missing("alpha")
}

test_star_and_double_star_can_both_match if {
	matched(req([], "GET", "/shared/x")) == {"mid", "other"}
	decide(req(["shared"], "GET", "/shared/x")) == allowed("mid")
	decide(req(["shared"], "GET", "/shared/x/y")) == allowed("other")
}

test_granted_beats_missing_in_sort_order if {
	# "mid" sorts before "other"; only "other" is held.
	d := authz.decision with input as req(["other_only"], "GET", "/shared/x")
		with data.certgate.routes as routes
		with data.certgate.groups as {"other_only": ["other"]}
	d == allowed("other")
}

# --- shipped example data (data.json) ------------------------------------------------

shipped(user, identity_groups, method, path) := d if {
	d := authz.decision with input as user_req(user, identity_groups, method, path)
}

test_shipped_admin_may_do_anything if {
	shipped("admin", ["admins"], "DELETE", "/api/v1/node") == allowed("delete_node")
	shipped("admin", ["admins"], "PUT", "/api/v1/permission-groups/ops") == allowed("update_permission_groups")
	shipped("admin", ["admins"], "GET", "/registry/files/a/b") == allowed("download_file")
}

test_shipped_admin_still_needs_a_route if {
	shipped("admin", ["admins"], "GET", "/api/v1/nope") == no_route
	shipped("admin", ["admins"], "GET", "/api/v1/vm/") == no_route
}

test_shipped_status_is_open_to_every_identity if {
	shipped("stranger", [], "GET", "/api/v1/status").reason == "authenticated"
}

test_shipped_viewer_reads if {
	shipped("viewer", ["viewers"], "GET", "/api/v1/vm") == allowed("list_vms")
	shipped("viewer", ["viewers"], "GET", "/registry/vm") == allowed("list_vms")
	shipped("viewer", ["viewers"], "GET", "/api/v1/logs/controller/today") == allowed("view_logs")
}

test_shipped_viewer_cannot_write if {
	shipped("viewer", ["viewers"], "POST", "/api/v1/vm") == missing("start_vm")
	shipped("viewer", ["viewers"], "DELETE", "/api/v1/vm") == missing("terminate_vm")
	shipped("viewer", ["viewers"], "POST", "/registry/push/base") == missing("push_vm")
}

test_shipped_jenkins_distributes_through_its_user_entry if {
	shipped("jenkins", ["ci"], "POST", "/api/v1/registry/vm/distribute") == allowed("registry_distribute")
	shipped("jenkins", ["ci"], "GET", "/api/v1/registry/vm/distribute") == allowed("registry_distribute_status")
	shipped("other-ci", ["ci"], "POST", "/api/v1/registry/vm/distribute") == missing("registry_distribute")
}

test_shipped_no_cn_gets_its_groups_only if {
	shipped("", ["viewers"], "GET", "/api/v1/vm") == allowed("list_vms")
	shipped("", ["ci"], "POST", "/api/v1/registry/vm/distribute") == missing("registry_distribute")
	shipped("", [], "GET", "/api/v1/status").reason == "authenticated"
	shipped("", [], "GET", "/api/v1/vm") == missing("list_vms")
}

test_shipped_ci_runs_vms_but_cannot_push if {
	shipped("jenkins", ["ci"], "POST", "/api/v1/vm") == allowed("start_vm")
	shipped("jenkins", ["ci"], "GET", "/registry/pull/base") == allowed("pull_vm")
	shipped("jenkins", ["ci"], "POST", "/registry/push/base") == missing("push_vm")
	shipped("jenkins", ["ci", "builders"], "POST", "/registry/push/base") == allowed("push_vm")
}

# --- input.route_candidates (the server's route index) --------------------------------

with_candidates(input_doc, candidates) := object.union(input_doc, {"route_candidates": candidates})

test_candidates_replace_the_table if {
	# The table has GET /items, but the index offered nothing.
	decide(with_candidates(req(["readers"], "GET", "/items"), [])) == no_route
}

test_candidates_give_the_decision_the_table_gives if {
	every path in ["/items", "/items/1", "/shared", "/shared/x", "/shared/x/y", "/files/a/b"] {
		matching := [r | some r in routes; r.path == path]
		candidates := array.concat(matching, [r | some r in routes; endswith(r.path, "*")])
		doc := req(["readers", "shared", "files"], "GET", path)
		decide(with_candidates(doc, candidates)) == decide(doc)
	}
}

test_candidates_are_still_matched if {
	# Offered routes that do not match the request are not matched.
	decide(with_candidates(req(["readers"], "GET", "/items"), routes)) == allowed("read_items")
	matched(with_candidates(req([], "GET", "/items"), [
		{"permission": "read_item", "method": "GET", "path": "/items/*"},
		{"permission": "write_items", "method": "POST", "path": "/items"},
	])) == set()
}

test_candidates_that_are_not_an_array_are_ignored if {
	decide(with_candidates(req(["readers"], "GET", "/items"), "all")) == allowed("read_items")
	decide(with_candidates(req(["readers"], "GET", "/items"), null)) == allowed("read_items")
}

test_matched_routes_are_the_route_objects if {
	m := authz.matched_routes with input as req([], "GET", "/shared/x")
		with data.certgate.routes as routes
	m == {
		{"permission": "mid", "method": "GET", "path": "/shared/*"},
		{"permission": "other", "method": "GET", "path": "/shared/**"},
	}
}

# --- granted_permissions (the admin API) --------------------------------------------------

granted(input_doc) := g if {
	g := authz.granted_permissions with input as input_doc
		with data.certgate.routes as routes
		with data.certgate.groups as groups
		with data.certgate.users as users
}

test_granted_lists_the_group_permissions_and_authenticated if {
	granted(req(["readers"], "GET", "/")) == {"authenticated", "read_items", "read_item"}
}

test_granted_unites_groups_and_the_user_entry if {
	granted(user_req("alice", ["writers"], "GET", "/")) == {"authenticated", "write_items", "read_item_part"}
}

test_granted_is_authenticated_alone_for_an_unknown_identity if {
	granted(req(["nobody"], "GET", "/")) == {"authenticated"}
}

test_granted_star_is_every_permission_a_route_names if {
	granted(req(["admins"], "GET", "/")) == {r.permission | some r in routes}
}

test_granted_does_not_depend_on_the_request if {
	granted(req(["readers"], "POST", "/items")) == granted(req(["readers"], "GET", "/nowhere"))
}

test_granted_includes_held_permissions_no_route_names if {
	g := authz.granted_permissions with input as req(["ops"], "GET", "/")
		with data.certgate.routes as routes
		with data.certgate.groups as {"ops": ["restart"]}
	g == {"authenticated", "restart"}
}

test_shipped_granted_for_viewers if {
	g := authz.granted_permissions with input as req(["viewers"], "GET", "/")
	g == {"authenticated", "list_vms", "list_nodes", "get_groups", "view_logs", "registry_list"}
}
