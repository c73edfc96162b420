package loadgen

import (
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
