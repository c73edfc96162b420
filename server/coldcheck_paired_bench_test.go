package server

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// coldWorld is root → intermediate → leaf, every key of one algorithm,
// with full-chain CRLs, and a Checker without a verdict cache: each Check
// verifies the leaf as on its first sight, while the policy's decision
// cache answers (the same identity asks the same question).
type coldWorld struct {
	root, inter, leaf *x509.Certificate
	checker           *Checker
	req               *Request
}

func newColdWorld(b *testing.B, alg pki.KeyAlgorithm) *coldWorld {
	b.Helper()
	name := func(cn string) pkix.Name { return pkix.Name{CommonName: cn, Organization: []string{"ci"}} }
	root, err := pki.NewRootCA(pki.Options{Subject: name("cold root"), KeyAlgorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: name("cold devices"), KeyAlgorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := inter.Issue(pki.Options{Subject: name("device-1"), KeyAlgorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	var crls []*x509.RevocationList
	for _, ca := range []*pki.CA{root, inter} {
		der, err := ca.CRL(pki.CRLOptions{})
		if err != nil {
			b.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			b.Fatal(err)
		}
		crls = append(crls, crl)
	}
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, crls, trust.CRLModeFullChain)
	if err != nil {
		b.Fatal(err)
	}
	engine, err := policy.Load(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	c := NewChecker(&Snapshot{Trust: store, Policy: engine, Revision: 1}, Options{VerdictCacheSize: -1,
		Logger: slog.New(slog.DiscardHandler), DecisionLog: NewDecisionLog(io.Discard, 1)})
	return &coldWorld{root: root.Cert, inter: inter.Cert, leaf: leaf.Cert, checker: c, req: envoyShaped(leaf.CertPEM(), "GET", "/api/v1/vm")}
}

// BenchmarkColdCheck sets a Check of a certificate certgate has not seen
// (verdict cache miss, decision cache hit) beside the one signature
// verification it cannot do without: the leaf's, by its issuing CA, with
// the same keys. On a shared machine the two drift apart between runs, so
// /paired times one of each in every iteration and reports the ratio of
// their sums (check/signature), as well as each.
func BenchmarkColdCheck(b *testing.B) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.RSA2048} {
		w := newColdWorld(b, alg)
		b.Run(string(alg)+"/signature", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := w.leaf.CheckSignatureFrom(w.inter); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/check", func(b *testing.B) {
			ctx := context.Background()
			if res := w.checker.Check(ctx, w.req); !res.Allow {
				b.Fatalf("denied: %d %s", res.Status, res.Reason)
			}
			b.ReportAllocs()
			for b.Loop() {
				if res := w.checker.Check(ctx, w.req); !res.Allow {
					b.Fatalf("denied: %d %s", res.Status, res.Reason)
				}
			}
		})
		b.Run(string(alg)+"/paired", func(b *testing.B) {
			ctx := context.Background()
			var sig, check time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := w.leaf.CheckSignatureFrom(w.inter); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if res := w.checker.Check(ctx, w.req); !res.Allow {
					b.Fatalf("denied: %d %s", res.Status, res.Reason)
				}
				sig, check = sig+t1.Sub(t0), check+time.Since(t1)
			}
			b.ReportMetric(float64(sig.Nanoseconds())/float64(b.N), "ns-signature")
			b.ReportMetric(float64(check.Nanoseconds())/float64(b.N), "ns-check")
			b.ReportMetric(float64(check)/float64(sig), "check/signature")
		})
	}
}
