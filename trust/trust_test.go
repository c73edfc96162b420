package trust_test

import (
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// hierarchy is root → intermediate → leaves, made at test time.
type hierarchy struct {
	root, inter *pkitest.CA
	alice       *x509.Certificate
}

func newHierarchy(t *testing.T) *hierarchy {
	root := pkitest.New(t, "root", clock)
	inter := root.ChildCA("inter")
	return &hierarchy{root: root, inter: inter, alice: inter.Leaf("alice", pkitest.Orgs("ci")).Cert}
}

func reason(err error) trust.Reason {
	var te *trust.Error
	if errors.As(err, &te) {
		return te.Reason
	}
	if err != nil {
		return "untyped: " + trust.Reason(err.Error())
	}
	return ""
}

func TestVerify(t *testing.T) {
	h := newHierarchy(t)
	foreign := pkitest.New(t, "foreign", clock)
	impostor := pkitest.New(t, "inter", clock) // same name as the intermediate, other key
	revokedLeaf := h.inter.Leaf("bob").Cert
	serverOnly := h.inter.Leaf("web", pkitest.Usage(pki.ServerAuth)).Cert
	noEKU := h.inter.Leaf("legacy", pkitest.With(func(o *pki.Options) { o.ExtKeyUsage = []x509.ExtKeyUsage{} })).Cert
	expiredLeaf := h.inter.Leaf("old", pkitest.Validity(now.Add(-48*time.Hour), now.Add(-time.Hour))).Cert
	futureLeaf := h.inter.Leaf("new", pkitest.Validity(now.Add(time.Hour), now.Add(48*time.Hour))).Cert
	revokedInter := h.root.ChildCA("revoked inter")
	underRevoked := revokedInter.Leaf("carol").Cert

	rootCRL := h.root.CRL(revokedInter.Cert)
	interCRL := h.inter.CRL(revokedLeaf)
	revokedInterCRL := revokedInter.CRL()
	staleInterCRL := h.inter.CRLWith(pki.CRLOptions{ThisUpdate: now.Add(-10 * 24 * time.Hour), NextUpdate: now.Add(-time.Hour)})
	futureInterCRL := h.inter.CRLWith(pki.CRLOptions{ThisUpdate: now.Add(time.Hour), NextUpdate: now.Add(48 * time.Hour)})
	impostorCRL := impostor.CRL(h.alice)
	emptyInterCRL := h.inter.CRLWith(pki.CRLOptions{Number: big.NewInt(9)})
	olderInterCRL := h.inter.CRLWith(pki.CRLOptions{Number: big.NewInt(8)}, h.alice)

	tests := []struct {
		name    string
		chain   []*x509.Certificate
		inters  []*x509.Certificate
		crls    []*x509.RevocationList
		mode    trust.CRLMode
		purpose trust.Purpose
		want    trust.Reason
	}{
		{"a leaf via a configured intermediate is valid", []*x509.Certificate{h.alice}, []*x509.Certificate{h.inter.Cert}, nil, trust.CRLModeOff, trust.PurposeClient, ""},
		{"a leaf via a presented intermediate is valid", []*x509.Certificate{h.alice, h.inter.Cert}, nil, nil, trust.CRLModeOff, trust.PurposeClient, ""},
		{"a leaf of a foreign CA is unknown", []*x509.Certificate{foreign.Leaf("eve").Cert}, []*x509.Certificate{h.inter.Cert}, nil, trust.CRLModeOff, trust.PurposeClient, trust.ReasonUnknownAuthority},
		{"an expired leaf is expired", []*x509.Certificate{expiredLeaf}, []*x509.Certificate{h.inter.Cert}, nil, trust.CRLModeOff, trust.PurposeClient, trust.ReasonExpired},
		{"a leaf valid only later is not yet valid", []*x509.Certificate{futureLeaf}, []*x509.Certificate{h.inter.Cert}, nil, trust.CRLModeOff, trust.PurposeClient, trust.ReasonNotYetValid},
		{"a serverAuth-only leaf is no client", []*x509.Certificate{serverOnly}, []*x509.Certificate{h.inter.Cert}, nil, trust.CRLModeOff, trust.PurposeClient, trust.ReasonKeyUsage},
		{"a serverAuth-only leaf is a server", []*x509.Certificate{serverOnly}, []*x509.Certificate{h.inter.Cert}, nil, trust.CRLModeOff, trust.PurposeServer, ""},
		{"a leaf without EKU is accepted", []*x509.Certificate{noEKU}, []*x509.Certificate{h.inter.Cert}, nil, trust.CRLModeOff, trust.PurposeClient, ""},
		{"full chain: a covered, unrevoked leaf is valid", []*x509.Certificate{h.alice}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, interCRL}, trust.CRLModeFullChain, trust.PurposeClient, ""},
		{"full chain: a revoked leaf is revoked", []*x509.Certificate{revokedLeaf}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, interCRL}, trust.CRLModeFullChain, trust.PurposeClient, trust.ReasonRevoked},
		{"full chain: a leaf below a revoked intermediate is revoked", []*x509.Certificate{underRevoked}, []*x509.Certificate{revokedInter.Cert}, []*x509.RevocationList{rootCRL, revokedInterCRL}, trust.CRLModeFullChain, trust.PurposeClient, trust.ReasonRevoked},
		{"full chain: an intermediate without a CRL leaves the chain unauthenticated", []*x509.Certificate{h.alice}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{interCRL}, trust.CRLModeFullChain, trust.PurposeClient, trust.ReasonCRLUnavailable},
		{"full chain: an expired CRL does not count", []*x509.Certificate{h.alice}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, staleInterCRL}, trust.CRLModeFullChain, trust.PurposeClient, trust.ReasonCRLUnavailable},
		{"full chain: a CRL not yet valid does not count", []*x509.Certificate{h.alice}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, futureInterCRL}, trust.CRLModeFullChain, trust.PurposeClient, trust.ReasonCRLUnavailable},
		{"full chain: a CRL of another key with the issuer's name neither revokes nor covers", []*x509.Certificate{h.alice, h.inter.Cert}, nil, []*x509.RevocationList{rootCRL, impostorCRL}, trust.CRLModeFullChain, trust.PurposeClient, trust.ReasonCRLUnavailable},
		{"the CRL with the highest number wins", []*x509.Certificate{h.alice}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, olderInterCRL, emptyInterCRL}, trust.CRLModeFullChain, trust.PurposeClient, ""},
		{"leaf mode: an intermediate without a CRL is accepted", []*x509.Certificate{h.alice}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{interCRL}, trust.CRLModeLeaf, trust.PurposeClient, ""},
		{"leaf mode: a revoked intermediate is still revoked when its CRL is there", []*x509.Certificate{underRevoked}, []*x509.Certificate{revokedInter.Cert}, []*x509.RevocationList{rootCRL, revokedInterCRL}, trust.CRLModeLeaf, trust.PurposeClient, trust.ReasonRevoked},
		{"off: a revoked leaf is not checked", []*x509.Certificate{revokedLeaf}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, interCRL}, trust.CRLModeOff, trust.PurposeClient, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, tt.inters, tt.crls, tt.mode)
			if err != nil {
				t.Fatalf("NewStore: %v", err)
			}
			_, err = store.Verify(tt.chain, trust.VerifyOptions{Now: now, Purpose: tt.purpose})
			if got := reason(err); got != tt.want {
				t.Errorf("Verify reason = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestRevocationLookupDoesNotDependOnCRLSize(t *testing.T) {
	h := newHierarchy(t)
	revoked := make([]pki.Revocation, 100000)
	for i := range revoked {
		revoked[i] = pki.Revocation{Serial: big.NewInt(int64(i + 1))}
	}
	victim := h.inter.Leaf("victim", pkitest.Serial(50000)).Cert
	crl := h.inter.CRLWith(pki.CRLOptions{Revoked: revoked})
	store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{h.root.CRL(), crl}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify([]*x509.Certificate{victim}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonRevoked {
		t.Errorf("serial 50000 of 100,000: reason %q, want revoked", reason(err))
	}
	if _, err := store.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now}); err != nil {
		t.Errorf("unrevoked leaf: %v", err)
	}
}

