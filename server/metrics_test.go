package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
	"github.com/certgate/certgate/trust"
)

func TestDecisionCacheRequestsNeverFallOnAReload(t *testing.T) {
	w := newCacheWorld(t)
	viewer := w.inter.Leaf("vera", pkitest.Orgs("viewers"))
	reg := prometheus.NewRegistry()
	c := NewChecker(w.snapshot(t, 1), Options{Metrics: NewMetrics(reg), Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return w.now }})
	check := func(n int) {
		t.Helper()
		for range n {
			if res := c.Check(context.Background(), envoyRequest(viewer)); !res.Allow {
				t.Fatalf("check: %d %s", res.Status, res.Reason)
			}
		}
	}
	type counts struct{ Hit, Miss float64 }
	gathered := func() counts {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var got counts
		for _, f := range families {
			if f.GetName() != "certgate_decision_cache_requests_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				switch v := m.GetCounter().GetValue(); m.GetLabel()[0].GetValue() {
				case "hit":
					got.Hit = v
				case "miss":
					got.Miss = v
				}
			}
		}
		return got
	}
	want := func(w counts) {
		t.Helper()
		if diff := cmp.Diff(w, gathered()); diff != "" {
			t.Errorf("certgate_decision_cache_requests_total (-want +got):\n%s", diff)
		}
	}
	newEngine := func() *policy.Engine {
		t.Helper()
		e, err := policy.Load(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	check(3)
	want(counts{Hit: 2, Miss: 1})
	t.Run("a snapshot with a new engine keeps the counts of the one it replaces", func(t *testing.T) {
		snap := w.snapshot(t, 2)
		snap.Policy = newEngine()
		c.swap(snap)
		want(counts{Hit: 2, Miss: 1})
		check(2)
		want(counts{Hit: 3, Miss: 2})
	})
	t.Run("a snapshot that keeps the engine does not count its lookups twice", func(t *testing.T) {
		snap := w.snapshot(t, 3)
		snap.Policy = c.Snapshot().Policy
		c.swap(snap)
		want(counts{Hit: 3, Miss: 2})
		check(1)
		want(counts{Hit: 4, Miss: 2})
	})
}

func TestSnapshotCollectorReportsCRLsAndCAsByTimestamp(t *testing.T) {
	w := newCacheWorld(t)
	revoked := w.inter.Leaf("rex", pkitest.Orgs("viewers"))
	older := w.root.CRLWith(pki.CRLOptions{Number: big.NewInt(6), ThisUpdate: w.now.Add(-48 * time.Hour), NextUpdate: w.now.Add(time.Hour)})
	newer := w.root.CRLWith(pki.CRLOptions{Number: big.NewInt(7), ThisUpdate: w.now.Add(-time.Hour), NextUpdate: w.now.Add(24 * time.Hour)})
	interCRL := w.inter.CRLWith(pki.CRLOptions{Number: big.NewInt(3), ThisUpdate: w.now.Add(-time.Hour), NextUpdate: w.now.Add(12 * time.Hour)}, revoked.Cert)
	store, err := trust.NewStore([]*x509.Certificate{w.root.Cert}, []*x509.Certificate{w.inter.Cert},
		[]*x509.RevocationList{older, newer, interCRL}, trust.CRLModeFullChain)
	if err != nil {
		t.Fatal(err)
	}
	c := NewChecker(&Snapshot{Trust: store, Policy: w.engine, Revision: 1}, Options{Now: func() time.Time { return w.now }})
	// The clock moves on: timestamps, unlike seconds left, stay the same.
	w.now = w.now.Add(30 * time.Minute)

	root, inter := w.root.Cert.Subject.String(), w.inter.Cert.Subject.String()
	fingerprint := func(c *x509.Certificate) string { sum := sha256.Sum256(c.Raw); return hex.EncodeToString(sum[:]) }
	unix := func(t time.Time) string { return fmt.Sprint(float64(t.Unix())) }
	want := fmt.Sprintf(`# HELP certgate_ca_not_after_timestamp_seconds The CA certificate's notAfter, in seconds since the epoch.
# TYPE certgate_ca_not_after_timestamp_seconds gauge
certgate_ca_not_after_timestamp_seconds{fingerprint_sha256=%[3]q,subject=%[1]q} %[5]s
certgate_ca_not_after_timestamp_seconds{fingerprint_sha256=%[4]q,subject=%[2]q} %[6]s
# HELP certgate_crl_info The CRL number of the newest CRL of each issuer in each file; always 1.
# TYPE certgate_crl_info gauge
certgate_crl_info{file="",issuer=%[1]q,number="7"} 1
certgate_crl_info{file="",issuer=%[2]q,number="3"} 1
# HELP certgate_crl_next_update_timestamp_seconds The nextUpdate of the newest CRL of each issuer in each file, in seconds since the epoch.
# TYPE certgate_crl_next_update_timestamp_seconds gauge
certgate_crl_next_update_timestamp_seconds{file="",issuer=%[1]q} %[7]s
certgate_crl_next_update_timestamp_seconds{file="",issuer=%[2]q} %[8]s
# HELP certgate_crl_revoked_certificates Entries in the newest CRL of each issuer in each file.
# TYPE certgate_crl_revoked_certificates gauge
certgate_crl_revoked_certificates{file="",issuer=%[1]q} 0
certgate_crl_revoked_certificates{file="",issuer=%[2]q} 1
`, root, inter, fingerprint(w.root.Cert), fingerprint(w.inter.Cert), unix(w.root.Cert.NotAfter), unix(w.inter.Cert.NotAfter),
		unix(newer.NextUpdate), unix(interCRL.NextUpdate))
	if err := testutil.CollectAndCompare(&snapshotCollector{checker: c}, strings.NewReader(want),
		"certgate_ca_not_after_timestamp_seconds", "certgate_crl_info", "certgate_crl_next_update_timestamp_seconds", "certgate_crl_revoked_certificates"); err != nil {
		t.Error(err)
	}
}
