package test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// faultResult is the measured outcome of one fault scenario.
type faultResult struct {
	Scenario string
	Load     loadReport
	// Recovery holds one duration per recovery the scenario measured.
	Recovery []time.Duration
	// RecoveryOf says what a recovery is measured from and to.
	RecoveryOf       string
	RSSStart, RSSEnd int64
	// Extra is anything else worth a release note.
	Extra string
}

// line is the result on one line, for t.Logf and FAULT_REPORT.
func (f faultResult) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fault %s: %s", f.Scenario, f.Load)
	if len(f.Recovery) > 0 {
		rs := slices.Clone(f.Recovery)
		slices.Sort(rs)
		fmt.Fprintf(&b, ", recovery (%s) n=%d min %v median %v max %v", f.RecoveryOf, len(rs),
			rs[0].Round(time.Millisecond), rs[len(rs)/2].Round(time.Millisecond), rs[len(rs)-1].Round(time.Millisecond))
	}
	fmt.Fprintf(&b, ", RSS %.1f→%.1f MiB", mib(f.RSSStart), mib(f.RSSEnd))
	if f.Extra != "" {
		b.WriteString(", " + f.Extra)
	}
	return b.String()
}

// mib is n bytes in MiB.
func mib(n int64) float64 { return float64(n) / (1 << 20) }

// reportFault logs the result and appends it to the file FAULT_REPORT
// names, if any.
func reportFault(t *testing.T, f faultResult) {
	t.Helper()
	line := f.line()
	t.Log(line)
	path := os.Getenv("FAULT_REPORT")
	if path == "" {
		return
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Errorf("FAULT_REPORT: %v", err)
		return
	}
	defer func() { _ = out.Close() }()
	if _, err := fmt.Fprintln(out, line); err != nil {
		t.Errorf("FAULT_REPORT: %v", err)
	}
}

// checkFlatRSS fails when the resident set grew beyond 1.5× its start
// plus 20 MiB: the bound of "memory stays flat" for a fault run.
func checkFlatRSS(t *testing.T, start, end int64) {
	t.Helper()
	if limit := start + start/2 + 20<<20; end > limit {
		t.Errorf("RSS grew from %.1f MiB to %.1f MiB (limit %.1f MiB)", mib(start), mib(end), mib(limit))
	}
}

// checkLoad fails on wrong allows, answers other than the contract's and
// transport errors.
func checkLoad(t *testing.T, r loadReport) {
	t.Helper()
	if r.Requests == 0 {
		t.Error("the load driver sent no request")
	}
	if r.WrongAllows > 0 {
		t.Errorf("%d WRONG ALLOWS, the first: %s", r.WrongAllows, r.FirstMismatch)
	}
	if r.Unexpected > 0 {
		t.Errorf("%d answers other than the contract's: %v", r.Unexpected, r.unexpectedNotes)
	}
	if n := r.TransportErrors(); n > 0 {
		t.Errorf("%d transport errors: %v", n, r.Errors)
	}
}
