package server

import (
	"context"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/duration"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// TestAServiceServesTheCRLOfItsURLAndReloadsOnANewOne: a Service with
// trust.crl_urls holds the fetched CRL in its first snapshot, and a CRL
// that revokes a client becomes a new snapshot without any reload call.
func TestAServiceServesTheCRLOfItsURLAndReloadsOnANewOne(t *testing.T) {
	ca := pkitest.New(t, "url ca")
	leaf := ca.Leaf("viewer", pkitest.Orgs("viewers"))
	var mu sync.Mutex
	body := ca.CRLWith(pki.CRLOptions{Number: big.NewInt(1)}).Raw
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = rw.Write(body)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Listen = config.Listen{GRPC: "127.0.0.1:0"}
	cfg.Admin.Listen, cfg.Reload.Watch, cfg.DecisionLog.Output = "", false, "off"
	cfg.Trust.CAFiles, cfg.Trust.URLs = []string{caFile}, []string{srv.URL + "/ca.crl"}
	cfg.Trust.Refresh = duration.Duration(time.Second)
	svc, err := NewService(context.Background(), cfg, ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	crls := svc.Checker().Snapshot().Trust.Status().CRLs
	if len(crls) != 1 || crls[0].File != srv.URL+"/ca.crl" || crls[0].Number != "1" {
		t.Fatalf("first snapshot's CRLs %+v, want number 1 from the URL", crls)
	}
	req := func() *Request {
		return RequestFromCheck(client.EnvoyRequest(client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/api/v1/vm", Host: "x"}))
	}
	if res := svc.Checker().Check(context.Background(), req()); res.Status != http.StatusOK {
		t.Fatalf("before the revocation: %d, want 200", res.Status)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	mu.Lock()
	body = ca.CRLWith(pki.CRLOptions{Number: big.NewInt(2)}, leaf.Cert).Raw
	mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for svc.Checker().Check(context.Background(), req()).Status != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the revoking CRL did not take effect within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rev := svc.Checker().Snapshot().Revision; rev != 2 {
		t.Errorf("revision %d after the new CRL, want 2", rev)
	}
}

// TestAFetchedCRLOfARemovedCAKeyDoesNotBlockTheRotation: an operator who
// replaces a CA (a compromised key, say) by one of the same name and a new
// key must see the reload succeed, although the CRL URL still serves the
// old key's CRL: that CRL covers no configured CA any more. It used to
// fail every reload ("signature does not verify"), so the old CA stayed
// trusted until the URL published a CRL of the new key.
func TestAFetchedCRLOfARemovedCAKeyDoesNotBlockTheRotation(t *testing.T) {
	old := pkitest.New(t, "rotated ca")
	leaf := old.Leaf("viewer", pkitest.Orgs("viewers"))
	body := old.CRLWith(pki.CRLOptions{Number: big.NewInt(1)}).Raw
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { _, _ = rw.Write(body) }))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, old.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Listen = config.Listen{GRPC: "127.0.0.1:0"}
	cfg.Admin.Listen, cfg.Reload.Watch, cfg.DecisionLog.Output = "", false, "off"
	cfg.Trust.CAFiles, cfg.Trust.URLs = []string{caFile}, []string{srv.URL + "/ca.crl"}
	svc, err := NewService(context.Background(), cfg, ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	req := RequestFromCheck(client.EnvoyRequest(client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/api/v1/vm", Host: "x"}))
	if res := svc.Checker().Check(context.Background(), req); res.Status != http.StatusOK {
		t.Fatalf("before the rotation: %d, want 200", res.Status)
	}
	if err := os.WriteFile(caFile, old.Impostor().CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if a := svc.Reload(context.Background(), "rotation"); a.Result != ReloadSuccess {
		t.Fatalf("reload after the rotation: %s (%v), want success", a.Result, a.Err)
	}
	if res := svc.Checker().Check(context.Background(), req); res.Status != http.StatusUnauthorized {
		t.Fatalf("a leaf of the removed key after the rotation: %d, want 401", res.Status)
	}
}
