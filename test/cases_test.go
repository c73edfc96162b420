package test

import "net/http"

// decisionCase is one request and the decision users rely on. The gRPC, HTTP
// and NGINX suites all run this one table, so the adapters cannot drift.
type decisionCase struct {
	name       string
	client     string // a key of world.clients
	method     string
	target     string
	status     int
	permission string // the granted permission on allow, the missing one on 403
}

var decisionCases = []decisionCase{
	// Roles of the example data.
	{"admin may list VMs", "admin", "GET", "/api/v1/vm", http.StatusOK, "list_vms"},
	{"admin may delete nodes", "admin", "DELETE", "/api/v1/node", http.StatusOK, "delete_node"},
	{"admin may change the config", "admin", "PUT", "/api/v1/config", http.StatusOK, "change_config"},
	{"admin may push to the registry", "admin", "POST", "/registry/push/macos-15", http.StatusOK, "push_vm"},
	{"admin may download nested files", "admin", "GET", "/registry/download/a/b/c", http.StatusOK, "download_vm"},
	{"viewer may list VMs", "viewer", "GET", "/api/v1/vm", http.StatusOK, "list_vms"},
	{"viewer may not start a VM", "viewer", "POST", "/api/v1/vm", http.StatusForbidden, "start_vm"},
	{"viewer may read logs below /api/v1/logs", "viewer", "GET", "/api/v1/logs/controller/today", http.StatusOK, "view_logs"},
	{"jenkins may start a VM through group ci", "jenkins", "POST", "/api/v1/vm", http.StatusOK, "start_vm"},
	{"jenkins may distribute through its user grant", "jenkins", "POST", "/api/v1/registry/vm/distribute", http.StatusOK, "registry_distribute"},
	{"jenkins may not delete nodes", "jenkins", "DELETE", "/api/v1/node", http.StatusForbidden, "delete_node"},
	{"a member of two groups holds both groups' permissions", "builder", "POST", "/registry/push/img", http.StatusOK, "push_vm"},
	{"any valid certificate may read the status", "viewer", "GET", "/api/v1/status", http.StatusOK, "authenticated"},
	{"an unknown route is forbidden even to admins", "admin", "GET", "/api/v1/unknown", http.StatusForbidden, ""},
	{"a lower-case method matches no route", "viewer", "get", "/api/v1/vm", http.StatusForbidden, ""},
	{"the query does not change the route", "viewer", "GET", "/api/v1/vm?id=42&x=%2F", http.StatusOK, "list_vms"},

	// Not authenticated: every one of these is 401, whatever the route.
	{"a revoked certificate is not authenticated", "revoked", "GET", "/api/v1/vm", http.StatusUnauthorized, ""},
	{"an expired certificate is not authenticated", "expired", "GET", "/api/v1/vm", http.StatusUnauthorized, ""},
	{"a certificate of a foreign CA is not authenticated", "stranger", "GET", "/api/v1/vm", http.StatusUnauthorized, ""},
	{"a certificate below a revoked intermediate is not authenticated", "under-revoked-ca", "GET", "/api/v1/vm", http.StatusUnauthorized, ""},
	{"a serverAuth-only certificate is not a client certificate", "server-only", "GET", "/api/v1/vm", http.StatusUnauthorized, ""},

	// Path tricks are decided on the normalized path, or refused.
	{"dot-dot is resolved before matching", "viewer", "GET", "/api/v1/vm/../node", http.StatusOK, "list_nodes"},
	{"dot-dot cannot smuggle a forbidden route", "viewer", "DELETE", "/api/v1/vm/../node", http.StatusForbidden, "delete_node"},
	{"repeated slashes are merged", "viewer", "GET", "//api/v1//vm", http.StatusOK, "list_vms"},
	{"encoded dots are resolved like dots", "viewer", "DELETE", "/api/v1/vm/%2e%2e/node", http.StatusForbidden, "delete_node"},
	{"an encoded slash is refused", "admin", "GET", "/api/v1%2Fvm", http.StatusBadRequest, ""},
	{"dot-dot above the root is refused", "admin", "GET", "/../api/v1/vm", http.StatusBadRequest, ""},
	{"a double-encoded dot-dot stays literal and matches nothing", "admin", "GET", "/api/v1/%252e%252e/vm", http.StatusForbidden, ""},
}
