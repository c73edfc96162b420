package policy

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGranted(t *testing.T) {
	e := loadShipped(t)
	tests := []struct {
		name string
		in   *Input
		want []string
	}{
		{"a viewer", request("viewer", []string{"viewers"}, "GET", "/"),
			[]string{"authenticated", "get_groups", "list_nodes", "list_vms", "registry_list", "view_logs"}},
		{"jenkins adds its user entry to ci", request("jenkins", []string{"ci"}, "GET", "/"),
			[]string{"authenticated", "download_vm", "get_groups", "get_registry_disk_info", "list_nodes", "list_vms",
				"pull_vm", "registry_distribute", "registry_distribute_status", "registry_list", "start_vm",
				"terminate_vm", "update_vm", "view_logs"}},
		{"a stranger holds authenticated alone", request("stranger", nil, "GET", "/"), []string{"authenticated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Granted(t.Context(), tt.in)
			if err != nil {
				t.Fatalf("Granted: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Granted mismatch (-want +got):\n%s", diff)
			}
		})
	}
	admin, err := e.Granted(t.Context(), request("admin", []string{"admins"}, "GET", "/"))
	if err != nil {
		t.Fatal(err)
	}
	perms, _ := e.Permissions(t.Context())
	if len(admin) != len(perms) {
		t.Errorf("admin is granted %d permissions, want all %d", len(admin), len(perms))
	}
}

func TestGrantedUndefined(t *testing.T) {
	e := mustLoad(t, minimalPolicy)
	_, err := e.Granted(t.Context(), request("alice", nil, "GET", "/"))
	if !errors.Is(err, ErrUndefined) {
		t.Fatalf("Granted on a policy without granted_permissions = %v, want ErrUndefined", err)
	}
	if _, err := e.Granted(t.Context(), nil); err == nil {
		t.Error("Granted(nil) succeeded")
	}
}

func TestExplain(t *testing.T) {
	e := loadShipped(t)
	tests := []struct {
		name    string
		in      *Input
		want    Decision
		matched []string
	}{
		{"an allow names its route", request("admin", []string{"admins"}, "DELETE", "/api/v1/node"), allowed("delete_node"),
			[]string{"DELETE /api/v1/node -> delete_node"}},
		{"a deny names the routes it found", request("viewer", []string{"viewers"}, "POST", "/registry/files/a/b"), missing("upload_file"),
			[]string{"POST /registry/files/** -> upload_file"}},
		{"a route ending in /**", request("admin", []string{"admins"}, "GET", "/registry/files/a"), allowed("download_file"),
			[]string{"GET /registry/files/** -> download_file"}},
		{"no route", request("admin", []string{"admins"}, "GET", "/nowhere"), noRoute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, matched, trace, err := e.Explain(t.Context(), tt.in, false)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if diff := cmp.Diff(tt.want, d); diff != "" {
				t.Errorf("decision mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.matched, routeStrings(matched)); diff != "" {
				t.Errorf("matched routes mismatch (-want +got):\n%s", diff)
			}
			if trace != nil {
				t.Errorf("trace without asking: %d lines", len(trace))
			}
		})
	}
	if diff := cmp.Diff(CacheStats{}, e.CacheStats()); diff != "" {
		t.Errorf("Explain used the cache (-want +got):\n%s", diff)
	}
}

func TestExplainTrace(t *testing.T) {
	e := loadShipped(t)
	d, _, trace, err := e.Explain(t.Context(), request("viewer", []string{"viewers"}, "GET", "/api/v1/vm"), true)
	if err != nil {
		t.Fatalf("Explain: %v", err)
	}
	if !d.Allow {
		t.Errorf("decision = %+v, want allow", d)
	}
	text := strings.Join(trace, "\n")
	for _, want := range []string{"Enter data.certgate.authz.decision", "authz.rego:", "holds", "Exit data.certgate.authz.decision"} {
		if !strings.Contains(text, want) {
			t.Errorf("trace does not contain %q:\n%s", want, text)
		}
	}
}

func TestExplainWithoutMatchedRoutes(t *testing.T) {
	e := mustLoad(t, minimalPolicy)
	d, matched, _, err := e.Explain(t.Context(), request("alice", nil, "GET", "/"), false)
	if err != nil {
		t.Fatalf("Explain: %v", err)
	}
	if !d.Allow || matched != nil {
		t.Errorf("Explain = %+v, %v; want allow and no matched routes", d, matched)
	}
}

func TestAdminDocumentsOfAnotherShapeDoNotFailLoad(t *testing.T) {
	e := mustLoad(t, minimalPolicy+"\ngranted_permissions(x) := x\n\nmatched_routes(x) := x\n")
	if _, err := e.Decide(t.Context(), request("alice", nil, "GET", "/")); err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if _, err := e.Granted(t.Context(), request("alice", nil, "GET", "/")); err == nil {
		t.Error("Granted succeeded with granted_permissions a function")
	}
	if _, _, _, err := e.Explain(t.Context(), request("alice", nil, "GET", "/"), false); err == nil {
		t.Error("Explain succeeded with matched_routes a function")
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestExplainTraceGolden keeps the full trace of one decision in
// testdata/explain: a change to the shipped policy shows in review as a
// change to how it decides. Run with -update to rewrite it.
func TestExplainTraceGolden(t *testing.T) {
	e := loadShipped(t)
	_, matched, trace, err := e.Explain(t.Context(), request("viewer", []string{"viewers"}, "GET", "/registry/vm"), true)
	if err != nil {
		t.Fatalf("Explain: %v", err)
	}
	got := strings.Join(routeStrings(matched), "\n") + "\n\n" + strings.Join(trace, "\n") + "\n"
	golden := filepath.Join("testdata", "explain", "viewer_get_registry_vm.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("Explain trace differs from %s (-want +got); run with -update if the change is intended:\n%s", golden, diff)
	}
}

// routeStrings writes routes as "METHOD path -> permission".
func routeStrings(routes []MatchedRoute) []string {
	var out []string
	for _, r := range routes {
		out = append(out, r.String())
	}
	return out
}
