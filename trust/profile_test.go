package trust_test

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// TestLoadAppliesTheProfileAndDepth: trust.Config's Profile and
// MaxChainDepth reach the loaded store, a strict load names the CRL file
// without a number, and bad values are refused.
func TestLoadAppliesTheProfileAndDepth(t *testing.T) {
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
	inter := write("inter.pem", h.inter.CertPEM())
	unnumbered := write("unnumbered.crl", pki.EncodeCRLPEM(crlWithExtensions(t, h.inter, h.inter.CRL(), nil).Raw))
	rootCRL := write("root.crl", pki.EncodeCRLPEM(h.root.CRL().Raw))

	store, err := trust.Load(trust.Config{CAFiles: []string{ca}, IntermediateFiles: []string{inter}, MaxChainDepth: new(0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonChainDepth {
		t.Errorf("max_chain_depth 0 with one intermediate: %v, want chain_depth", err)
	}
	if st := store.Status(); st.Profile != trust.ProfileCompatible || st.MaxChainDepth != 0 {
		t.Errorf("Status profile %q depth %d, want compatible 0", st.Profile, st.MaxChainDepth)
	}

	cfg := trust.Config{CAFiles: []string{ca}, IntermediateFiles: []string{inter}, CRLFiles: []string{rootCRL, unnumbered}}
	if _, err := trust.Load(cfg); err != nil {
		t.Errorf("compatible, a CRL without a number: %v", err)
	}
	if loose, err := trust.Load(cfg); err == nil && loose.Status().MaxChainDepth != -1 {
		t.Errorf("Status depth %d without a limit, want -1", loose.Status().MaxChainDepth)
	}
	cfg.Profile = trust.ProfileStrict
	_, err = trust.Load(cfg)
	var te *trust.Error
	if !errors.As(err, &te) || te.Reason != trust.ReasonMissingCRLNumber || !strings.Contains(err.Error(), "unnumbered.crl") {
		t.Errorf("strict, a CRL without a number: %v, want missing_crl_number naming unnumbered.crl", err)
	}

	for name, cfg := range map[string]trust.Config{
		"an unknown profile": {CAFiles: []string{ca}, Profile: "lax"},
		"a negative depth":   {CAFiles: []string{ca}, MaxChainDepth: new(-1)},
	} {
		if _, err := trust.Load(cfg); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
}
