package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testTimeout bounds each request of a test run. It is generous: these
// runs check answers, not speed, and a loaded CI machine under -race can
// take seconds for the first cold verification.
const testTimeout = 30 * time.Second

// startCertgate runs certgate in-process on a fresh demo PKI with a CRL of
// 1,000 extra serials.
func startCertgate(t *testing.T) (*Certgate, Clients) {
	t.Helper()
	dir := t.TempDir()
	c, err := StartCertgate(t.Context(), ServeConfig{Dir: dir, CRLEntries: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	clients, err := LoadClients(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c, clients
}

// wantClasses is every class of the default mix answered as expected.
func wantClasses(t *testing.T, res *Result) {
	t.Helper()
	if res.Errors != 0 || res.Mismatches != 0 || res.WrongAllows != 0 {
		t.Fatalf("errors %d (first %q), mismatches %d (first %q), wrong allows %d; want none",
			res.Errors, res.FirstError, res.Mismatches, res.FirstMismatch, res.WrongAllows)
	}
	want := map[Class]int{ClassAllowed: 200, ClassDenied: 403, ClassRevoked: 401, ClassUnknownRoute: 403}
	for _, c := range res.Classes {
		if c.Requests == 0 {
			t.Errorf("class %s got no requests", c.Class)
		}
		if diff := cmp.Diff(map[int]uint64{want[c.Class]: c.Requests}, c.Status); diff != "" {
			t.Errorf("class %s statuses (-want +got):\n%s", c.Class, diff)
		}
	}
}

func TestRunAgainstCertgateAnswersEveryClassAsExpected(t *testing.T) {
	cg, clients := startCertgate(t)
	mix, err := NewMix(clients, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]func() (Target, error){
		"over gRPC": func() (Target, error) { return NewGRPCTarget(cg.GRPCAddr, 2) },
		"over HTTP": func() (Target, error) { return NewHTTPTarget(cg.HTTPAddr, 4), nil },
	}
	for name, newTarget := range targets {
		t.Run(name, func(t *testing.T) {
			target, err := newTarget()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = target.Close() }()
			res, err := Run(t.Context(), target, mix, Options{Concurrency: 4, Requests: 300, CheckExpect: true, Timeout: testTimeout, MaxDuration: 2 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests != 300 {
				t.Errorf("answered %d requests, want 300", res.Requests)
			}
			wantClasses(t, res)
		})
	}
}

func TestDistinctCertificatesFillTheVerdictCache(t *testing.T) {
	dir := t.TempDir()
	cg, err := StartCertgate(t.Context(), ServeConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cg.Close() }()
	clients, err := LoadClients(dir)
	if err != nil {
		t.Fatal(err)
	}
	distinct, err := DistinctClients(dir, 50)
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewMix(clients, distinct, nil)
	if err != nil {
		t.Fatal(err)
	}
	target, err := NewGRPCTarget(cg.GRPCAddr, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Close() }()
	// One request per schedule slot, so every distinct certificate is sent.
	res, err := Run(t.Context(), target, mix, Options{Concurrency: 1, Requests: len(mix.Schedule), CheckExpect: true, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	wantClasses(t, res)
	seen := map[string]bool{}
	for _, i := range mix.Schedule {
		seen[string(mix.Requests[i].Check.CertPEM)] = true
	}
	if len(seen) != len(clients)+50 {
		t.Errorf("schedule presents %d distinct certificates, want %d", len(seen), len(clients)+50)
	}
}

func TestNoopAllowsEverythingAndMismatchesAreCounted(t *testing.T) {
	noop, err := StartNoop()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = noop.Close() }()
	mix := placeholderMix(t)
	for name, target := range map[string]func() (Target, error){
		"over gRPC": func() (Target, error) { return NewGRPCTarget(noop.GRPCAddr, 2) },
		"over HTTP": func() (Target, error) { return NewHTTPTarget(noop.HTTPAddr, 4), nil },
	} {
		t.Run(name, func(t *testing.T) {
			tg, err := target()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tg.Close() }()
			res, err := Run(context.Background(), tg, mix, Options{Concurrency: 3, Requests: 300, CheckExpect: true, Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests != 300 || res.Status[http.StatusOK] != 300 || res.Errors != 0 {
				t.Fatalf("requests %d, statuses %v, errors %d (%s); want 300 answers of 200", res.Requests, res.Status, res.Errors, res.FirstError)
			}
			var denies uint64
			for _, c := range res.Classes {
				if c.Expect != http.StatusOK {
					denies += c.Requests
				}
			}
			if denies == 0 || res.Mismatches != denies || res.WrongAllows != denies {
				t.Errorf("mismatches %d, wrong allows %d; want both %d (every request that must be denied)", res.Mismatches, res.WrongAllows, denies)
			}
		})
	}
}

func TestSummaryJSONShape(t *testing.T) {
	res := &Result{Target: "grpc 127.0.0.1:1", Elapsed: 2 * time.Second, Status: map[int]uint64{200: 3, 403: 1},
		Classes: []ClassResult{{Class: ClassAllowed, Expect: 200, Requests: 3, Status: map[int]uint64{200: 3}}}}
	for _, d := range []time.Duration{100, 200, 300, 400} {
		res.Latency.Record(d * time.Microsecond)
	}
	res.Requests = res.Latency.Count()
	data, err := json.Marshal(res.Summary())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"target": "grpc 127.0.0.1:1", "requests": 4.0, "duration_seconds": 2.0, "requests_per_second": 2.0,
		"errors": 0.0, "mismatches": 0.0, "wrong_allows": 0.0,
		// p50 is the upper bound of the bucket holding 200µs.
		"latency_us": map[string]any{"p50": 200.703, "p90": 400.0, "p99": 400.0, "p99_9": 400.0, "max": 400.0, "mean": 250.0},
		"status":     map[string]any{"200": 3.0, "403": 1.0},
		"classes":    []any{map[string]any{"class": "allowed", "expect": 200.0, "requests": 3.0, "status": map[string]any{"200": 3.0}, "mismatches": 0.0}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary JSON (-want +got):\n%s", diff)
	}
}

func TestParseVmRSS(t *testing.T) {
	got, err := parseVmRSS([]byte("Name:\tcertgate\nVmPeak:\t  9000 kB\nVmRSS:\t   51234 kB\nThreads:\t8\n"))
	if err != nil || got != 51234<<10 {
		t.Errorf("parseVmRSS = %d, %v; want %d", got, err, 51234<<10)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); err == nil {
		t.Error("parseVmRSS without a VmRSS line: want an error")
	}
}

func TestTheLookupPolicyAnswersTheMixLikeTheShippedOne(t *testing.T) {
	dir := t.TempDir()
	cg, err := StartCertgate(t.Context(), ServeConfig{Dir: dir, PolicyDir: "testdata/lookup-policy"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cg.Close() }()
	clients, err := LoadClients(dir)
	if err != nil {
		t.Fatal(err)
	}
	distinct, err := DistinctClients(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewMix(clients, distinct, nil)
	if err != nil {
		t.Fatal(err)
	}
	target, err := NewGRPCTarget(cg.GRPCAddr, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Close() }()
	res, err := Run(t.Context(), target, mix, Options{Concurrency: 2, Requests: 300, CheckExpect: true, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	wantClasses(t, res)
}

// countingTarget answers 200 at once and counts the requests it got.
type countingTarget struct{ n atomic.Int64 }

func (c *countingTarget) Name() string            { return "counting" }
func (c *countingTarget) Prepare([]Request) error { return nil }
func (c *countingTarget) Close() error            { return nil }
func (c *countingTarget) Do(context.Context, int, int) (int, error) {
	c.n.Add(1)
	return http.StatusOK, nil
}

// placeholderMix is the mix with one placeholder certificate for every
// client: enough for targets that never verify it.
func placeholderMix(t *testing.T) *Mix {
	t.Helper()
	clients := Clients{}
	for _, n := range mixClients {
		clients[n] = []byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")
	}
	mix, err := NewMix(clients, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return mix
}

func TestIntervalPacesEachWorker(t *testing.T) {
	mix := placeholderMix(t)
	// Flat out, a target that answers at once gets millions of requests
	// in 300 ms; paced at 50 ms, each of 2 workers sends at most one at
	// the start and one per 50 ms after it.
	var tg countingTarget
	res, err := Run(context.Background(), &tg, mix, Options{Concurrency: 2, Interval: 50 * time.Millisecond, Duration: 300 * time.Millisecond, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if got, most := tg.n.Load(), int64(2*(300/50+1)); got < 2 || got > most {
		t.Errorf("paced run sent %d requests, want between 2 and %d", got, most)
	}
	if res.Requests != uint64(tg.n.Load()) {
		t.Errorf("result counts %d requests, the target got %d", res.Requests, tg.n.Load())
	}
}
