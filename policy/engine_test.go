package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
)

func loadShipped(tb testing.TB) *Engine {
	tb.Helper()
	e, err := Load(tb.Context(), "")
	if err != nil {
		tb.Fatalf("Load(shipped): %v", err)
	}
	return e
}

func request(user string, groups []string, method, path string) *Input {
	return &Input{
		Identity: &identity.Identity{User: user, Groups: groups, Source: identity.SourceEnvoy},
		Request:  Request{Method: method, Path: path, RawPath: path, Scheme: "https", Host: "anka.example"},
	}
}

func allowed(permission string) Decision {
	return Decision{
		Allow: true, Status: 200, Reason: "granted", Permission: permission,
		Headers: map[string]string{"x-certgate-permission": permission},
	}
}

func missing(permission string) Decision {
	return Decision{Status: 403, Reason: "missing_permission", Permission: permission}
}

var noRoute = Decision{Status: 403, Reason: "no_route"}

func TestShippedPolicyDecides(t *testing.T) {
	e := loadShipped(t)
	tests := []struct {
		name string
		in   *Input
		want Decision
	}{
		{"admin may delete a node", request("admin", []string{"admins"}, "DELETE", "/api/v1/node"), allowed("delete_node")},
		{"admin may update a permission group", request("admin", []string{"admins"}, "PUT", "/api/v1/permission-groups/ops"), allowed("update_permission_groups")},
		{"admin still needs a route", request("admin", []string{"admins"}, "GET", "/api/v1/unknown"), noRoute},
		{"a trailing slash is another route", request("admin", []string{"admins"}, "GET", "/api/v1/vm/"), noRoute},
		{"status is open to any identity", request("stranger", nil, "GET", "/api/v1/status"), Decision{
			Allow: true, Status: 200, Reason: "authenticated", Permission: "authenticated",
			Headers: map[string]string{"x-certgate-permission": "authenticated"},
		}},
		{"viewer lists vms", request("viewer", []string{"viewers"}, "GET", "/api/v1/vm"), allowed("list_vms")},
		{"viewer reads logs below /**", request("viewer", []string{"viewers"}, "GET", "/api/v1/logs/controller/2024-01-01"), allowed("view_logs")},
		{"viewer cannot start a vm", request("viewer", []string{"viewers"}, "POST", "/api/v1/vm"), missing("start_vm")},
		{"viewer cannot delete from the registry", request("viewer", []string{"viewers"}, "DELETE", "/registry/vm/base"), missing("delete_vm")},
		{"jenkins distributes through its user entry", request("jenkins", []string{"ci"}, "POST", "/api/v1/registry/vm/distribute"), allowed("registry_distribute")},
		{"another ci user cannot distribute", request("runner", []string{"ci"}, "POST", "/api/v1/registry/vm/distribute"), missing("registry_distribute")},
		{"ci starts vms", request("runner", []string{"ci"}, "POST", "/api/v1/vm"), allowed("start_vm")},
		{"ci pulls from the registry", request("runner", []string{"ci"}, "GET", "/registry/pull/base-image"), allowed("pull_vm")},
		{"ci cannot push", request("runner", []string{"ci"}, "POST", "/registry/push/base-image"), missing("push_vm")},
		{"groups are united", request("runner", []string{"ci", "builders"}, "POST", "/registry/push/base-image"), allowed("push_vm")},
		{"no group holds nothing", request("nobody", nil, "GET", "/api/v1/vm"), missing("list_vms")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Decide(t.Context(), tt.in)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide(%s %s) mismatch (-want +got):\n%s", tt.in.Request.Method, tt.in.Request.Path, diff)
			}
		})
	}
}

