package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPermissionsListsAuthenticatedOnceAsHeldByEveryone: the pseudo-
// permission every authenticated identity holds is not listed under the
// groups that hold "*", as if only they held it.
func TestPermissionsListsAuthenticatedOnceAsHeldByEveryone(t *testing.T) {
	s := startDev(t)
	code, stdout, stderr := runCLI("permissions", "--admin", s.admin)
	if code != exitOK {
		t.Fatalf("permissions: exit %d\n%s", code, stderr)
	}
	_, rest, _ := strings.Cut(stdout, "\nauthenticated\n")
	var block string // the lines of authenticated, up to the next permission
	for _, line := range strings.SplitAfter(rest, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		block += line
	}
	if want := "  route  GET /api/v1/status\n  held by every authenticated identity\n"; block != want {
		t.Errorf("authenticated is listed as\n%s\nwant %q and no groups:\n%s", block, want, stdout)
	}
	if !strings.Contains(stdout, "list_vms\n  route  GET /api/v1/vm\n  route  GET /registry/vm\n  groups admins, builders, ci, viewers\n") {
		t.Errorf("list_vms is not listed with its groups:\n%s", stdout)
	}
	code, stdout, stderr = runCLI("permissions", "--admin", s.admin, "--json")
	if code != exitOK {
		t.Fatalf("permissions --json: exit %d\n%s", code, stderr)
	}
	var got struct {
		Permissions []struct {
			Name                       string   `json:"name"`
			Groups                     []string `json:"groups"`
			EveryAuthenticatedIdentity bool     `json:"every_authenticated_identity"`
		} `json:"permissions"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	for _, p := range got.Permissions {
		if everyone := p.Name == "authenticated"; p.EveryAuthenticatedIdentity != everyone || (everyone && len(p.Groups) > 0) {
			t.Errorf("%s: every authenticated identity %v, groups %v", p.Name, p.EveryAuthenticatedIdentity, p.Groups)
		}
	}
}
