package server

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"testing"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// coldChain is root → intermediate → leaf, every key of one algorithm
// (the vendor guides' RSA chains, or ECDSA P-256).
type coldChain struct {
	root, inter *pki.CA
	leaf        *pki.Certificate
}

func newColdChain(b *testing.B, alg pki.KeyAlgorithm) coldChain {
	b.Helper()
	root, err := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "root"}, KeyAlgorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "inter"}, KeyAlgorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := inter.Issue(pki.Options{Subject: pkix.Name{CommonName: "jenkins", Organization: []string{"ci"}}, KeyAlgorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	return coldChain{root: root, inter: inter, leaf: leaf}
}

// BenchmarkCheckCold is a whole Check of a certificate seen for the first
// time: the verdict cache is off, so every Check parses the presented
// certificate and verifies its chain and both CRLs (the decision itself
// comes from the policy's decision cache). BenchmarkChainSignatures is the
// signature verification that contains, alone; issue 14's target is a cold
// Check within 2× of it.
func BenchmarkCheckCold(b *testing.B) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.RSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			ch := newColdChain(b, alg)
			store, err := trust.NewStore([]*x509.Certificate{ch.root.Cert}, []*x509.Certificate{ch.inter.Cert},
				[]*x509.RevocationList{crlOf(b, ch.root), crlOf(b, ch.inter)}, trust.CRLModeFullChain)
			if err != nil {
				b.Fatal(err)
			}
			engine, err := policy.Load(context.Background(), "")
			if err != nil {
				b.Fatal(err)
			}
			c := NewChecker(&Snapshot{Trust: store, Policy: engine, Revision: 1},
				Options{Logger: slog.New(slog.DiscardHandler), VerdictCacheSize: -1})
			req := RequestFromCheck(client.EnvoyRequest(client.Check{CertPEM: ch.leaf.CertPEM(), Method: "POST", Target: "/api/v1/vm", Host: "anka.example"}))
			req.Adapter, req.RemovesHeaders = "grpc", true
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if res := c.Check(ctx, req); !res.Allow {
					b.Fatalf("denied: %s", res.Reason)
				}
			}
		})
	}
}

// BenchmarkChainSignatures is the two signature checks of a cold Check's
// chain (leaf by intermediate, intermediate by root) and nothing else.
func BenchmarkChainSignatures(b *testing.B) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.RSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			ch := newColdChain(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if err := ch.leaf.Cert.CheckSignatureFrom(ch.inter.Cert); err != nil {
					b.Fatal(err)
				}
				if err := ch.inter.Cert.CheckSignatureFrom(ch.root.Cert); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func crlOf(b *testing.B, ca *pki.CA) *x509.RevocationList {
	b.Helper()
	der, err := ca.CRL(pki.CRLOptions{})
	if err != nil {
		b.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		b.Fatal(err)
	}
	return crl
}
