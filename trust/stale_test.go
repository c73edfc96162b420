package trust_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

func TestAStaleCRLDeniesUnlessTheStorePolicyIsWarn(t *testing.T) {
	h := newHierarchy(t)
	revoked := h.inter.Leaf("bob").Cert
	rootCRL := h.root.CRL()
	stale := h.inter.CRLWith(pki.CRLOptions{ThisUpdate: now.Add(-10 * 24 * time.Hour), NextUpdate: now.Add(-time.Hour)}, revoked)
	store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, stale}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonCRLUnavailable {
		t.Errorf("default policy: reason %q, want crl_unavailable", reason(err))
	}
	warn, err := store.WithStaleCRLPolicy(trust.StaleCRLWarn)
	if err != nil {
		t.Fatal(err)
	}
	v, err := warn.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now})
	if err != nil || !v.StaleCRL {
		t.Fatalf("warn policy: verified %+v, %v; want a valid chain marked stale", v, err)
	}
	if _, err := warn.Verify([]*x509.Certificate{revoked}, trust.VerifyOptions{Now: now}); reason(err) != trust.ReasonRevoked {
		t.Errorf("warn policy still revokes from the stale CRL: reason %q, want revoked", reason(err))
	}
	if _, err := store.WithStaleCRLPolicy("maybe"); err == nil {
		t.Error("an unknown policy was accepted")
	}
}

func TestAVerdictHoldsUntilTheFirstCertificateOrCRLRunsOut(t *testing.T) {
	h := newHierarchy(t)
	rootCRL := h.root.CRLWith(pki.CRLOptions{ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(72 * time.Hour)})
	interCRL := h.inter.CRLWith(pki.CRLOptions{ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour)})
	tests := []struct {
		name string
		mode trust.CRLMode
		want time.Time
	}{
		{"with CRLs, the intermediate's nextUpdate", trust.CRLModeFullChain, interCRL.NextUpdate},
		{"without CRLs, the leaf's notAfter", trust.CRLModeOff, h.alice.NotAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := trust.NewStore([]*x509.Certificate{h.root.Cert}, []*x509.Certificate{h.inter.Cert}, []*x509.RevocationList{rootCRL, interCRL}, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			v, err := store.Verify([]*x509.Certificate{h.alice}, trust.VerifyOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !v.ValidUntil.Equal(tt.want) {
				t.Errorf("ValidUntil = %v, want %v", v.ValidUntil, tt.want)
			}
		})
	}
}
