package policy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/certgate/certgate/identity"
)

// TestInputMatchesJSON checks that the input built directly as AST values is
// the document encoding/json would give for the same identity and request:
// the json tags of identity.Identity are the contract with policies, so a
// field added there and forgotten here fails this test.
func TestInputMatchesJSON(t *testing.T) {
	full := &identity.Identity{
		User:              "jenkins",
		Groups:            []string{"ci", "builders"},
		OrgUnits:          []string{"build"},
		Subject:           "CN=jenkins,OU=build,O=ci,O=builders",
		Issuer:            "CN=certgate dev CA",
		Serial:            "1f",
		FingerprintSHA256: "ab12",
		SANs: identity.SANs{
			DNS:   []string{"jenkins.example"},
			IP:    []string{"10.0.0.1"},
			Email: []string{"ci@example.com"},
			URI:   []string{"spiffe://example/jenkins"},
		},
		SPIFFEID:  "spiffe://example/jenkins",
		NotBefore: time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC),
		NotAfter:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
		Source:    identity.SourceXFCC,
	}
	tests := []struct {
		name string
		in   *Input
		// request is the expected input.request as JSON.
		request string
	}{
		{
			name: "every field set",
			in: &Input{Identity: full, Request: Request{
				Method: "GET", Path: "/registry/pull/base", RawPath: "/registry//pull/base?tag=a&tag=b",
				Query:   map[string][]string{"tag": {"a", "b"}, "x": {}},
				Headers: map[string]string{"user-agent": "curl", "x-request-id": "1"},
				Host:    "anka.example", Scheme: "https", Protocol: "HTTP/2",
			}},
			request: `{"method": "GET", "path": "/registry/pull/base", "raw_path": "/registry//pull/base?tag=a&tag=b",
				"query": {"tag": ["a", "b"], "x": []}, "headers": {"user-agent": "curl", "x-request-id": "1"},
				"host": "anka.example", "scheme": "https", "protocol": "HTTP/2"}`,
		},
		{
			name: "empty slices and maps are empty, not null",
			in:   &Input{Identity: &identity.Identity{User: "u"}, Request: Request{Method: "GET", Path: "/"}},
			request: `{"method": "GET", "path": "/", "raw_path": "", "query": {}, "headers": {},
				"host": "", "scheme": "", "protocol": ""}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := identityViaJSON(t, tt.in.Identity)
			want := ast.NewObject(
				[2]*ast.Term{ast.StringTerm("identity"), ast.NewTerm(id)},
				[2]*ast.Term{ast.StringTerm("request"), ast.MustParseTerm(tt.request)},
			)
			got := tt.in.value()
			if want.Compare(got) != 0 {
				t.Errorf("input mismatch:\n got: %v\nwant: %v", got, want)
			}
		})
	}
}

// identityViaJSON is the identity as encoding/json sees it, with the null
// that a nil slice marshals to replaced by the empty array value() gives.
func identityViaJSON(t *testing.T, id *identity.Identity) ast.Value {
	t.Helper()
	bs, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(bs, &doc); err != nil {
		t.Fatal(err)
	}
	nullToEmpty(doc)
	v, err := ast.InterfaceToValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func nullToEmpty(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			m[k] = []any{}
		case map[string]any:
			nullToEmpty(v)
		}
	}
}
