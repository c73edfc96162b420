package policy

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
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
	if len(perms) != 38 {
		t.Errorf("Permissions has %d entries, want 38 (one per distinct permission of data.json): %v", len(perms), names)
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
			Name:   "authenticated",
			Routes: []Route{{"GET", "/api/v1/status"}},
			Groups: []string{"admins"},
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
