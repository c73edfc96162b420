package test

import (
	"context"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

// TestACRLURLFailsClosedAtStartAndTheCacheCoversARestart: a certgate whose
// CRL server is down at start, with nothing cached, serves but denies every
// client (the CRL is missing: crl_mode full_chain, the default with
// crl_urls) until the CRL arrives; a second certgate started with the
// first one's cache while the server is down again serves that CRL at once.
func TestACRLURLFailsClosedAtStartAndTheCacheCoversARestart(t *testing.T) {
	bin := certgateBinary(t)
	dir := t.TempDir()
	ctx := context.Background()
	caDir := filepath.Join(dir, "ca")
	ca, err := pki.Init(ctx, caDir, pki.InitOptions{Subject: pkix.Name{CommonName: "start CA"}})
	if err != nil {
		t.Fatal(err)
	}
	issued, err := ca.Issue(ctx, pki.IssueRequest{Name: "viewer", CommonName: "viewer", Organizations: []string{"viewers"}})
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(issued.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	runPKI(t, bin, "crl", "--dir", caDir)
	crl, err := os.ReadFile(filepath.Join(caDir, pki.CRLDER))
	if err != nil {
		t.Fatal(err)
	}
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		if !up.Load() {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = rw.Write(crl)
	}))
	t.Cleanup(srv.Close)
	caFile, cache := filepath.Join(caDir, pki.CACertFile), filepath.Join(dir, "cache")

	first := startReplica(t, bin, filepath.Join(dir, "first"), caFile, srv.URL+"/ca.crl", cache)
	if s := checkStatus(t, first, pem); s != http.StatusUnauthorized {
		t.Fatalf("without its CRL: status %d, want 401", s)
	}
	up.Store(true)
	waitStatusNot(t, first, pem, http.StatusUnauthorized, 15*time.Second)

	up.Store(false)
	second := startReplica(t, bin, filepath.Join(dir, "second"), caFile, srv.URL+"/ca.crl", cache)
	if s := checkStatus(t, second, pem); s == http.StatusUnauthorized {
		t.Fatal("a restart with the server down did not serve the cached CRL")
	}
}

// waitStatusNot waits until the replica at addr answers pem with another
// status than not, for at most limit.
func waitStatusNot(t *testing.T, addr string, pem []byte, not int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for checkStatus(t, addr, pem) == not {
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers %d after %s", addr, not, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
