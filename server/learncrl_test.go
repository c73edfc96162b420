package server

import (
	"context"
	"crypto/x509"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// TestCRLURLsAreLearnedOnlyFromVerifiedCertificates: the distribution
// points of a leaf reach LearnCRLURLs when its chain verified to a
// configured CA (allowed, or refused only for its missing CRL), never
// when anyone could have made the certificate.
func TestCRLURLsAreLearnedOnlyFromVerifiedCertificates(t *testing.T) {
	engine, err := policy.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	root := pkitest.New(t, "root")
	inter := root.ChildCA("inter")
	uncovered := root.ChildCA("no CRL yet")
	stranger := pkitest.New(t, "root") // same name, another key: an attacker's CA
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert, uncovered.Cert},
		[]*x509.RevocationList{root.CRL(), inter.CRL()}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var learned []string
	c := NewChecker(&Snapshot{Trust: store, Policy: engine, Revision: 1}, Options{
		Logger: slog.New(slog.DiscardHandler),
		LearnCRLURLs: func(urls []string) {
			mu.Lock()
			defer mu.Unlock()
			learned = append(learned, urls...)
		},
	})
	cdp := func(u string) pkitest.Option {
		return pkitest.With(func(o *pki.Options) {
			o.ExtraExtensions = nil
			o.CRLDistributionPoints = []string{u}
		})
	}
	strangerInter := stranger.ChildCA("inter")
	tests := []struct {
		name  string
		leaf  *pki.Certificate
		chain []*x509.Certificate
		learn bool
	}{
		{name: "a leaf that verifies", leaf: inter.Leaf("alice", pkitest.Orgs("ci"), cdp("http://crl.example/inter.crl")), learn: true},
		{name: "a leaf whose issuer's CRL is missing", leaf: uncovered.Leaf("bob", cdp("http://crl.example/uncovered.crl")), learn: true},
		{name: "a leaf of an unknown CA", leaf: strangerInter.Leaf("mallory", cdp("http://169.254.169.254/latest/")), chain: []*x509.Certificate{strangerInter.Cert}},
		{name: "an expired leaf", leaf: inter.Leaf("old", cdp("http://crl.example/expired.crl"), pkitest.Validity(time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			learned = nil
			mu.Unlock()
			pem := tt.leaf.CertPEM()
			for _, ch := range tt.chain {
				pem = append(pem, pki.EncodeCertsPEM(ch)...)
			}
			req := RequestFromCheck(client.EnvoyRequest(client.Check{CertPEM: pem, Method: "GET", Target: "/api/v1/status", Host: "x"}))
			c.Check(context.Background(), req)
			mu.Lock()
			defer mu.Unlock()
			want := []string(nil)
			if tt.learn {
				want = tt.leaf.Cert.CRLDistributionPoints
			}
			if !slices.Equal(learned, want) {
				t.Fatalf("learned %v, want %v", learned, want)
			}
		})
	}
}
