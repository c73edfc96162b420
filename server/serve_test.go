package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki/pkitest"
)

// running is a certgate serving gRPC, HTTP and metrics on loopback.
type running struct {
	w                               *diskWorld
	trustDir, policyDir             string
	checker                         *Checker
	reloader                        *Reloader
	grpcAddr, httpAddr, metricsAddr string
	cancel                          context.CancelFunc
	done                            chan error
}

func startServers(t *testing.T, opts ...func(*servers)) *running {
	t.Helper()
	r := &running{w: newDiskWorld(t), trustDir: t.TempDir(), policyDir: t.TempDir(), done: make(chan error, 1)}
	r.w.write(t, r.trustDir, r.policyDir, version{})
	load := func(ctx context.Context, rev uint64) (*Snapshot, error) {
		return LoadSnapshot(ctx, r.w.trustConfig(r.trustDir), r.policyDir, rev)
	}
	snap, err := load(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	r.checker = NewChecker(snap, Options{Logger: log, Metrics: metrics})
	r.reloader = &Reloader{Checker: r.checker, Source: LoadFunc(load), Logger: log, Metrics: metrics}
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.grpcAddr, r.httpAddr, r.metricsAddr = grpcLis.Addr().String(), httpLis.Addr().String(), metricsLis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	srv := &servers{Checker: r.checker, Logger: log, GRPC: grpcLis, HTTP: httpLis, MetricsListener: metricsLis, HTTPTrust: loopbackTrust,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ShutdownGrace: 2 * time.Second}
	for _, o := range opts {
		o(srv)
	}
	go func() { r.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func TestMetricsEndpointExposesDecisionsReloadsAndDeadlines(t *testing.T) {
	r := startServers(t)
	viewer := r.w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	checkHTTP := func(method, path string) int {
		t.Helper()
		req, err := client.NGINXRequest("http://"+r.httpAddr, client.Check{CertPEM: viewer.CertPEM(), Method: method, Target: path})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if s := checkHTTP("GET", "/api/v1/vm"); s != 200 {
		t.Fatalf("viewer GET: %d", s)
	}
	checkHTTP("GET", "/api/v1/vm") // a verdict cache hit
	if s := checkHTTP("POST", "/api/v1/vm"); s != 403 {
		t.Fatalf("viewer POST: %d", s)
	}
	r.w.write(t, r.trustDir, r.policyDir, version{brokenRego: true})
	r.reloader.Attempt(context.Background(), "test")

	resp, err := http.Get("http://" + r.metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`certgate_decisions_total{reason="granted",result="allow",source="header",status="200"} 2`,
		`certgate_decisions_total{reason="missing_permission",result="deny",source="header",status="403"} 1`,
		`certgate_decision_duration_seconds_bucket{le="+Inf"} 3`,
		`certgate_verdict_cache_requests_total{result="hit"} 2`,
		`certgate_verdict_cache_requests_total{result="miss"} 1`,
		`certgate_reloads_total{result="failure"} 1`,
		`certgate_last_reload_failed 1`,
		`certgate_snapshot_revision 1`,
		`certgate_snapshot_age_seconds `,
		`certgate_crl_info{`,
		`certgate_crl_next_update_timestamp_seconds{`,
		`certgate_crl_revoked_certificates{`,
		`certgate_ca_not_after_timestamp_seconds{`,
		`certgate_verdict_cache_entries 1`,
		`certgate_decision_cache_requests_total{result="hit"} 1`,
		`certgate_decision_cache_requests_total{result="miss"} 2`,
		`certgate_decision_cache_entries 2`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(text, "certgate_"))
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestStopReportsNotServingThenDrains: on stop, a health watcher (what a
// load balancer or Envoy's health checker uses) sees NOT_SERVING, and Run
// returns without error.
func TestStopReportsNotServingThenDrains(t *testing.T) {
	r := startServers(t)
	conn, err := grpc.NewClient(r.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	watch, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := watch.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before stop: %v %v", m, err)
	}
	r.cancel()
	if m, err := watch.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after stop: %v %v, want NOT_SERVING", m, err)
	}
	cancel() // the watcher goes away, as a load balancer's does
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run after stop: %v", err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of the stop")
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestMetricsHaveTheirOwnListener: /metrics is served on the metrics
// listener only, never on the HTTP check listener; both serve the probes.
func TestMetricsHaveTheirOwnListener(t *testing.T) {
	r := startServers(t)
	if code, body := httpGet(t, "http://"+r.httpAddr+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "certgate_") {
		t.Errorf("GET /metrics on the HTTP check listener: %d %.60q, want 404 and no metrics", code, body)
	}
	if code, body := httpGet(t, "http://"+r.metricsAddr+"/metrics"); code != http.StatusOK || !strings.Contains(body, "certgate_snapshot_revision 1") {
		t.Errorf("GET /metrics on the metrics listener: %d, want 200 with the metrics", code)
	}
	for _, addr := range []string{r.httpAddr, r.metricsAddr} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, _ := httpGet(t, "http://"+addr+path); code != http.StatusOK {
				t.Errorf("GET %s on %s: %d, want 200", path, addr, code)
			}
		}
	}
	// The metrics listener is no check endpoint.
	if code, _ := httpGet(t, "http://"+r.metricsAddr+CheckPath); code != http.StatusNotFound {
		t.Errorf("GET %s on the metrics listener: %d, want 404", CheckPath, code)
	}
}

// TestGRPCReflectionIsOffByDefault: reflection lists the services to any
// client of the ext_authz listener, so it is served only when asked for.
func TestGRPCReflectionIsOffByDefault(t *testing.T) {
	for _, on := range []bool{false, true} {
		r := startServers(t, func(s *servers) { s.GRPCReflection = on })
		conn, err := grpc.NewClient(r.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		var resp *reflectionpb.ServerReflectionResponse
		if err == nil {
			// A refused stream shows as io.EOF on Send; Recv has the status.
			_ = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
			resp, err = stream.Recv()
		}
		cancel()
		_ = conn.Close()
		switch {
		case on && err != nil:
			t.Errorf("reflection on: %v", err)
		case on && len(resp.GetListServicesResponse().GetService()) == 0:
			t.Errorf("reflection on: no services listed: %v", resp)
		case !on && status.Code(err) != codes.Unimplemented:
			t.Errorf("reflection off: %v, %v; want Unimplemented", resp, err)
		}
	}
}
