package trust_test

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// boundWorld is a root with a team intermediate constrained to
// team.example, a second unconstrained intermediate, and a second root
// that cross-signed the team intermediate's key.
type boundWorld struct {
	root, other   *pkitest.CA
	team, ops     *pkitest.CA
	teamCross     *pkitest.CA // the team CA's subject and key, signed by other
	dir, teamFile string
}

func newBoundWorld(t *testing.T) *boundWorld {
	root := pkitest.New(t, "root", clock)
	other := pkitest.New(t, "other root", clock)
	team := root.ChildCA("team CA", pkitest.PermittedDNS("team.example"))
	cross := other.ChildCA("team CA", pkitest.PermittedDNS("team.example"), pkitest.With(func(o *pki.Options) { o.Key = team.Key }))
	w := &boundWorld{root: root, other: other, team: team, ops: root.ChildCA("ops CA"), teamCross: cross, dir: t.TempDir()}
	w.teamFile = filepath.Join(w.dir, "team-ca.pem")
	if err := os.WriteFile(w.teamFile, team.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *boundWorld) store(t *testing.T, bindings []trust.Binding, inters ...*x509.Certificate) *trust.Store {
	t.Helper()
	if inters == nil {
		inters = []*x509.Certificate{w.team.Cert, w.ops.Cert}
	}
	s, err := trust.NewStore([]*x509.Certificate{w.root.Cert, w.other.Cert}, inters, nil, trust.CRLModeOff)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = s.WithBindings(bindings); err != nil {
		t.Fatal(err)
	}
	return s
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestCABindingsLimitWhatACAMayAssert(t *testing.T) {
	w := newBoundWorld(t)
	sans := pkitest.With(func(o *pki.Options) { o.DNSNames = []string{"api.team.example"} })
	teamOnly := trust.Binding{CAFile: "", AllowedUsers: []string{"team-*"}, AllowedGroups: []string{"team-dev", "team-ops"}}
	byFile, byFingerprint := teamOnly, teamOnly
	byFile.CAFile = w.teamFile
	byFingerprint.FingerprintSHA256 = strings.ToUpper(sha256Hex(w.team.Cert.Raw))
	onRoot := trust.Binding{FingerprintSHA256: sha256Hex(w.root.Cert.Raw), AllowedUsers: []string{"*"}, AllowedGroups: []string{"team-*"}}
	noCN := pkitest.Subject(t, pkix.RelativeDistinguishedNameSET{{Type: pkitest.OIDOrganization, Value: "team-dev"}})
	tests := []struct {
		name     string
		bindings []trust.Binding
		leaf     *x509.Certificate
		chain    []*x509.Certificate // presented after the leaf
		inters   []*x509.Certificate // configured; nil: team and ops
		want     trust.Reason
	}{
		{"an allowed user and group pass", []trust.Binding{byFile}, w.team.Leaf("team-alice", pkitest.Orgs("team-dev"), sans).Cert, nil, nil, ""},
		{"a CA bound by fingerprint binds the same way", []trust.Binding{byFingerprint}, w.team.Leaf("team-alice", pkitest.Orgs("team-dev", "team-ops"), sans).Cert, nil, nil, ""},
		{"admin with O=admins from the team CA is refused", []trust.Binding{byFile}, w.team.Leaf("admin", pkitest.Orgs("admins"), sans).Cert, nil, nil, trust.ReasonIdentityNotAllowed},
		{"an allowed user with a group not allowed is refused", []trust.Binding{byFile}, w.team.Leaf("team-alice", pkitest.Orgs("admins"), sans).Cert, nil, nil, trust.ReasonIdentityNotAllowed},
		{"one group not allowed among allowed ones is refused, not dropped", []trust.Binding{byFingerprint}, w.team.Leaf("team-alice", pkitest.Orgs("team-dev", "admins"), sans).Cert, nil, nil, trust.ReasonIdentityNotAllowed},
		{"a user not allowed is refused even without groups", []trust.Binding{byFile}, w.team.Leaf("jenkins", sans).Cert, nil, nil, trust.ReasonIdentityNotAllowed},
		{"a certificate without a CN is bound by its groups", []trust.Binding{byFile}, w.team.Leaf("", noCN, sans).Cert, nil, nil, ""},
		{"a pattern is anchored at both ends", []trust.Binding{byFile}, w.team.Leaf("xteam-alice", sans).Cert, nil, nil, trust.ReasonIdentityNotAllowed},
		{"group names are case-sensitive", []trust.Binding{byFile}, w.team.Leaf("team-alice", pkitest.Orgs("TEAM-DEV"), sans).Cert, nil, nil, trust.ReasonIdentityNotAllowed},
		{"another CA's leaves are not bound", []trust.Binding{byFile}, w.ops.Leaf("admin", pkitest.Orgs("admins")).Cert, nil, nil, ""},
		{"a binding on the root binds every CA below it", []trust.Binding{onRoot}, w.ops.Leaf("admin", pkitest.Orgs("admins")).Cert, nil, nil, trust.ReasonIdentityNotAllowed},
		{"a presented cross-signed copy of the bound CA is bound by its key", []trust.Binding{byFile}, w.team.Leaf("admin", pkitest.Orgs("admins"), sans).Cert,
			[]*x509.Certificate{w.teamCross.Cert}, []*x509.Certificate{w.ops.Cert}, trust.ReasonIdentityNotAllowed},
		{"a path through an unbound root does not lift the bound root's binding", []trust.Binding{onRoot}, w.team.Leaf("admin", pkitest.Orgs("admins"), sans).Cert,
			nil, []*x509.Certificate{w.team.Cert, w.teamCross.Cert}, trust.ReasonIdentityNotAllowed},
		{"without bindings the team CA may assert anything", nil, w.team.Leaf("admin", pkitest.Orgs("admins"), sans).Cert, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := w.store(t, tt.bindings, tt.inters...)
			_, err := s.Verify(append([]*x509.Certificate{tt.leaf}, tt.chain...), trust.VerifyOptions{Now: now})
			if got := reason(err); got != tt.want {
				t.Fatalf("Verify(%s) = %v; want reason %q", tt.leaf.Subject, err, tt.want)
			}
		})
	}
}

func TestCABindingsAreCheckedAtLoad(t *testing.T) {
	w := newBoundWorld(t)
	leafFile := filepath.Join(w.dir, "leaf.pem")
	if err := os.WriteFile(leafFile, w.team.Leaf("x").CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		binding trust.Binding
		want    string
	}{
		{"a fingerprint of no configured CA", trust.Binding{FingerprintSHA256: sha256Hex([]byte("nothing"))}, "names no configured CA"},
		{"both a file and a fingerprint", trust.Binding{CAFile: w.teamFile, FingerprintSHA256: sha256Hex(w.team.Cert.Raw)}, "not both"},
		{"neither a file nor a fingerprint", trust.Binding{AllowedUsers: []string{"*"}}, "name the CA"},
		{"a file that is not a CA", trust.Binding{CAFile: leafFile}, "not a CA certificate"},
		{"a missing file", trust.Binding{CAFile: filepath.Join(w.dir, "nope.pem")}, "nope.pem"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := trust.NewStore([]*x509.Certificate{w.root.Cert}, []*x509.Certificate{w.team.Cert}, nil, trust.CRLModeOff)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.WithBindings([]trust.Binding{tt.binding}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WithBindings = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestUnboundConstrainedCAsAreListed(t *testing.T) {
	w := newBoundWorld(t)
	if got, want := w.store(t, nil).UnboundConstrainedCAs(), []string{"CN=team CA"}; !slices.Equal(got, want) {
		t.Errorf("without bindings: %q, want %q", got, want)
	}
	bound := w.store(t, []trust.Binding{{CAFile: w.teamFile, AllowedUsers: []string{"*"}, AllowedGroups: []string{"*"}}})
	if got := bound.UnboundConstrainedCAs(); len(got) != 0 {
		t.Errorf("with the team CA bound: %q, want none", got)
	}
}

func TestLoadReadsBindingsFromTheConfig(t *testing.T) {
	w := newBoundWorld(t)
	rootFile, interFile := filepath.Join(w.dir, "root.pem"), filepath.Join(w.dir, "inters.pem")
	for f, pem := range map[string][]byte{rootFile: w.root.CertPEM(), interFile: w.team.CertPEM()} {
		if err := os.WriteFile(f, pem, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := trust.Config{CAFiles: []string{rootFile}, IntermediateFiles: []string{interFile},
		Bindings: []trust.Binding{{CAFile: w.teamFile, AllowedUsers: []string{"team-*"}, AllowedGroups: []string{"team-dev"}}}}
	s, err := trust.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin := w.team.Leaf("admin", pkitest.Orgs("admins")).Cert
	if _, err := s.Verify([]*x509.Certificate{admin}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonIdentityNotAllowed {
		t.Errorf("Verify = %v, want %s", err, trust.ReasonIdentityNotAllowed)
	}
	if got := cfg.BindingFiles(); !slices.Equal(got, []string{w.teamFile}) {
		t.Errorf("BindingFiles = %q", got)
	}
}