func TestLoadDirectoryListsOnlyServedFiles(t *testing.T) {
	e, err := Load(t.Context(), filepath.Join("..", "rego"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// The _test.rego files and the Go files sit in the same directory and must not be loaded.
	want := []string{filepath.Join("..", "rego", "admin.rego"), filepath.Join("..", "rego", "authz.rego"), filepath.Join("..", "rego", "data.json")}
	if diff := cmp.Diff(want, e.Files()); diff != "" {
		t.Errorf("Files() mismatch (-want +got):\n%s", diff)
	}
	shipped := loadShipped(t)
	if diff := cmp.Diff([]string{"admin.rego", "authz.rego", "data.json"}, shipped.Files()); diff != "" {
		t.Errorf("embedded Files() mismatch (-want +got):\n%s", diff)
	}
}

const minimalPolicy = `package certgate.authz

decision := {
	"allow": allow,
	"status": 403,
	"reason": "test",
	"permission": "",
	"headers": {},
	"response_headers": {},
}

default allow := false

allow if input.identity.user in data.certgate.users
`

func TestLoadPlacesDataByDirectory(t *testing.T) {
	fsys := fstest.MapFS{
		"policy/authz.rego":          {Data: []byte(minimalPolicy)},
		"certgate/users/data.yaml":   {Data: []byte("- alice\n")},
		"certgate/README.md":         {Data: []byte("not data")},
		"..data/broken.rego":         {Data: []byte("package broken\nthis is not rego")},
		"policy/.hidden.json":        {Data: []byte("{not json")},
		"policy/authz_test.rego":     {Data: []byte("package certgate.authz_test\nthis is not rego either")},
		"certgate/nested/other.json": {Data: []byte(`{"x": 1}`)},
	}
	e, err := LoadFS(t.Context(), fsys)
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	wantFiles := []string{"certgate/nested/other.json", "certgate/users/data.yaml", "policy/authz.rego"}
	if diff := cmp.Diff(wantFiles, e.Files()); diff != "" {
		t.Errorf("Files() mismatch (-want +got):\n%s", diff)
	}
	got, err := e.Decide(t.Context(), request("alice", nil, "GET", "/"))
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if !got.Allow {
		t.Errorf("Decide(alice) = %+v, want allow: certgate/users/data.yaml should be data.certgate.users", got)
	}
}

func TestLoadFails(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string // substrings of the error
	}{
		{
			name:  "a syntax error names file and line",
			files: fstest.MapFS{"authz.rego": {Data: []byte("package certgate.authz\n\ndecision := {\n\t\"allow\": true,\n\t\"status\" 200,\n}\n")}},
			want:  []string{"authz.rego:5", "rego_parse_error"},
		},
		{
			name:  "a compile error names file and line",
			files: fstest.MapFS{"authz.rego": {Data: []byte("package certgate.authz\n\ndecision := x if {\n\tx == 1\n}\n")}},
			want:  []string{"authz.rego:4", "rego_unsafe_var_error"},
		},
		{
			name:  "a policy without a decision",
			files: fstest.MapFS{"authz.rego": {Data: []byte("package certgate.authz\n\nallow := true\n")}},
			want:  []string{"data.certgate.authz.decision is undefined"},
		},
		{
			name:  "a decision defined only for some requests",
			files: fstest.MapFS{"authz.rego": {Data: []byte(strings.Replace(minimalPolicy, "default allow := false", "", 1))}},
			want:  []string{"check . with GET /", "data.certgate.authz.decision is undefined"},
		},
		{
			name:  "a status written as a string",
			files: fstest.MapFS{"authz.rego": {Data: []byte(strings.Replace(minimalPolicy, `"status": 403`, `"status": "403"`, 1))}},
			want:  []string{"decision.status is string, want number"},
		},
		{
			name:  "a decision without response_headers",
			files: fstest.MapFS{"authz.rego": {Data: []byte(strings.Replace(minimalPolicy, `"response_headers": {},`, "", 1))}},
			want:  []string{"want all"},
		},
		{
			name:  "a header name copied from the identity is refused when the samples produce it",
			files: fstest.MapFS{"authz.rego": {Data: []byte(strings.Replace(minimalPolicy, `"response_headers": {},`, `"response_headers": {sprintf("x-user %s", [input.identity.user]): "1"},`, 1))}},
			want:  []string{"check . with GET /", `decision.response_headers has the name "x-user certgate-load-check", which is not an HTTP header name`},
		},
		{
			name: "bad JSON data names the file",
			files: fstest.MapFS{
				"authz.rego":         {Data: []byte(minimalPolicy)},
				"certgate/data.json": {Data: []byte(`{"users": [`)},
			},
			want: []string{"certgate/data.json"},
		},
		{
			name: "bad YAML data names the file",
			files: fstest.MapFS{
				"authz.rego":    {Data: []byte(minimalPolicy)},
				"certgate.yaml": {Data: []byte("users: [alice\n")},
			},
			want: []string{"certgate.yaml"},
		},
		{
			name:  "no policy at all",
			files: fstest.MapFS{"data.json": {Data: []byte(`{}`)}},
			want:  []string{"no .rego files"},
		},
		{
			name:  "Rego v0 syntax",
			files: fstest.MapFS{"authz.rego": {Data: []byte("package certgate.authz\n\nallow { true }\n")}},
			want:  []string{"authz.rego:3", "rego_parse_error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := LoadFS(t.Context(), tt.files)
			if err == nil {
				t.Fatalf("LoadFS succeeded with files %v, want an error", e.Files())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadFS error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadDirectoryErrorNamesThePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "authz.rego"), []byte("package certgate.authz\n\ndecision :=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(t.Context(), dir)
	want := filepath.Join(dir, "authz.rego") + ":4"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Load error = %v, want it to contain %q", err, want)
	}
}

func TestLoadMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	if _, err := Load(t.Context(), dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Load(%s) error = %v, want one naming the directory", dir, err)
	}
}

func TestDecideFails(t *testing.T) {
	// The decision conflicts only for one path, so Load's samples pass and
	// the error surfaces at request time.
	conflict := minimalPolicy + `
decision := {"allow": true, "status": 200, "reason": "x", "permission": "", "headers": {}, "response_headers": {}} if input.request.path == "/boom"
`
	e, err := LoadFS(t.Context(), fstest.MapFS{"authz.rego": {Data: []byte(conflict)}})
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		in   *Input
		want string
	}{
		{"an evaluation error", t.Context(), request("alice", nil, "GET", "/boom"), "eval_conflict_error"},
		{"a canceled context", canceled, request("alice", nil, "GET", "/"), "cancel"},
		{"no input", t.Context(), nil, "no identity"},
		{"no identity", t.Context(), &Input{Request: Request{Method: "GET", Path: "/"}}, "no identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.Decide(tt.ctx, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decide = %+v, %v; want an error containing %q", d, err, tt.want)
			}
			if diff := cmp.Diff(Decision{}, d); diff != "" {
				t.Errorf("Decide returned a decision with its error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideConcurrently(t *testing.T) {
	e := loadShipped(t)
	cases := []struct {
		in   *Input
		want Decision
	}{
		{request("admin", []string{"admins"}, "DELETE", "/api/v1/node"), allowed("delete_node")},
		{request("viewer", []string{"viewers"}, "POST", "/api/v1/vm"), missing("start_vm")},
		{request("jenkins", []string{"ci"}, "GET", "/api/v1/registry/vm/distribute"), allowed("registry_distribute_status")},
		{request("runner", []string{"ci"}, "GET", "/nowhere"), noRoute},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				c := cases[(g+i)%len(cases)]
				got, err := e.Decide(t.Context(), c.in)
				if err != nil {
					t.Errorf("Decide: %v", err)
					return
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("Decide(%s %s) mismatch (-want +got):\n%s", c.in.Request.Method, c.in.Request.Path, diff)
					return
				}
			}
		})
	}
	wg.Wait()
}
