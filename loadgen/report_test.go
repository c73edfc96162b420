package loadgen

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMergedResultsAddUp(t *testing.T) {
	a := &Result{Target: "t", Requests: 3, Errors: 1, Elapsed: time.Second, Status: map[int]uint64{200: 2, 403: 1},
		Classes: []ClassResult{{Class: ClassAllowed, Expect: 200, Requests: 2, Status: map[int]uint64{200: 2}}, {Class: ClassDenied, Expect: 403, Requests: 1, Status: map[int]uint64{403: 1}}}}
	b := &Result{Target: "t", Requests: 2, Mismatches: 1, WrongAllows: 1, Elapsed: time.Second, Status: map[int]uint64{200: 2}, FirstMismatch: "denied: got 200",
		Classes: []ClassResult{{Class: ClassAllowed, Expect: 200, Requests: 1, Status: map[int]uint64{200: 1}}, {Class: ClassDenied, Expect: 403, Requests: 1, Status: map[int]uint64{200: 1}, Mismatches: 1}}}
	a.Latency.Record(time.Millisecond)
	b.Latency.Record(3 * time.Millisecond)
	a.Merge(b)
	want := Result{Target: "t", Requests: 5, Errors: 1, Mismatches: 1, WrongAllows: 1, Elapsed: 2 * time.Second, Status: map[int]uint64{200: 4, 403: 1}, FirstMismatch: "denied: got 200",
		Classes: []ClassResult{{Class: ClassAllowed, Expect: 200, Requests: 3, Status: map[int]uint64{200: 3}}, {Class: ClassDenied, Expect: 403, Requests: 2, Status: map[int]uint64{403: 1, 200: 1}, Mismatches: 1}}}
	if diff := cmp.Diff(want, *a, cmp.AllowUnexported(Histogram{}), cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Latency" }, cmp.Ignore())); diff != "" {
		t.Errorf("merged result (-want +got):\n%s", diff)
	}
	if a.Latency.Count() != 2 || a.Latency.Max() != 3*time.Millisecond || a.Throughput() != 2.5 {
		t.Errorf("latency count %d max %v throughput %v, want 2, 3ms, 2.5/s", a.Latency.Count(), a.Latency.Max(), a.Throughput())
	}
}

// teapot answers 418 to the denied class and what is expected otherwise.
type teapot struct{ reqs []Request }

func (t *teapot) Name() string                 { return "teapot" }
func (t *teapot) Prepare(reqs []Request) error { t.reqs = reqs; return nil }
func (t *teapot) Close() error                 { return nil }
func (t *teapot) Do(_ context.Context, _, i int) (int, error) {
	if t.reqs[i].Class == ClassDenied {
		return http.StatusTeapot, nil
	}
	return t.reqs[i].Expect, nil
}

func TestAnUnusualStatusIsCountedInItsClassAndAsAMismatch(t *testing.T) {
	clients := Clients{}
	for _, n := range mixClients {
		clients[n] = []byte("cert of " + n)
	}
	mix, err := NewMix(clients, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), &teapot{}, mix, Options{Concurrency: 2, Requests: 1000, CheckExpect: true})
	if err != nil {
		t.Fatal(err)
	}
	var denied ClassResult
	for _, c := range res.Classes {
		if c.Class == ClassDenied {
			denied = c
		}
	}
	if denied.Requests == 0 || denied.Status[http.StatusTeapot] != denied.Requests || denied.Mismatches != denied.Requests {
		t.Errorf("denied class %+v, want every request counted as 418 and as a mismatch", denied)
	}
	if res.Status[http.StatusTeapot] != denied.Requests || res.WrongAllows != 0 || res.Requests != 1000 {
		t.Errorf("statuses %v, wrong allows %d, requests %d; want %d of 418, none, 1000", res.Status, res.WrongAllows, res.Requests, denied.Requests)
	}
}
