package server

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

// newTestChecker is a Checker of the shipped policy over a root and an
// intermediate with current CRLs; it returns the intermediate to issue
// leaves from.
func newTestChecker(tb testing.TB, opts ...policy.Option) (*Checker, *pkitest.CA) {
	tb.Helper()
	engine, err := policy.Load(context.Background(), "", opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return checkerWith(tb, engine, Options{})
}

// checkerWith is newTestChecker with the policy engine and the Options
// given; a nil Logger discards the log.
func checkerWith(tb testing.TB, engine *policy.Engine, opts Options) (*Checker, *pkitest.CA) {
	tb.Helper()
	root := pkitest.New(tb, "root")
	inter := root.ChildCA("inter")
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, []*x509.Certificate{inter.Cert}, []*x509.RevocationList{root.CRL(), inter.CRL()}, trust.CRLModeFullChain)
	if err != nil {
		tb.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return NewChecker(&Snapshot{Trust: store, Policy: engine, Revision: 1}, opts), inter
}

func TestCheckWithoutSnapshotDeniesWith500(t *testing.T) {
	c := NewChecker(nil, Options{Logger: slog.New(slog.DiscardHandler)})
	res := c.Check(context.Background(), &Request{Method: "GET", Target: "/api/v1/status"})
	if res.Allow || res.Status != http.StatusInternalServerError {
		t.Errorf("Check before any load = allow %v status %d, want deny 500", res.Allow, res.Status)
	}
}

// BenchmarkCheck is the whole in-process pipeline for one Envoy-shaped
// request: decode the certificate, verify the chain with full-chain CRL
// checks (a verdict cache hit after the first), evaluate the shipped policy
// (a decision cache hit after the first, or every time when uncached), log
// the decision (to io.Discard).
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name    string
		opts    []policy.Option
		metrics bool
	}{
		{"cached", nil, false},
		{"cached with metrics", nil, true}, // what certgate serve runs
		{"uncached decision", []policy.Option{policy.WithDecisionCache(0)}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, inter := newTestChecker(b, bc.opts...)
			if bc.metrics {
				// What certgate serve runs: metrics, and decision lines
				// written by NewDecisionLog's encoder.
				c.metrics = NewMetrics(prometheus.NewRegistry())
				c.decisions = NewDecisionLog(io.Discard, 1)
			}
			leaf := inter.Leaf("jenkins", pkitest.Orgs("ci"))
			req := RequestFromCheck(client.EnvoyRequest(client.Check{CertPEM: leaf.CertPEM(), Method: "POST", Target: "/api/v1/vm", Host: "anka.example"}))
			req.Adapter, req.RemovesHeaders = "grpc", true // as the gRPC adapter sets them
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