func TestLoadNamesTheFileThatIsWrong(t *testing.T) {
	h := newHierarchy(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.pem", h.root.CertPEM())
	leafAsCA := write("leaf.pem", pki.EncodeCertsPEM(h.alice))
	garbageCRL := write("garbage.crl", []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))
	impostor := pkitest.New(t, "root", clock)
	forgedCRL := write("forged.crl", pki.EncodeCRLPEM(impostor.CRL().Raw))
	goodCRL := write("good.crl", h.root.CRL().Raw) // DER
	tests := []struct {
		name string
		cfg  trust.Config
		want string
	}{
		{"a missing CA file", trust.Config{CAFiles: []string{filepath.Join(dir, "nope.pem")}}, "nope.pem"},
		{"a CA file holding a leaf", trust.Config{CAFiles: []string{leafAsCA}}, "leaf.pem"},
		{"a CRL that does not parse", trust.Config{CAFiles: []string{ca}, CRLFiles: []string{garbageCRL}}, "garbage.crl"},
		{"a CRL whose signature does not verify with the CA of its name", trust.Config{CAFiles: []string{ca}, CRLFiles: []string{forgedCRL}}, "forged.crl"},
		{"a CRL mode that needs CRLs without any", trust.Config{CAFiles: []string{ca}, CRLMode: trust.CRLModeFullChain}, "full_chain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trust.Load(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one naming %q", err, tt.want)
			}
		})
	}
	store, err := trust.Load(trust.Config{CAFiles: []string{ca}, CRLFiles: []string{goodCRL}})
	if err != nil {
		t.Fatalf("Load with a DER CRL: %v", err)
	}
	if st := store.Status(); st.Mode != trust.CRLModeFullChain || len(st.CRLs) != 1 || st.CRLs[0].File != goodCRL {
		t.Errorf("Status = %+v, want full_chain by default with the one CRL from %s", st, goodCRL)
	}
}

