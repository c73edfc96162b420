package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/pki"
)

// TestFaultCRLDeletedUnderLoad deletes a CRL file under load: the reload
// fails and says so in GetStatus, the old snapshot keeps serving with no
// change in decisions, and restoring the file clears the error.
func TestFaultCRLDeletedUnderLoad(t *testing.T) {
	hold := 3 * time.Second
	if testing.Short() {
		hold = time.Second
	}
	w := newWorld(t)
	p := startFaultCertgate(t, w, faultConfig{})
	admin := p.admin()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := admin.GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rev := st.GetSnapshot().GetRevision()
	rssStart := p.rssBytes()
	loadDone := make(chan loadReport, 1)
	go func() { loadDone <- runLoad(ctx, faultTarget(p, w, steadyClasses), hold+20*time.Second) }()

	time.Sleep(500 * time.Millisecond)
	crl := w.crls[1]
	content, err := os.ReadFile(crl)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if err := os.Remove(crl); err != nil {
		t.Fatal(err)
	}
	detect, st, err := waitStatus(ctx, admin, at, 5*time.Second, reloadedAfter(at, adminv1.ReloadResult_RELOAD_RESULT_FAILURE))
	if err != nil {
		t.Fatalf("the deleted CRL was not reported: %v", err)
	}
	reported := st.GetLastReload().GetError()
	if !strings.Contains(reported, "issuing.crl") {
		t.Errorf("reload error %q does not name the deleted file", reported)
	}
	time.Sleep(hold) // serving from the old snapshot, under load
	at = time.Now()
	if err := writeRename(crl, content); err != nil {
		t.Fatal(err)
	}
	// The restored file is what the serving snapshot was read from: the
	// reload finds nothing changed, and the error is gone.
	recovery, st, err := waitStatus(ctx, admin, at, 5*time.Second, reloadedAfter(at, adminv1.ReloadResult_RELOAD_RESULT_UNCHANGED))
	if err != nil {
		t.Errorf("restoring the CRL did not clear the reload error: %v", err)
	}
	if got := st.GetSnapshot().GetRevision(); got != rev {
		t.Errorf("revision %d after delete and restore, want the snapshot of the start (%d) to have served throughout", got, rev)
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	report := <-loadDone
	finishFaultRun(t, p, faultResult{
		Scenario: "CRL deleted", Load: report, Recovery: []time.Duration{recovery},
		RecoveryOf: "restore → GetStatus shows a reload without error",
		RSSStart:   rssStart,
		Extra:      fmt.Sprintf("deletion reported after %v (%q)", detect.Round(time.Millisecond), tail(reported, 40)),
	})
	checkLoad(t, report)
}

// TestFaultStaleCRL lets the issuing CA's CRL go past its nextUpdate under
// load. With on_stale_crl deny every chain below that CA gets 401; with
// warn they keep their answers and every such decision is logged and
// counted as stale.
func TestFaultStaleCRL(t *testing.T) {
	t.Run("deny answers 401 to every chain that needs the stale CRL", func(t *testing.T) {
		w := newWorld(t)
		p := startFaultCertgate(t, w, faultConfig{onStaleCRL: "deny"})
		admin := p.admin()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rssStart := p.rssBytes()
		nextUpdate := time.Now().Add(4 * time.Second).Truncate(time.Second)
		crl := w.issuing.CRLWith(pki.CRLOptions{Number: big.NewInt(2), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: nextUpdate}, w.keys["revoked"].Cert)
		at := time.Now()
		if err := writeRename(w.crls[1], pki.EncodeCRLPEM(crl.Raw)); err != nil {
			t.Fatal(err)
		}
		reload, _, err := waitStatus(ctx, admin, at, 3*time.Second, reloadedAfter(at, adminv1.ReloadResult_RELOAD_RESULT_SUCCESS))
		if err != nil {
			t.Fatal(err)
		}
		// On a slow machine the reload may leave little time before
		// nextUpdate; the run after it is the one that matters.
		fresh := newLoadReport()
		if d := time.Until(nextUpdate) - 300*time.Millisecond; d > 0 {
			fresh = runLoad(ctx, faultTarget(p, w, steadyClasses), d)
		}
		time.Sleep(time.Until(nextUpdate.Add(300 * time.Millisecond)))
		stale := runLoad(ctx, faultTarget(p, w, allUnauthenticated(steadyClasses)), 3*time.Second)
		st, err := admin.GetStatus(ctx, &adminv1.GetStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if got := crlState(st, "issuing CA"); got != adminv1.RevocationListState_REVOCATION_LIST_STATE_STALE {
			t.Errorf("GetStatus shows the issuing CRL as %v, want STALE", got)
		}
		finishFaultRun(t, p, faultResult{
			Scenario: "stale CRL (deny)", Load: stale, RSSStart: rssStart,
			Extra: fmt.Sprintf("before nextUpdate: %s; CRL reload %v", fresh, reload.Round(time.Millisecond)),
		})
		if fresh.Requests > 0 {
			checkLoad(t, fresh)
		}
		checkLoad(t, stale)
	})
	t.Run("warn keeps answering and logs and counts every stale decision", func(t *testing.T) {
		w := newWorld(t)
		p := startFaultCertgate(t, w, faultConfig{onStaleCRL: "warn"})
		admin := p.admin()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rssStart := p.rssBytes()
		// A newer CRL already past its nextUpdate. Its thisUpdate is not
		// before the serving CRL's (issued with the world, dated a few
		// minutes back), or the reload would refuse it as out of order.
		crl := w.issuing.CRLWith(pki.CRLOptions{Number: big.NewInt(2), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(-time.Second)}, w.keys["revoked"].Cert)
		at := time.Now()
		if err := writeRename(w.crls[1], pki.EncodeCRLPEM(crl.Raw)); err != nil {
			t.Fatal(err)
		}
		reload, st, err := waitStatus(ctx, admin, at, 3*time.Second, reloadedAfter(at, adminv1.ReloadResult_RELOAD_RESULT_SUCCESS))
		if err != nil {
			t.Fatal(err)
		}
		if got := crlState(st, "issuing CA"); got != adminv1.RevocationListState_REVOCATION_LIST_STATE_STALE {
			t.Errorf("GetStatus shows the issuing CRL as %v, want STALE: %v", got, st.GetSnapshot().GetRevocationLists())
		}
		report := runLoad(ctx, faultTarget(p, w, steadyClasses), 3*time.Second)
		counted := metricValue(t, p, "certgate_stale_crl_decisions_total")
		logged, revokedAllowed := staleDecisions(t, p.decisionLog)
		if counted <= 0 {
			t.Errorf("certgate_stale_crl_decisions_total = %v, want > 0", counted)
		}
		if logged == 0 {
			t.Error("no decision log line has stale_crl true")
		}
		if revokedAllowed > 0 {
			t.Errorf("the decision log shows %d allows of the revoked client: a stale CRL still revokes", revokedAllowed)
		}
		finishFaultRun(t, p, faultResult{
			Scenario: "stale CRL (warn)", Load: report, RSSStart: rssStart,
			Extra: fmt.Sprintf("stale decisions counted %.0f, logged %d; CRL reload %v", counted, logged, reload.Round(time.Millisecond)),
		})
		checkLoad(t, report)
	})
}

// tail is the end of s, where an error says what went wrong.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// allUnauthenticated is classes with every answer 401: below a CA whose
// CRL is stale nothing is authenticated, and the other clients were
// answered 401 already.
func allUnauthenticated(classes []loadClass) []loadClass {
	out := make([]loadClass, len(classes))
	for i, c := range classes {
		c.Want = http.StatusUnauthorized
		out[i] = c
	}
	return out
}

// crlState is the state GetStatus shows for the CRL whose issuer contains cn.
func crlState(st *adminv1.GetStatusResponse, cn string) adminv1.RevocationListState {
	for _, rl := range st.GetSnapshot().GetRevocationLists() {
		if strings.Contains(rl.GetIssuer(), "CN="+cn) {
			return rl.GetState()
		}
	}
	return adminv1.RevocationListState_REVOCATION_LIST_STATE_UNSPECIFIED
}

// metricValue sums every series of the metric name on p's metrics
// listener; name may include labels, as in
// certgate_reloads_total{result="unchanged"}.
func metricValue(t *testing.T, p *certgateProc, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + p.metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		series := strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") ||
			strings.HasSuffix(name, "}") && strings.HasPrefix(line, name)
		if !series {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// staleDecisions counts the decision log lines marked stale_crl, and the
// allows of the revoked client.
func staleDecisions(t *testing.T, path string) (stale, revokedAllowed int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		var d struct {
			User     string `json:"user"`
			Allow    bool   `json:"allow"`
			StaleCRL bool   `json:"stale_crl"`
		}
		if err := json.Unmarshal(s.Bytes(), &d); err != nil {
			t.Fatalf("decision log line %q: %v", s.Text(), err)
		}
		if d.StaleCRL {
			stale++
		}
		if d.User == "revoked" && d.Allow {
			revokedAllowed++
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return stale, revokedAllowed
}

// finishFaultRun checks that certgate survived, reads its RSS, stops it
// with SIGTERM (exit 0 expected) and reports the run.
func finishFaultRun(t *testing.T, p *certgateProc, f faultResult) {
	t.Helper()
	alive := p.alive()
	if alive {
		f.RSSEnd = p.rssBytes()
	}
	exit := p.stop()
	if f.Extra != "" {
		f.Extra += ", "
	}
	f.Extra += "exit " + exitText(exit)
	reportFault(t, f)
	if !alive {
		t.Fatalf("certgate died\n%s", p.logTail())
	}
	if exit != nil {
		t.Errorf("certgate exit after SIGTERM: %v\n%s", exit, p.logTail())
	}
	checkFlatRSS(t, f.RSSStart, f.RSSEnd)
}
