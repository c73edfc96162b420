package server

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/config"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// serviceConfig is the configuration of a certgate serving w's files from
// trustDir and policyDir on ephemeral loopback ports, its admin API on a
// Unix socket, without file watching (the tests reload when they mean to).
func serviceConfig(t *testing.T, w *diskWorld, trustDir, policyDir string) config.Config {
	t.Helper()
	// A short path: Unix socket names are limited to about 100 bytes.
	sockDir, err := os.MkdirTemp("", "cgsvc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	tc := w.trustConfig(trustDir)
	cfg := config.Default()
	cfg.Listen.GRPC, cfg.Listen.HTTP, cfg.Listen.Metrics = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Trust.CAFiles, cfg.Trust.CRLFiles, cfg.Trust.CRLMode = tc.CAFiles, tc.CRLFiles, trust.CRLModeFullChain
	cfg.Policy.Dir = policyDir
	cfg.Reload.Watch = false
	cfg.Admin.Listen = "unix:" + filepath.Join(sockDir, "admin.sock")
	cfg.Listen.ShutdownGrace = 0 // the default grace
	return cfg
}

// runService runs svc until the test ends and returns its addresses once
// it serves, and the channel Run's result arrives on.
func runService(t *testing.T, svc *Service, ready <-chan Addrs) (Addrs, <-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(cancel)
	select {
	case a := <-ready:
		return a, done, cancel
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the service does not serve after 20s")
	}
	return Addrs{}, nil, nil
}

// newTestService is a Service of cfg with its service log and decision
// lines in logs, and the channel its addresses arrive on.
func newTestService(t *testing.T, cfg config.Config, logs *testlog.Buffer) (*Service, <-chan Addrs) {
	t.Helper()
	ready := make(chan Addrs, 1)
	svc, err := NewService(context.Background(), cfg, ServiceOptions{
		Logger:      slog.New(slog.NewJSONHandler(logs, nil)),
		DecisionLog: NewDecisionLog(logs, 1, DenyRate(0, 0)),
		Ready:       func(a Addrs) { ready <- a },
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, ready
}

// TestServiceServesEveryListenerAndReloads runs the Service as certgate
// serve does and uses each of its listeners: a check over gRPC and HTTP,
// the metrics of those decisions, the admin API's status and reload, and
// a reload through the Service (SIGHUP's path) that revokes a client.
func TestServiceServesEveryListenerAndReloads(t *testing.T) {
	w := newDiskWorld(t)
	trustDir, policyDir := t.TempDir(), t.TempDir()
	w.write(t, trustDir, policyDir, version{})
	logs := &testlog.Buffer{}
	svc, ready := newTestService(t, serviceConfig(t, w, trustDir, policyDir), logs)
	addrs, done, cancel := runService(t, svc, ready)
	if addrs.GRPC == "" || addrs.HTTP == "" || addrs.Metrics == "" || !strings.HasPrefix(addrs.Admin, "unix:") {
		t.Fatalf("addresses %+v, want all four", addrs)
	}
	viewer := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	get := client.Check{CertPEM: viewer.CertPEM(), Method: "GET", Target: "/api/v1/vm"}

	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	checkGRPC := func() bool {
		resp, err := authv3.NewAuthorizationClient(conn).Check(context.Background(), client.EnvoyRequest(get))
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetOkResponse() != nil
	}
	if !checkGRPC() {
		t.Fatal("viewer GET over gRPC denied, want allowed")
	}
	req, err := client.NGINXRequest("http://"+addrs.HTTP, get)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("viewer GET over HTTP: %v %v, want 200", resp, err)
	} else {
		_ = resp.Body.Close()
	}
	metrics := scrape(t, addrs.Metrics)
	for _, want := range []string{
		`certgate_decisions_total{reason="granted",result="allow",source="envoy",status="200"} 1`,
		`certgate_decisions_total{reason="granted",result="allow",source="header",status="200"} 1`,
		`certgate_snapshot_revision 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	adminConn, err := grpc.NewClient(addrs.Admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = adminConn.Close() })
	admin := adminv1.NewAdminServiceClient(adminConn)
	st, err := admin.GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil || st.GetSnapshot().GetRevision() != 1 {
		t.Fatalf("GetStatus: %v %v, want revision 1", st, err)
	}
	if r, err := admin.Reload(context.Background(), &adminv1.ReloadRequest{}); err != nil || r.GetAttempt().GetResult() != adminv1.ReloadResult_RELOAD_RESULT_UNCHANGED {
		t.Fatalf("admin Reload of unchanged files: %v %v, want unchanged", r, err)
	}

	w.write(t, trustDir, policyDir, version{revoked: []*x509.Certificate{viewer.Cert}})
	if a := svc.Reload(context.Background(), "SIGHUP"); a.Result != ReloadSuccess || a.Revision != 2 {
		t.Fatalf("Reload after revoking viewer: %+v, want success at revision 2", a)
	}
	if checkGRPC() {
		t.Error("revoked viewer allowed after the reload")
	}
	st, err = admin.GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil || st.GetSnapshot().GetRevision() != 2 || st.GetLastReload().GetTrigger() != "SIGHUP" || st.GetReloadSuccesses() != 1 {
		t.Errorf("GetStatus after the reload: %v %v, want revision 2 by SIGHUP", st, err)
	}
	if !strings.Contains(scrape(t, addrs.Metrics), `certgate_reloads_total{result="success"} 1`) {
		t.Error("metrics lack the reload")
	}
	if n := len(logs.Records(t, "decision")); n != 3 {
		t.Errorf("%d decision lines, want 3", n)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after a requested stop: %v, want nil", err)
	}
	if _, err := net.Dial("tcp", addrs.GRPC); err == nil {
		t.Error("the gRPC listener still accepts after Run returned")
	}
}

// TestServiceRunFailsWhenAListenerCannotBind: a listener that cannot be
// bound (an address taken, a socket path that is a file) makes Run return
// an error before anything is served, never a start that serves some
// listeners and not others.
func TestServiceRunFailsWhenAListenerCannotBind(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range []struct {
		name string
		set  func(*config.Config)
		want string
	}{
		{"the HTTP listener", func(c *config.Config) { c.Listen.HTTP = taken.Addr().String() }, "listen for HTTP on " + taken.Addr().String()},
		{"the metrics listener", func(c *config.Config) { c.Listen.Metrics = taken.Addr().String() }, "listen for metrics on " + taken.Addr().String()},
		{"the gRPC listener", func(c *config.Config) { c.Listen.GRPC = taken.Addr().String() }, "listen for gRPC on " + taken.Addr().String()},
		// Bound last, after the three TCP listeners.
		{"the admin socket", func(c *config.Config) {
			network, path := c.Admin.AdminAddress()
			if network != "unix" {
				t.Fatal(network)
			}
			mustWrite(t, path, []byte("not a socket"))
		}, "is not a socket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newDiskWorld(t)
			dir := t.TempDir()
			w.write(t, dir, dir, version{})
			cfg := serviceConfig(t, w, dir, dir)
			tt.set(&cfg)
			readied := false
			svc, err := NewService(context.Background(), cfg, ServiceOptions{Logger: slog.New(slog.DiscardHandler),
				DecisionLog: NewDecisionLog(io.Discard, 1), Ready: func(Addrs) { readied = true }})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = svc.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want an error naming %q", err, tt.want)
			}
			if ctx.Err() != nil || readied {
				t.Errorf("Run served (ready called: %v, context ended: %v) before failing", readied, ctx.Err() != nil)
			}
		})
	}
}

// TestServiceRefusesWhatServeRefuses: a configuration serve would refuse,
// or a first snapshot that cannot be loaded, is NewService's error, and a
// Service runs once.
func TestServiceRefusesWhatServeRefuses(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	quiet := ServiceOptions{Logger: slog.New(slog.DiscardHandler), DecisionLog: NewDecisionLog(io.Discard, 1)}

	tcpAdmin := serviceConfig(t, w, dir, dir)
	tcpAdmin.Admin.Listen = "127.0.0.1:0"
	if _, err := NewService(context.Background(), tcpAdmin, quiet); err == nil || !strings.Contains(err.Error(), "admin.listen") {
		t.Errorf("a TCP admin listener without TLS: %v, want an error naming admin.listen", err)
	}
	broken := t.TempDir()
	w.write(t, broken, broken, version{brokenRego: true})
	if _, err := NewService(context.Background(), serviceConfig(t, w, broken, broken), quiet); err == nil || !strings.Contains(err.Error(), "load policy") {
		t.Errorf("a policy that does not compile: %v, want a load policy error", err)
	}

	svc, err := NewService(context.Background(), serviceConfig(t, w, dir, dir), quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stops as soon as it serves
	if err := svc.Run(ctx); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if err := svc.Run(context.Background()); !errors.Is(err, ErrServiceRan) {
		t.Errorf("second Run = %v, want ErrServiceRan", err)
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
