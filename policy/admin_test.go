package policy

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/certgate/certgate/identity"
	shipped "github.com/certgate/certgate/rego"
)

var adminMethods = []string{"GetStatus", "Reload", "Explain", "ListPermissions"}

func TestShippedAdminRuleGrantsAdminsOnly(t *testing.T) {
	e := loadShipped(t)
	if !e.AdminDefined() {
		t.Fatal("the shipped policy does not define " + AdminQuery)
	}
	for _, tt := range []struct {
		user   string
		groups []string
		want   bool
	}{
		{"admin", []string{"admins"}, true},
		{"viewer", []string{"viewers"}, false},
		{"jenkins", []string{"ci"}, false},
		{"builder", []string{"builders", "viewers"}, false},
		{"nobody", nil, false},
	} {
		for _, m := range adminMethods {
			got, err := e.AllowAdmin(t.Context(), &identity.Identity{User: tt.user, Groups: tt.groups}, m)
			if err != nil || got != tt.want {
				t.Errorf("AllowAdmin(%s %v, %s) = %v, %v; want %v", tt.user, tt.groups, m, got, err, tt.want)
			}
		}
	}
}

// TestAdminRuleIgnoresTheRouteTable: a catch-all route for
// "authenticated", a route naming the admin service and the application's
// "*" grant give no admin call.
func TestAdminRuleIgnoresTheRouteTable(t *testing.T) {
	authz, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := shipped.Default.ReadFile("admin.rego")
	if err != nil {
		t.Fatal(err)
	}
	data := `{"certgate": {
		"routes": [
			{"permission": "authenticated", "method": "*", "path": "/**"},
			{"permission": "certgate_admin", "method": "POST", "path": "/certgate.admin.v1.AdminService/*"}
		],
		"groups": {"app-admins": ["*"], "viewers": ["certgate_admin"]},
		"users": {"root": ["*"]},
		"admin": {"groups": {"ops": ["GetStatus"]}}
	}}`
	e, err := LoadFS(t.Context(), fstest.MapFS{
		"authz.rego": {Data: authz}, "admin.rego": {Data: admin}, "data.json": {Data: []byte(data)},
	})
	if err != nil {
		t.Fatal(err)
	}
	viewer := &identity.Identity{User: "viewer", Groups: []string{"viewers"}}
	// The catch-all route does allow the data-plane request ...
	d, err := e.Decide(t.Context(), &Input{Identity: viewer, Request: Request{Method: "POST", Path: "/certgate.admin.v1.AdminService/Reload"}})
	if err != nil || !d.Allow {
		t.Fatalf("data-plane decision %+v, %v; want the catch-all to allow", d, err)
	}
	// ... and grants no admin method.
	for _, id := range []*identity.Identity{viewer, {User: "root", Groups: []string{"app-admins"}}, {User: "x"}} {
		for _, m := range adminMethods {
			if ok, err := e.AllowAdmin(t.Context(), id, m); ok || err != nil {
				t.Errorf("AllowAdmin(%s, %s) = %v, %v; want false", id.User, m, ok, err)
			}
		}
	}
	ops := &identity.Identity{User: "o", Groups: []string{"ops"}}
	if ok, _ := e.AllowAdmin(t.Context(), ops, "GetStatus"); !ok {
		t.Error("ops may not GetStatus")
	}
	if ok, _ := e.AllowAdmin(t.Context(), ops, "Reload"); ok {
		t.Error("ops may Reload, granted GetStatus only")
	}
}

func TestAdminRuleFailsClosed(t *testing.T) {
	for _, tt := range []struct {
		name    string
		files   fstest.MapFS
		defined bool
		wantErr string
	}{
		{"a policy without the rule", fstest.MapFS{"authz.rego": {Data: []byte(minimalPolicy)}}, false, "undefined"},
		{"a rule that is not a boolean", fstest.MapFS{
			"authz.rego": {Data: []byte(minimalPolicy)},
			"admin.rego": {Data: []byte("package certgate.admin\n\nallow := \"yes\"\n")},
		}, true, "want boolean"},
		{"a rule undefined for this input", fstest.MapFS{
			"authz.rego": {Data: []byte(minimalPolicy)},
			"admin.rego": {Data: []byte("package certgate.admin\n\nallow if input.method == \"Nope\"\n")},
		}, true, "undefined"},
		{"a rule that fails", fstest.MapFS{
			"authz.rego": {Data: []byte(minimalPolicy)},
			"admin.rego": {Data: []byte("package certgate.admin\n\nallow := x if {\n\tx := {\"a\": 1}[input.method]\n} else := y if {\n\ty := 1 / 0\n}\n")},
		}, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := LoadFS(t.Context(), tt.files)
			if err != nil {
				t.Fatal(err)
			}
			if e.AdminDefined() != tt.defined {
				t.Errorf("AdminDefined = %v, want %v", e.AdminDefined(), tt.defined)
			}
			ok, err := e.AllowAdmin(t.Context(), &identity.Identity{User: "admin", Groups: []string{"admins"}}, "Reload")
			if ok || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("AllowAdmin = %v, %v; want false and an error containing %q", ok, err, tt.wantErr)
			}
			if tt.wantErr == "undefined" && !errors.Is(err, ErrUndefined) {
				t.Errorf("error %v does not wrap ErrUndefined", err)
			}
		})
	}
}

func TestAdminRuleMayBeData(t *testing.T) {
	e, err := LoadFS(t.Context(), fstest.MapFS{
		"authz.rego": {Data: []byte(minimalPolicy)},
		"data.json":  {Data: []byte(`{"certgate": {"admin": {"allow": true}}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !e.AdminDefined() {
		t.Error("AdminDefined = false for data.certgate.admin.allow in data")
	}
	if ok, err := e.AllowAdmin(t.Context(), &identity.Identity{User: "x"}, "GetStatus"); !ok || err != nil {
		t.Errorf("AllowAdmin = %v, %v; want true", ok, err)
	}
}
