package main

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/loadgen"
)

// runScenario runs bench --json with args and returns the report.
func runScenario(t *testing.T, args ...string) benchReport {
	t.Helper()
	args = append([]string{"bench", "--timeout", "30s", "--serve", "--baseline", "--warmup", "0", "--concurrency", "4", "--crl-entries", "10",
		"--json", "--min-throughput-ratio", "0", "--max-p99-ratio", "0"}, args...) // no targets: the machine is shared
	code, stdout, stderr := runCLI(args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var got benchReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not the report JSON: %v\n%s", err, stdout)
	}
	return got
}

// wantScenarioAnswers checks that certgate answered every class as its
// route expects, and that both sides report CPU per request.
func wantScenarioAnswers(t *testing.T, got benchReport, requests int, want map[loadgen.Class]string) {
	t.Helper()
	cg := got.Certgate
	if cg.Requests != uint64(requests) || cg.Errors != 0 || cg.Mismatches != 0 || cg.WrongAllows != 0 {
		t.Fatalf("certgate: %d requests, %d errors (%s), %d mismatches (%s); want %d, none", cg.Requests, cg.Errors, cg.FirstError, cg.Mismatches, cg.FirstMismatch, requests)
	}
	if len(cg.Classes) != len(want) {
		t.Errorf("classes %+v, want %d", cg.Classes, len(want))
	}
	for _, c := range cg.Classes {
		if c.Requests == 0 {
			t.Errorf("class %s got no requests", c.Class)
		}
		if diff := cmp.Diff(map[string]uint64{want[c.Class]: c.Requests}, c.Status); diff != "" {
			t.Errorf("class %s statuses (-want +got):\n%s", c.Class, diff)
		}
	}
	if got.Baseline == nil || got.Baseline.Requests != uint64(requests) || got.Ratio == nil || got.Ratio.Throughput <= 0 {
		t.Errorf("baseline %+v, ratio %+v; want %d baseline requests and a ratio", got.Baseline, got.Ratio, requests)
	}
	for _, cpu := range [][]loadgen.CPUCost{got.CertgateCPU, got.BaselineCPU} {
		if len(cpu) == 0 || cpu[0].Seconds <= 0 || cpu[0].PerRequestMicros <= 0 {
			t.Errorf("CPU %+v, want a positive CPU time per request", cpu)
		}
	}
}

func TestBenchFleetScenarioSendsEveryRouteAndReportsCPU(t *testing.T) {
	got := runScenario(t, "--requests", "400", "--rounds", "2", "--certs", "20", "--key-type", "rsa2048", "--cert-keys", "2",
		"--mix", "GET /api/v1/vm *1, GET /registry/pull/{id} *1, GET /api/v2/{id} 403 *1")
	wantScenarioAnswers(t, got, 400, map[loadgen.Class]string{"GET /api/v1/vm": "200", "GET /registry/pull/{id}": "200", "GET /api/v2/{id}": "403"})
	if got.Scenario == nil || got.Scenario.Certs != 20 || got.Scenario.KeyType != "rsa-2048" || len(got.RoundRatios) != 2 {
		t.Errorf("scenario %+v, round ratios %v; want 20 rsa-2048 certificates and 2 rounds", got.Scenario, got.RoundRatios)
	}
	if got.CachedVerdicts < 20 {
		t.Errorf("%d cached verdicts, want the 20 certificates of the fleet", got.CachedVerdicts)
	}
}

func TestBenchFleetFromAnRSAIntermediateIsVerifiedThroughIt(t *testing.T) {
	got := runScenario(t, "--requests", "200", "--certs", "10", "--key-type", "rsa-2048", "--cert-keys", "1", "--ca-key-type", "rsa-2048")
	wantScenarioAnswers(t, got, 200, map[loadgen.Class]string{"GET /api/v1/vm": "200"})
	if got.Scenario == nil || got.Scenario.CAKey != "rsa-2048" {
		t.Errorf("scenario %+v, want the rsa-2048 fleet CA", got.Scenario)
	}
}

func TestBenchThroughNGINXComparesWithNGINXInFrontOfTheNoop(t *testing.T) {
	if _, err := loadgen.FindNGINX(); errors.Is(err, loadgen.ErrNoNGINX) {
		if os.Getenv("CI") == "true" {
			t.Fatal("nginx is not installed, and CI must run the NGINX bench test (apt-get install -y nginx-light)")
		}
		t.Skip("SKIPPING: nginx is not installed (apt-get install -y nginx-light)")
	}
	got := runScenario(t, "--requests", "300", "--rounds", "2", "--mode", "nginx", "--mix", "/registry/pull/{id} *2, POST /api/v1/node 403 *1")
	wantScenarioAnswers(t, got, 300, map[loadgen.Class]string{"GET /registry/pull/{id}": "200", "POST /api/v1/node": "403"})
	if !strings.HasPrefix(got.Certgate.Target, "nginx https://127.0.0.1:") || !strings.HasPrefix(got.Baseline.Target, "nginx https://127.0.0.1:") ||
		got.Certgate.Target == got.Baseline.Target {
		t.Errorf("targets %q and %q, want two NGINX", got.Certgate.Target, got.Baseline.Target)
	}
	if len(got.CertgateCPU) != 2 || !strings.HasPrefix(got.CertgateCPU[1].Source, "nginx") || got.CertgateCPU[1].Seconds <= 0 {
		t.Errorf("CPU %+v, want this process's and NGINX's", got.CertgateCPU)
	}
}

func TestBenchRefusesScenarioFlagsThatDoNotGoTogether(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "nginx"}, // without --serve
		{"--serve", "--certs", "3", "--distinct-certs", "3"},
		{"--serve", "--path-template", "/a/{id}", "--mix", "/b"},
		{"--serve", "--certs", "3", "--key-type", "dsa"},
		{"--serve", "--mix", "/a *x"},
		{"--certs", "3", "--ca-key-type", "rsa-2048"}, // without --serve
		{"--serve", "--certs", "3", "--ca-key-type", "dsa"},
	} {
		code, _, stderr := runCLI(append([]string{"bench", "--timeout", "30s", "--requests", "1"}, args...)...)
		if code != exitUsage || stderr == "" {
			t.Errorf("bench %v: exit %d stderr %q, want 2 and a reason", args, code, stderr)
		}
	}
}
