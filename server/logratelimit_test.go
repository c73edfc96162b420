package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/pki/pkitest"
)

// TestDenialLinesAreLimitedPerCause floods certgate with one kind of
// denial: its lines stop at the burst and then follow the rate, the drop
// is counted, every decision is still counted, and other causes and
// allowed decisions are logged as before.
func TestDenialLinesAreLimitedPerCause(t *testing.T) {
	c, inter := newTestChecker(t)
	now := time.Now()
	c.now = func() time.Time { return now }
	var lines bytes.Buffer
	c.decisions = NewDecisionLog(&lines, 1, DenyRate(50, 100))
	c.metrics = NewMetrics(prometheus.NewRegistry())
	viewer := envoyCheck(inter.Leaf("viewer", pkitest.Orgs("viewers")), "GET", "/api/v1/vm")
	anonymous := &Request{Method: "GET", Target: "/api/v1/vm", Headers: map[string]string{}, Adapter: "grpc"}
	garbage := &Request{Method: "GET", Target: "/api/v1/vm", PeerCertificate: "garbage", Adapter: "grpc"}
	ctx := context.Background()
	send := func(t *testing.T, req *Request, n int, want Cause) {
		t.Helper()
		for range n {
			if res := c.Check(ctx, req); res.Cause != want {
				t.Fatalf("Check = %d %q (%s), want cause %q", res.Status, res.Cause, res.Reason, want)
			}
		}
	}
	count := func(cause Cause) int { return strings.Count(lines.String(), `"cause":"`+string(cause)+`"`) }
	dropped := func(cause Cause) float64 {
		return testutil.ToFloat64(c.metrics.logDropped.WithLabelValues(string(cause)))
	}
	decided := func(cause Cause) float64 {
		return testutil.ToFloat64(c.metrics.decisions.WithLabelValues("deny", "401", "none", string(cause)))
	}

	t.Run("a flood of one cause is logged up to the burst", func(t *testing.T) {
		send(t, anonymous, 150, CauseNoCertificate)
		if got := count(CauseNoCertificate); got != 100 {
			t.Errorf("%d no_certificate lines, want the burst of 100", got)
		}
		if got := dropped(CauseNoCertificate); got != 50 {
			t.Errorf("certgate_decision_log_dropped_total{reason=no_certificate} = %v, want 50", got)
		}
		if got := decided(CauseNoCertificate); got != 150 {
			t.Errorf("certgate_decisions_total{reason=no_certificate} = %v, want every one of the 150", got)
		}
	})
	t.Run("another cause still has its own burst", func(t *testing.T) {
		send(t, garbage, 3, CauseMalformedCertificate)
		if got := count(CauseMalformedCertificate); got != 3 {
			t.Errorf("%d malformed_certificate lines, want 3", got)
		}
	})
	t.Run("allowed decisions are not limited", func(t *testing.T) {
		send(t, viewer, 150, "granted")
		if got := count("granted"); got != 150 {
			t.Errorf("%d granted lines, want 150", got)
		}
	})
	t.Run("the rate refills the bucket and the next line says what was dropped", func(t *testing.T) {
		lines.Reset()
		now = now.Add(time.Second)
		send(t, anonymous, 60, CauseNoCertificate)
		if got := count(CauseNoCertificate); got != 50 {
			t.Errorf("%d no_certificate lines a second later, want the rate of 50", got)
		}
		first, _, _ := strings.Cut(lines.String(), "\n")
		if !strings.Contains(first, `"dropped_before":50`) {
			t.Errorf("the first line after the drop does not count the 50 dropped: %s", first)
		}
		if strings.Count(lines.String(), "dropped_before") != 1 {
			t.Errorf("dropped_before on more than the first line:\n%s", lines.String())
		}
		if got := dropped(CauseNoCertificate); got != 60 {
			t.Errorf("certgate_decision_log_dropped_total{reason=no_certificate} = %v, want 60", got)
		}
	})
}

func TestUnlimitedDecisionLogsLogEveryDenial(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  func(w io.Writer) Options
	}{
		{"deny_rate 0", func(w io.Writer) Options { return Options{DecisionLog: NewDecisionLog(w, 1, DenyRate(0, 0))} }},
		// Tests and one-shot tools; certgate serve always sets a DecisionLog.
		{"no DecisionLog, decisions to the Logger", func(w io.Writer) Options { return Options{Logger: slog.New(slog.NewJSONHandler(w, nil))} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var lines bytes.Buffer
			c := NewChecker(nil, tt.log(&lines))
			for range 500 {
				c.Check(context.Background(), &Request{Method: "GET", Target: "/", Adapter: "grpc"})
			}
			if got := strings.Count(lines.String(), `"msg":"decision"`); got != 500 {
				t.Errorf("%d lines, want all 500", got)
			}
		})
	}
}

func TestDenyLimiterKeepsABoundedSetOfBuckets(t *testing.T) {
	l := newDenyLimiter(1, 1)
	now := time.Now()
	written := 0
	for i := range 2 * maxLimitedCauses {
		if ok, _ := l.admit(Cause(fmt.Sprintf("cause_%d", i)), now); ok {
			written++
		}
	}
	if len(l.buckets) > maxLimitedCauses+1 {
		t.Errorf("%d buckets, want at most %d", len(l.buckets), maxLimitedCauses+1)
	}
	// Each of the first causes has its own line; the rest share one.
	if want := maxLimitedCauses + 1; written != want {
		t.Errorf("%d lines written, want %d", written, want)
	}
}

func TestDenyLimiterIgnoresAClockGoingBack(t *testing.T) {
	l := newDenyLimiter(10, 1)
	now := time.Now()
	if ok, _ := l.admit("x", now); !ok {
		t.Fatal("the first line is refused")
	}
	if ok, _ := l.admit("x", now.Add(-time.Hour)); ok {
		t.Error("a clock going back refilled the bucket")
	}
	if ok, _ := l.admit("x", now.Add(100*time.Millisecond)); !ok {
		t.Error("a tenth of a second at 10/s did not refill one line")
	}
}
