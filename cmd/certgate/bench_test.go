package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/loadgen"
)

func TestBenchBaselineServeReportsBothRunsAndTheRatio(t *testing.T) {
	code, stdout, stderr := runCLI("bench", "--timeout", "30s", "--baseline", "--serve", "--requests", "300", "--warmup", "0",
		"--concurrency", "4", "--crl-entries", "100", "--distinct-certs", "20", "--rounds", "3", "--json",
		"--min-throughput-ratio", "0", "--max-p99-ratio", "0") // no targets: the machine is shared
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var got benchReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not the report JSON: %v\n%s", err, stdout)
	}
	if got.Baseline == nil || got.Ratio == nil {
		t.Fatalf("report without a baseline or ratio: %s", stdout)
	}
	if got.Baseline.Requests != 300 || got.Baseline.Status["200"] != 300 {
		t.Errorf("baseline: %d requests, statuses %v; want 300 answers of 200", got.Baseline.Requests, got.Baseline.Status)
	}
	cg := got.Certgate
	if cg.Requests != 300 || cg.Errors != 0 || cg.Mismatches != 0 || cg.WrongAllows != 0 {
		t.Fatalf("certgate: %d requests, %d errors (%s), %d mismatches (%s); want 300, none", cg.Requests, cg.Errors, cg.FirstError, cg.Mismatches, cg.FirstMismatch)
	}
	want := map[loadgen.Class]string{loadgen.ClassAllowed: "200", loadgen.ClassDenied: "403", loadgen.ClassRevoked: "401", loadgen.ClassUnknownRoute: "403"}
	for _, c := range cg.Classes {
		if c.Requests == 0 {
			t.Errorf("class %s got no requests", c.Class)
		}
		if diff := cmp.Diff(map[string]uint64{want[c.Class]: c.Requests}, c.Status); diff != "" {
			t.Errorf("class %s statuses (-want +got):\n%s", c.Class, diff)
		}
	}
	if got.Ratio.Throughput <= 0 || got.Ratio.P99 <= 0 {
		t.Errorf("ratio %+v, want positive figures", *got.Ratio)
	}
	if got.RSSBytes <= 0 || got.CachedVerdicts == 0 || got.CRLEntries != 100 || got.DistinctCerts != 20 {
		t.Errorf("rss %d, cached verdicts %d, crl entries %d, distinct certs %d; want all set", got.RSSBytes, got.CachedVerdicts, got.CRLEntries, got.DistinctCerts)
	}
}

func TestBenchOverHTTPPrintsTheDecisionMix(t *testing.T) {
	code, stdout, stderr := runCLI("bench", "--timeout", "30s", "--serve", "--mode", "http", "--requests", "200", "--warmup", "0", "--concurrency", "2", "--crl-entries", "10")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"certgate (in-process) (http 127.0.0.1:", "200 in", "p99", "allowed        want 200, got 200:", "revoked        want 401, got 401:", "unknown_route  want 403, got 403:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchWithoutAPKIExplainsWhatToDo(t *testing.T) {
	code, _, stderr := runCLI("bench", "--timeout", "30s", "--pki", t.TempDir(), "--requests", "1")
	if code != exitUsage || !strings.Contains(stderr, "certgate dev") {
		t.Errorf("exit %d stderr %q, want 2 and a hint to run certgate dev", code, stderr)
	}
}

func TestBenchRefusesAnUnknownMode(t *testing.T) {
	code, _, stderr := runCLI("bench", "--timeout", "30s", "--mode", "udp")
	if code != exitUsage || !strings.Contains(stderr, "--mode") {
		t.Errorf("exit %d stderr %q, want 2 naming --mode", code, stderr)
	}
}

func TestBenchReportsTheRSSOfAnotherProcess(t *testing.T) {
	code, stdout, stderr := runCLI("bench", "--timeout", "30s", "--serve", "--requests", "50", "--warmup", "0", "--crl-entries", "0", "--rss-pid", strconv.Itoa(os.Getpid()))
	if code != exitOK || !strings.Contains(stdout, "MiB (VmRSS of the process given by --pid)") {
		t.Errorf("exit %d, want 0 and the RSS of the given process\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// TestBenchBaselineExitsNonZeroWhenATargetIsMissed: a ratio that misses
// its stated target is exit 1 and says so; the no-op's answers, which are
// 200 whatever the class, are not printed as if they were checked.
func TestBenchBaselineExitsNonZeroWhenATargetIsMissed(t *testing.T) {
	tests := []struct {
		name   string
		target []string
		code   int
		want   []string
	}{
		{"a throughput under its target", []string{"--min-throughput-ratio", "1000", "--max-p99-ratio", "0"}, exitFail,
			[]string{"(target ≥ 1000: MISSED)", "MISSED: throughput ", " is under the target of 1000× (exit 1)"}},
		{"a p99 over its target", []string{"--min-throughput-ratio", "0", "--max-p99-ratio", "0.000001"}, exitFail,
			[]string{"(target ≤ 1e-06: MISSED)", "MISSED: p99 "}},
		{"no targets", []string{"--min-throughput-ratio", "0", "--max-p99-ratio", "0"}, exitOK,
			[]string{"throughput ", "(no target), p99 "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bench", "--timeout", "30s", "--baseline", "--serve", "--requests", "100", "--warmup", "0", "--concurrency", "2", "--crl-entries", "0"}, tt.target...)
			code, stdout, stderr := runCLI(args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			base, _, _ := strings.Cut(stdout, "certgate (in-process)")
			for _, want := range append(tt.want, "answers not checked", "denied         got 200:") {
				if !strings.Contains(stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, stdout)
				}
			}
			if strings.Contains(base, "want 403") {
				t.Errorf("the no-op baseline is reported against certgate's expectations:\n%s", base)
			}
		})
	}
}
