package trust_test

import (
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

func crlDoc(name string, crl *x509.RevocationList) trust.CRLDocument {
	return trust.CRLDocument{Name: name, Data: crl.Raw}
}

func crlNumber(n int64) pki.CRLOptions { return pki.CRLOptions{Number: big.NewInt(n)} }

// TestCheckCRLDocument holds a fetched CRL to the rules of a CRL file, and
// to two more: its signer is a configured CA, and it never goes back from
// the source's last good CRL nor from the serving store.
func TestCheckCRLDocument(t *testing.T) {
	h := newHierarchy(t)
	cas := []*x509.Certificate{h.root.Cert, h.inter.Cert}
	impostor := h.inter.Impostor()
	stranger := pkitest.New(t, "stranger", clock)
	presentedOnly := h.root.ChildCA("presented only")
	two, three := h.inter.CRLWith(crlNumber(2)), h.inter.CRLWith(crlNumber(3))
	serving, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{three}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	prevThree := crlDoc("http://crl/inter.crl", three)
	rootCRL := h.root.CRL()
	tests := []struct {
		name    string
		doc     trust.CRLDocument
		prev    *trust.CRLDocument
		serving *trust.Store
		want    string // in the error; "" accepts
		order   bool   // a *trust.CRLOrderError
		crls    int    // CRLs returned when accepted; 0: 1
	}{
		{name: "a CRL signed by a configured intermediate is accepted", doc: crlDoc("u", two)},
		{name: "PEM is accepted as in a file", doc: trust.CRLDocument{Name: "u", Data: pki.EncodeCRLPEM(two.Raw)}},
		{name: "a newer CRL than the last good one is accepted", doc: crlDoc("u", three), prev: ptr(crlDoc("u", two)), serving: serving},
		{name: "a body that is no CRL is refused", doc: trust.CRLDocument{Name: "u", Data: []byte("<html>maintenance</html>")}, want: "CRL u"},
		{name: "a PEM CRL cut short is refused", doc: trust.CRLDocument{Name: "u", Data: pki.EncodeCRLPEM(two.Raw)[:80]}, want: "CRL u"},
		{name: "a CRL of the configured name signed by another key is refused", doc: crlDoc("u", impostor.CRL()), want: "signature does not verify"},
		{name: "a CRL of an issuer that is not configured is refused", doc: crlDoc("u", stranger.CRL()), want: "not a configured CA"},
		{name: "a CRL of an intermediate only clients present is refused", doc: crlDoc("u", presentedOnly.CRL()), want: "not a configured CA"},
		{name: "an older CRL than the source's last good one is refused", doc: crlDoc("u", two), prev: &prevThree, order: true},
		{name: "an older CRL than the serving one is refused", doc: crlDoc("u", two), serving: serving, order: true},
		{name: "the serving CRL itself is accepted", doc: crlDoc("u", three), prev: &prevThree, serving: serving},
		// Any URL's CRL is signed by a configured CA: sent in place of
		// this URL's, it would make the root's CRL vanish.
		{name: "another issuer's CRL in place of the last good one's is refused", doc: crlDoc("u", three), prev: ptr(crlDoc("u", rootCRL)), want: "holds no CRL of"},
		{name: "an issuer whose CA is no longer configured may go", doc: crlDoc("u", three), prev: ptr(trust.CRLDocument{Name: "u", Data: append(pki.EncodeCRLPEM(stranger.CRL().Raw), pki.EncodeCRLPEM(two.Raw)...)})},
		{name: "a document that keeps its issuers and adds one is accepted", doc: trust.CRLDocument{Name: "u", Data: append(pki.EncodeCRLPEM(rootCRL.Raw), pki.EncodeCRLPEM(three.Raw)...)}, prev: ptr(crlDoc("u", rootCRL)), crls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crls, err := trust.CheckCRLDocument(cas, tt.doc, tt.prev, tt.serving)
			var oe *trust.CRLOrderError
			switch {
			case tt.order:
				if !errors.As(err, &oe) || oe.Problem != trust.CRLOlderThanServing {
					t.Fatalf("got %v, want a CRLOrderError older_than_serving", err)
				}
			case tt.want != "":
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want an error with %q", err, tt.want)
				}
			case err != nil:
				t.Fatalf("refused: %v", err)
			case len(crls) != max(tt.crls, 1):
				t.Fatalf("got %d CRLs, want %d", len(crls), max(tt.crls, 1))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestLoadWithFetchedCRLs: fetched documents revoke as files do, and before
// any has arrived the CRL mode defaults to full_chain and denies with
// crl_unavailable rather than failing the load or checking nothing.
func TestLoadWithFetchedCRLs(t *testing.T) {
	h := newHierarchy(t)
	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.pem", pki.EncodeCertsPEM(h.root.Cert))
	interFile := writeFile(t, dir, "inter.pem", pki.EncodeCertsPEM(h.inter.Cert))
	bob := h.inter.Leaf("bob").Cert
	cfg := trust.Config{CAFiles: []string{caFile}, IntermediateFiles: []string{interFile}, FetchesCRLs: true}

	empty, err := trust.Load(cfg)
	if err != nil {
		t.Fatalf("load before any CRL arrived: %v", err)
	}
	if m := empty.Status().Mode; m != trust.CRLModeFullChain {
		t.Fatalf("crl_mode %s, want full_chain by default", m)
	}
	if _, err := empty.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonCRLUnavailable {
		t.Fatalf("before any CRL arrived: %v, want crl_unavailable", err)
	}

	cfg.CRLDocuments = []trust.CRLDocument{crlDoc("http://crl/root.crl", h.root.CRL()), crlDoc("http://crl/inter.crl", h.inter.CRL(bob))}
	full, err := trust.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := full.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now}); err != nil {
		t.Fatalf("alice: %v", err)
	}
	if _, err := full.Verify([]*x509.Certificate{bob}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonRevoked {
		t.Fatalf("bob: %v, want revoked", err)
	}
	var files []string
	for _, c := range full.Status().CRLs {
		files = append(files, c.File)
	}
	if strings.Join(files, " ") != "http://crl/root.crl http://crl/inter.crl" {
		t.Fatalf("CRL sources %v, want the URLs", files)
	}

	cfg.CRLDocuments = []trust.CRLDocument{{Name: "http://crl/bad", Data: []byte("junk")}}
	if _, err := trust.Load(cfg); err == nil || !strings.Contains(err.Error(), "http://crl/bad") {
		t.Fatalf("a broken document: %v, want a load error naming it", err)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeepSignedLeavesOutTheCRLsOfAReplacedCA: once a CA is replaced by a
// new key of its name, its old CRL in a fetched document is left out and
// the others kept; a document the CAs all sign is returned as it is.
func TestKeepSignedLeavesOutTheCRLsOfAReplacedCA(t *testing.T) {
	h := newHierarchy(t)
	renewed := h.inter.Impostor() // the intermediate's name, a new key
	both := trust.CRLDocument{Name: "u", Data: append(pki.EncodeCRLPEM(h.root.CRL().Raw), pki.EncodeCRLPEM(h.inter.CRL().Raw)...)}
	kept, dropped := trust.KeepSigned([]*x509.Certificate{h.root.Cert, h.inter.Cert}, both)
	if dropped != 0 || string(kept.Data) != string(both.Data) {
		t.Fatalf("every CRL signed: dropped %d, data changed %v", dropped, string(kept.Data) != string(both.Data))
	}
	kept, dropped = trust.KeepSigned([]*x509.Certificate{h.root.Cert, renewed.Cert}, both)
	if dropped != 1 || kept.Name != "u" {
		t.Fatalf("dropped %d from %q, want the old intermediate key's CRL", dropped, kept.Name)
	}
	crls, err := trust.ParseCRLs(kept.Data)
	if err != nil || len(crls) != 1 || string(crls[0].RawIssuer) != string(h.root.Cert.RawSubject) {
		t.Fatalf("kept %d CRLs (%v), want the root's", len(crls), err)
	}
	if _, dropped = trust.KeepSigned([]*x509.Certificate{renewed.Cert}, crlDoc("u", h.inter.CRL())); dropped != 1 {
		t.Fatalf("a document of the old key alone: dropped %d, want 1", dropped)
	}
}
