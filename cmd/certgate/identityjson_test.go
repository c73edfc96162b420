package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/identity"
)

// TestEveryCommandWritesOneIdentityShape: verify, decide, explain and pki
// inspect write an identity with the same keys (SANs under sans), as their
// golden outputs (TestJSONOutputsShareOneStyle) show.
func TestEveryCommandWritesOneIdentityShape(t *testing.T) {
	read := func(name string) map[string]any {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", "json", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	keys := func(v any) []string {
		m, _ := v.(map[string]any)
		var out []string
		for k, e := range m {
			out = append(out, k)
			if sub, ok := e.(map[string]any); ok {
				for sk := range sub {
					out = append(out, k+"."+sk)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	want := keys(read("verify"))
	inspected, _ := read("pki-inspect-cert")["certificates"].([]any)
	if len(inspected) == 0 {
		t.Fatal("pki-inspect-cert.json has no certificates")
	}
	for name, id := range map[string]any{
		"decide":           read("decide")["identity"],
		"explain":          read("explain")["identity"],
		"explain-allow":    read("explain-allow")["identity"],
		"pki-inspect-cert": inspected[0].(map[string]any)["identity"],
	} {
		if diff := cmp.Diff(want, keys(id)); diff != "" {
			t.Errorf("%s's identity keys differ from verify's (-verify +%s):\n%s", name, name, diff)
		}
	}
}

// TestExplainJSONNestsTheSANs: the admin API's flat Identity is written
// as identity.Identity, every name in its place.
func TestExplainJSONNestsTheSANs(t *testing.T) {
	nb, na := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	msg := &adminv1.Identity{User: "jenkins", Groups: []string{"ci"}, Subject: "CN=jenkins,O=ci", Issuer: "CN=CA", Serial: "0a",
		FingerprintSha256: "ab", DnsNames: []string{"ci.example.com"}, IpAddresses: []string{"10.0.0.1"},
		EmailAddresses: []string{"ci@example.com"}, Uris: []string{"spiffe://example.com/ci"}, SpiffeId: "spiffe://example.com/ci",
		NotBefore: timestamppb.New(nb), NotAfter: timestamppb.New(na)}
	want := identity.Identity{User: "jenkins", Groups: []string{"ci"}, OrgUnits: []string{}, Subject: "CN=jenkins,O=ci", Issuer: "CN=CA", Serial: "0a",
		FingerprintSHA256: "ab", SANs: identity.SANs{DNS: []string{"ci.example.com"}, IP: []string{"10.0.0.1"}, Email: []string{"ci@example.com"}, URI: []string{"spiffe://example.com/ci"}},
		SPIFFEID: "spiffe://example.com/ci", NotBefore: nb, NotAfter: na}
	if diff := cmp.Diff(want, identityJSON(msg)); diff != "" {
		t.Errorf("identityJSON (-want +got):\n%s", diff)
	}
	out, err := adminJSON(&adminv1.ExplainResponse{Identity: msg})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Identity map[string]json.RawMessage `json:"identity"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if string(got.Identity["not_before"]) != `"2026-01-02T03:04:05Z"` || got.Identity["dns_names"] != nil || got.Identity["sans"] == nil {
		t.Errorf("explain's identity JSON:\n%s", out)
	}
}