func BenchmarkVerifyCold(b *testing.B) {
	root := pkitest.New(b, "root", clock)
	inter := root.ChildCA("inter")
	leaf := inter.Leaf("alice").Cert
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, []*x509.RevocationList{root.CRL(), inter.CRL()}, trust.CRLModeFullChain)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Verify([]*x509.Certificate{leaf}, trust.VerifyOptions{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestACRLOfAPresentedIntermediateIsCheckedAgainstThatIntermediate(t *testing.T) {
	h := newHierarchy(t)
	revokedLeaf := h.inter.Leaf("bob").Cert
	// The intermediate is not configured: clients present it. Its CRL is
	// only trusted if the presented intermediate's key signed it.
	store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, nil, []*x509.RevocationList{h.root.CRL(), h.inter.CRL(revokedLeaf)}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // the outcome is remembered; it must not change
		if _, err := store.Verify([]*x509.Certificate{h.alice, h.inter.Cert}, trust.VerifyOptions{Now: now}); err != nil {
			t.Errorf("round %d: alice via the presented intermediate: %v", i, err)
		}
		if _, err := store.Verify([]*x509.Certificate{revokedLeaf, h.inter.Cert}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonRevoked {
			t.Errorf("round %d: bob via the presented intermediate: reason %q, want revoked", i, reason(err))
		}
	}
	// An intermediate of the same name with another key, signed by the
	// root: the CRL's signature does not verify with it, so no current CRL.
	other := h.root.ChildCA("inter")
	carol := other.Leaf("carol").Cert
	for i := range 2 {
		if _, err := store.Verify([]*x509.Certificate{carol, other.Cert}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonCRLUnavailable {
			t.Errorf("round %d: carol via a same-name intermediate: reason %q, want crl_unavailable", i, reason(err))
		}
	}
}

func TestLoadRefusesACRLFileCutShort(t *testing.T) {
	h := newHierarchy(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pki.EncodeCertsPEM(h.root.Cert, h.inter.Cert), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file that accumulates CRLs: the old one revokes nothing, the newer
	// one revokes alice and is caught half written.
	older := pki.EncodeCRLPEM(h.inter.CRLWith(pki.CRLOptions{Number: big.NewInt(1)}).Raw)
	newer := pki.EncodeCRLPEM(h.inter.CRLWith(pki.CRLOptions{Number: big.NewInt(2)}, h.alice).Raw)
	crl := filepath.Join(dir, "inter.crl")
	if err := os.WriteFile(crl, append(older, newer[:len(newer)*2/3]...), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := trust.Load(trust.Config{CAFiles: []string{ca}, CRLFiles: []string{crl}, CRLMode: trust.CRLModeLeaf})
	if err == nil {
		_, verr := store.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now})
		t.Fatalf("Load accepted a CRL file cut short (alice verifies with error %v); want a load error", verr)
	}
	if !strings.Contains(err.Error(), "inter.crl") {
		t.Errorf("Load error %v does not name the file", err)
	}
}

// TestCARolloverWithTwoCAsOfTheSameName: while clients move from an old CA
// key to a new one of the same name, both CAs and both CRLs are configured;
// each CRL counts for the CA that signed it.
func TestCARolloverWithTwoCAsOfTheSameName(t *testing.T) {
	oldCA := pkitest.New(t, "Build Cloud CA")
	newCA := pkitest.New(t, "Build Cloud CA")
	oldClient := oldCA.Leaf("alice").Cert
	newClient := newCA.Leaf("bob").Cert
	revokedNew := newCA.Leaf("mallory").Cert
	store, err := trust.NewStore([]*x509.Certificate{oldCA.Cert, newCA.Cert}, nil,
		[]*x509.RevocationList{oldCA.CRL(), newCA.CRL(revokedNew)}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatalf("two CAs of one name with their CRLs: %v", err)
	}
	for _, c := range []*x509.Certificate{oldClient, newClient} {
		if _, err := store.Verify([]*x509.Certificate{c}, trust.VerifyOptions{}); err != nil {
			t.Errorf("%s: %v", c.Subject.CommonName, err)
		}
	}
	if _, err := store.Verify([]*x509.Certificate{revokedNew}, trust.VerifyOptions{}); reason(err) != trust.ReasonRevoked {
		t.Errorf("revoked client of the new CA: %v, want revoked", err)
	}
	// A CRL that neither CA of the name signed is still refused at load.
	impostor := pkitest.New(t, "Build Cloud CA")
	if _, err := trust.NewStore([]*x509.Certificate{oldCA.Cert, newCA.Cert}, nil,
		[]*x509.RevocationList{impostor.CRL()}, trust.CRLModeFullChain); err == nil {
		t.Error("a CRL signed by neither CA of its issuer name was accepted")
	}
}
