package loadgen

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/server"
)

// TestStartCertgateRunsWhatServeRuns: the certgate that `bench --serve`
// loads is certgate serve's server.Service, so besides the check endpoints
// it has the metrics listener, the admin API and reloads, and what a run
// makes shows up in its metrics.
func TestStartCertgateRunsWhatServeRuns(t *testing.T) {
	cg, clients := startCertgate(t)
	mix, err := NewMix(clients, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	target, err := NewGRPCTarget(cg.GRPCAddr, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Close() }()
	res, err := Run(t.Context(), target, mix, Options{Concurrency: 4, Requests: 40, CheckExpect: true, Timeout: testTimeout, MaxDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wantClasses(t, res)

	resp, err := http.Get("http://" + cg.MetricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, want := range []string{`certgate_decisions_total{reason="granted",result="allow",source="envoy",status="200"}`,
		`certgate_verdict_cache_requests_total{result="hit"}`, "certgate_snapshot_revision 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics of the in-process certgate lack %s", want)
		}
	}

	conn, err := grpc.NewClient(cg.AdminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	admin := adminv1.NewAdminServiceClient(conn)
	r, err := admin.Reload(context.Background(), &adminv1.ReloadRequest{})
	if err != nil || r.GetAttempt().GetResult() != adminv1.ReloadResult_RELOAD_RESULT_UNCHANGED {
		t.Fatalf("admin Reload: %v %v, want unchanged", r, err)
	}
	if a := cg.Service.Reload(context.Background(), "test"); a.Result != server.ReloadUnchanged {
		t.Errorf("Service.Reload: %+v, want unchanged", a)
	}
	st, err := admin.GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil || st.GetSnapshot().GetRevision() != 1 || st.GetLastReload().GetTrigger() != "test" || st.GetSnapshot().GetVerdictCacheEntries() == 0 {
		t.Errorf("GetStatus: %v %v, want revision 1, the last reload by test and the verdicts of the run", st, err)
	}
}
