package policy

import (
	"encoding/json"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	shipped "github.com/certgate/certgate/rego"
)

func TestPermissionsOfTheShippedData(t *testing.T) {
	perms, err := loadShipped(t).Permissions(t.Context())
	if err != nil {
		t.Fatalf("Permissions: %v", err)
	}
	byName := map[string]Permission{}
	var names []string
	for _, p := range perms {
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	if want := distinctShippedPermissions(t); len(perms) != want {
		t.Errorf("Permissions has %d entries, want %d (one per distinct permission of data.json): %v", len(perms), want, names)
	}
	tests := []Permission{
		{
			Name:   "list_vms",
			Routes: []Route{{"GET", "/api/v1/vm"}, {"GET", "/registry/vm"}},
			Groups: []string{"admins", "builders", "ci", "viewers"},
		},
		{
			Name:   "registry_distribute",
			Routes: []Route{{"POST", "/api/v1/registry/vm/distribute"}},
			Groups: []string{"admins"},
			Users:  []string{"jenkins"},
		},
		{
			Name:     "authenticated",
			Routes:   []Route{{"GET", "/api/v1/status"}},
			Everyone: true,
		},
	}
	for _, want := range tests {
		if diff := cmp.Diff(want, byName[want.Name]); diff != "" {
			t.Errorf("Permission %s mismatch (-want +got):\n%s", want.Name, diff)
		}
	}
	if _, ok := byName["*"]; ok {
		t.Error(`"*" is listed as a permission`)
	}
	// The result is a copy: changing it does not change the Engine's.
	perms[0].Groups = append(perms[0].Groups[:0], "changed")
	again, _ := loadShipped(t).Permissions(t.Context())
	if again[0].Groups[0] == "changed" {
		t.Error("Permissions returned the Engine's own slices")
	}
}

func TestPermissionsNamedOnlyByHolders(t *testing.T) {
	e, err := LoadFS(t.Context(), fstest.MapFS{
		"authz.rego": {Data: []byte(minimalPolicy)},
		"data.json": {Data: []byte(`{"certgate": {
			"routes": [{"permission": "read", "method": "GET", "path": "/r"}, {"permission": "odd", "method": 1, "path": "/"}],
			"groups": {"ops": ["restart", "read"], "bad": "not a list"},
			"users": {"root": ["*"], "bob": [1, "restart"]}
		}}`)},
	})
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	got, err := e.Permissions(t.Context())
	if err != nil {
		t.Fatalf("Permissions: %v", err)
	}
	want := []Permission{
		{Name: "read", Routes: []Route{{"GET", "/r"}}, Groups: []string{"ops"}, Users: []string{"root"}},
		{Name: "restart", Groups: []string{"ops"}, Users: []string{"bob", "root"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Permissions mismatch (-want +got):\n%s", diff)
	}
}

// distinctShippedPermissions counts the permission names data.json uses in
// routes, groups and users, "*" aside.
func distinctShippedPermissions(t *testing.T) int {
	t.Helper()
	raw, err := fs.ReadFile(shipped.Default, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Certgate struct {
			Routes []struct{ Permission string } `json:"routes"`
			Groups map[string][]string           `json:"groups"`
			Users  map[string][]string           `json:"users"`
		} `json:"certgate"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range data.Certgate.Routes {
		seen[r.Permission] = true
	}
	for _, holders := range []map[string][]string{data.Certgate.Groups, data.Certgate.Users} {
		for _, perms := range holders {
			for _, p := range perms {
				seen[p] = true
			}
		}
	}
	delete(seen, "*")
	return len(seen)
}
