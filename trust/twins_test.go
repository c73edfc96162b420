package trust_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// TestRevokingOneTwinRevokesTheKey: two CA certificates with one subject
// and one key, issued by different issuers, are one CA. A CRL that revokes
// either refuses every chain through both.
func TestRevokingOneTwinRevokesTheKey(t *testing.T) {
	rootA := pkitest.New(t, "root A", clock)
	rootB := pkitest.New(t, "root B", clock)
	// interA and interB: the same intermediate key and name under each root.
	interA := rootA.ChildCA("twin inter")
	sameKey := func(ca *pkitest.CA) pkitest.Option {
		return pkitest.With(func(o *pki.Options) { o.Subject = ca.Cert.Subject; o.Key = ca.Key })
	}
	interB := rootB.ChildCA("twin inter", sameKey(interA))
	expiredB := rootB.ChildCA("twin inter", sameKey(interA), pkitest.Validity(now.Add(-48*time.Hour), now.Add(-time.Hour)))
	leaf := interA.Leaf("alice").Cert
	// crossA: root A's key and name, cross-signed by root B.
	crossA := rootB.ChildCA("root A", sameKey(rootA))
	underA := rootA.ChildCA("other inter")
	carol := underA.Leaf("carol").Cert
	stale := pki.CRLOptions{ThisUpdate: now.Add(-10 * 24 * time.Hour), NextUpdate: now.Add(-time.Hour)}

	interCRL := interA.CRL() // signed by the shared key: it speaks for both twins
	tests := []struct {
		name   string
		chain  []*x509.Certificate
		inters []*x509.Certificate
		crls   []*x509.RevocationList
		mode   trust.CRLMode
		policy trust.StaleCRLPolicy
		want   trust.Reason
	}{
		{"unrevoked twins are both fine", list(leaf), list(interA.Cert, interB.Cert),
			list(rootA.CRL(), rootB.CRL(), interCRL), trust.CRLModeFullChain, trust.StaleCRLDeny, ""},
		{"root B revoking its twin refuses the chain through root A's", list(leaf), list(interA.Cert, interB.Cert),
			list(rootA.CRL(), rootB.CRL(interB.Cert), interCRL), trust.CRLModeFullChain, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"root A revoking its twin refuses the chain through root B's", list(leaf), list(interA.Cert, interB.Cert),
			list(rootA.CRL(interA.Cert), rootB.CRL(), interCRL), trust.CRLModeFullChain, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"a revoked twin the client presents refuses the configured one", list(leaf, interB.Cert), list(interA.Cert),
			list(rootA.CRL(), rootB.CRL(interB.Cert), interCRL), trust.CRLModeFullChain, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"a revoked twin that is configured refuses the one the client presents", list(leaf, interA.Cert), list(interB.Cert),
			list(rootA.CRL(), rootB.CRL(interB.Cert), interCRL), trust.CRLModeFullChain, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"a configured twin no path goes through (expired) still revokes the key", list(leaf), list(interA.Cert, expiredB.Cert),
			list(rootA.CRL(), rootB.CRL(expiredB.Cert), interCRL), trust.CRLModeFullChain, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"a stale CRL that revokes a twin revokes under deny", list(leaf), list(interA.Cert, interB.Cert),
			list(rootA.CRL(), rootB.CRLWith(stale, interB.Cert), interCRL), trust.CRLModeFullChain, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"a stale CRL that revokes a twin revokes under warn", list(leaf), list(interA.Cert, interB.Cert),
			list(rootA.CRL(), rootB.CRLWith(stale, interB.Cert), interCRL), trust.CRLModeFullChain, trust.StaleCRLWarn, trust.ReasonRevoked},
		{"leaf mode revokes the key too", list(leaf), list(interA.Cert, interB.Cert),
			list(rootB.CRL(interB.Cert), interCRL), trust.CRLModeLeaf, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"off checks no CRL", list(leaf), list(interA.Cert, interB.Cert),
			list(rootB.CRL(interB.Cert), interCRL), trust.CRLModeOff, trust.StaleCRLDeny, ""},
		{"a revoked cross certificate of a root refuses chains to the root itself", list(carol), list(underA.Cert, crossA.Cert),
			list(rootA.CRL(), rootB.CRL(crossA.Cert), underA.CRL()), trust.CRLModeFullChain, trust.StaleCRLDeny, trust.ReasonRevoked},
		{"an unrevoked cross certificate leaves the root alone", list(carol), list(underA.Cert, crossA.Cert),
			list(rootA.CRL(), rootB.CRL(), underA.CRL()), trust.CRLModeFullChain, trust.StaleCRLDeny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := trust.NewStore(list(rootA.Cert, rootB.Cert), tt.inters, tt.crls, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			if store, err = store.WithStaleCRLPolicy(tt.policy); err != nil {
				t.Fatal(err)
			}
			_, err = store.Verify(tt.chain, trust.VerifyOptions{Now: now})
			if got := reason(err); got != tt.want {
				t.Errorf("Verify reason = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}
