package loadgen

import (
	"testing"
	"time"
)

func TestBucketsAreContiguousAndBoundTheirValues(t *testing.T) {
	prevHigh := uint64(0)
	for i := 1; i < 40*subCount; i++ {
		low, high := prevHigh+1, bucketHigh(i)
		if bucketOf(low) != i || bucketOf(high) != i {
			t.Fatalf("bucket %d = [%d, %d], but bucketOf gives %d and %d", i, low, high, bucketOf(low), bucketOf(high))
		}
		if high > 2*subCount && float64(high-low+1)/float64(low) > 1.0/subCount+1e-9 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its value", i, low, high, subCount)
		}
		prevHigh = high
	}
}

func TestQuantilesOfKnownData(t *testing.T) {
	// 1 µs .. 10,000 µs, once each: the q-quantile is q*10,000 µs.
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 5000 * time.Microsecond},
		{0.9, 9000 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{0.999, 9990 * time.Microsecond},
		{1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := h.Quantile(tt.q)
		// A bucket's upper bound is at most 1/64 above the true value.
		if got < tt.want || float64(got) > float64(tt.want)*(1+1.0/subCount) {
			t.Errorf("Quantile(%v) = %v, want %v (within +1/%d)", tt.q, got, tt.want, subCount)
		}
	}
	if h.Count() != 10000 || h.Max() != 10*time.Millisecond || h.Mean() != 5000500*time.Nanosecond {
		t.Errorf("count %d max %v mean %v, want 10000 10ms 5.0005ms", h.Count(), h.Max(), h.Mean())
	}
}

func TestMergedHistogramsEqualOneThatSawEverything(t *testing.T) {
	var a, b, all Histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i*i) * time.Nanosecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&b)
	if merged != all {
		t.Errorf("merged histogram differs from the one that saw every value")
	}
}

func TestEmptyHistogramReportsZero(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Errorf("empty histogram: p99 %v mean %v max %v, want 0", h.Quantile(0.99), h.Mean(), h.Max())
	}
}

// BenchmarkHistogramRecord is the load tool's own cost per answer: one
// bucket increment, no lock.
func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	d := 137 * time.Microsecond
	b.ReportAllocs()
	for b.Loop() {
		h.Record(d)
		d += 7
	}
}
