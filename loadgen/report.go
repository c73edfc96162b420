package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// Result is what one run measured.
type Result struct {
	Target   string
	Requests uint64
	Errors   uint64
	// Mismatches counts answers that differ from their class's expected
	// status; WrongAllows those of them that allowed a request that must
	// be denied (a security bug, not a slowdown).
	Mismatches  uint64
	WrongAllows uint64
	// Outage counts answers of Options.Outage (the proxy's deny while the
	// server behind it was down), which are not mismatches.
	Outage uint64
	// ErrorKinds counts Errors by Options.ErrorKind (nil without one).
	ErrorKinds map[string]uint64
	Elapsed    time.Duration
	Latency    Histogram
	// Status counts answers by HTTP status, over every class.
	Status  map[int]uint64
	Classes []ClassResult
	// FirstError and FirstMismatch describe the first of each, if any.
	FirstError    string
	FirstMismatch string
	// Checked says whether answers were compared with their class's
	// expected status (Options.CheckExpect); a no-op baseline's are not.
	Checked bool
}

// ClassResult is the part of a run that one class of requests saw.
type ClassResult struct {
	Class      Class
	Expect     int
	Requests   uint64
	Status     map[int]uint64
	Mismatches uint64
}

func collect(target string, mix *Mix, workers []*worker, elapsed time.Duration, checked bool) *Result {
	res := &Result{Target: target, Elapsed: elapsed, Status: map[int]uint64{}, Checked: checked}
	expect := map[Class]int{}
	for _, r := range mix.Requests {
		expect[r.Class] = r.Expect
	}
	for _, c := range mix.Classes {
		res.Classes = append(res.Classes, ClassResult{Class: c, Expect: expect[c], Status: map[int]uint64{}})
	}
	for _, wk := range workers {
		res.Latency.Merge(&wk.latency)
		res.Errors += wk.errors
		res.WrongAllows += wk.wrongAllow
		res.Outage += wk.outage
		for k, n := range wk.errorKinds {
			if res.ErrorKinds == nil {
				res.ErrorKinds = map[string]uint64{}
			}
			res.ErrorKinds[k] += n
		}
		if wk.firstErr != nil && res.FirstError == "" {
			res.FirstError = wk.firstErr.Error()
		}
		if wk.firstMiss != "" && res.FirstMismatch == "" {
			res.FirstMismatch = wk.firstMiss
		}
		for c := range res.Classes {
			cr := &res.Classes[c]
			for si, n := range wk.byClass[c] {
				cr.Requests += n
				if n > 0 && si != otherStatus {
					cr.Status[statuses[si]] += n
					res.Status[statuses[si]] += n
				}
			}
			cr.Mismatches += wk.mismatches[c]
			res.Mismatches += wk.mismatches[c]
		}
		for k, n := range wk.other {
			res.Classes[k[0]].Status[k[1]] += n
			res.Status[k[1]] += n
		}
	}
	res.Requests = res.Latency.Count()
	return res
}

// Throughput returns answered requests per second.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Summary is the JSON form of a Result.
type Summary struct {
	Target          string            `json:"target"`
	Requests        uint64            `json:"requests"`
	DurationSeconds float64           `json:"duration_seconds"`
	RequestsPerSec  float64           `json:"requests_per_second"`
	Errors          uint64            `json:"errors"`
	Mismatches      uint64            `json:"mismatches"`
	WrongAllows     uint64            `json:"wrong_allows"`
	Outage          uint64            `json:"outage,omitempty"`
	LatencyMicros   LatencySummary    `json:"latency_us"`
	Status          map[string]uint64 `json:"status"`
	Classes         []ClassSummary    `json:"classes"`
	FirstError      string            `json:"first_error,omitempty"`
	FirstMismatch   string            `json:"first_mismatch,omitempty"`
}

// LatencySummary holds latency figures in microseconds.
type LatencySummary struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// ClassSummary is the JSON form of a ClassResult.
type ClassSummary struct {
	Class      Class             `json:"class"`
	Expect     int               `json:"expect"`
	Requests   uint64            `json:"requests"`
	Status     map[string]uint64 `json:"status"`
	Mismatches uint64            `json:"mismatches"`
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func statusKeys(m map[int]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[strconv.Itoa(k)] = v
	}
	return out
}

// Summary returns the JSON form of r.
func (r *Result) Summary() Summary {
	s := Summary{
		Target: r.Target, Requests: r.Requests, DurationSeconds: r.Elapsed.Seconds(),
		RequestsPerSec: r.Throughput(), Errors: r.Errors, Mismatches: r.Mismatches, WrongAllows: r.WrongAllows, Outage: r.Outage,
		LatencyMicros: LatencySummary{
			P50: micros(r.Latency.Quantile(0.50)), P90: micros(r.Latency.Quantile(0.90)),
			P99: micros(r.Latency.Quantile(0.99)), P999: micros(r.Latency.Quantile(0.999)),
			Max: micros(r.Latency.Max()), Mean: micros(r.Latency.Mean()),
		},
		Status:     statusKeys(r.Status),
		Classes:    []ClassSummary{},
		FirstError: r.FirstError, FirstMismatch: r.FirstMismatch,
	}
	for _, c := range r.Classes {
		s.Classes = append(s.Classes, ClassSummary{Class: c.Class, Expect: c.Expect, Requests: c.Requests, Status: statusKeys(c.Status), Mismatches: c.Mismatches})
	}
	return s
}

// WriteText prints r for a person: throughput, latency, the decision mix
// by status and by class, and any errors or mismatches.
func (r *Result) WriteText(w io.Writer, label string) {
	fmt.Fprintf(w, "%s (%s)\n", label, r.Target)
	fmt.Fprintf(w, "  requests    %d in %.2fs = %.0f req/s, errors %d\n", r.Requests, r.Elapsed.Seconds(), r.Throughput(), r.Errors)
	l := &r.Latency
	fmt.Fprintf(w, "  latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n",
		fmtDur(l.Quantile(0.5)), fmtDur(l.Quantile(0.9)), fmtDur(l.Quantile(0.99)), fmtDur(l.Quantile(0.999)), fmtDur(l.Max()), fmtDur(l.Mean()))
	fmt.Fprintf(w, "  status      %s\n", fmtStatus(r.Status, r.Requests))
	if !r.Checked {
		fmt.Fprintln(w, "  by class    (answers not checked: what certgate must answer is compared on certgate's run only)")
	}
	for _, c := range r.Classes {
		if !r.Checked {
			fmt.Fprintf(w, "    %-14s got %s\n", c.Class, fmtStatus(c.Status, c.Requests))
			continue
		}
		fmt.Fprintf(w, "    %-14s want %d, got %s  mismatches %d\n", c.Class, c.Expect, fmtStatus(c.Status, c.Requests), c.Mismatches)
	}
	if r.Outage > 0 {
		fmt.Fprintf(w, "  outage      %d answers of the proxy's outage status (not mismatches)\n", r.Outage)
	}
	if r.Mismatches > 0 {
		fmt.Fprintf(w, "  MISMATCHES  %d (wrong allows: %d); first: %s\n", r.Mismatches, r.WrongAllows, r.FirstMismatch)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "  first error %s\n", r.FirstError)
	}
}

func fmtStatus(m map[int]uint64, total uint64) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := ""
	for _, k := range keys {
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(m[k]) / float64(total)
		}
		out += fmt.Sprintf("%d: %d (%.1f%%)  ", k, m[k], pct)
	}
	if out == "" {
		return "none"
	}
	return out[:len(out)-2]
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1fµs", float64(d)/1e3)
	}
}

// Comparison is the ratio of a run against certgate to the same load
// against the no-op baseline.
type Comparison struct {
	// Throughput is certgate's requests/s over the baseline's (higher is better).
	Throughput float64 `json:"throughput"`
	// P99 is certgate's p99 latency over the baseline's (lower is better).
	P99 float64 `json:"p99"`
	// P50 is the same for the median.
	P50 float64 `json:"p50"`
}

// Compare returns the ratios of subject to baseline.
func Compare(subject, baseline *Result) Comparison {
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	return Comparison{
		Throughput: ratio(subject.Throughput(), baseline.Throughput()),
		P99:        ratio(float64(subject.Latency.Quantile(0.99)), float64(baseline.Latency.Quantile(0.99))),
		P50:        ratio(float64(subject.Latency.Quantile(0.5)), float64(baseline.Latency.Quantile(0.5))),
	}
}

// Merge adds the runs of o (same mix) to r, as if r had gone on for
// o.Elapsed more: `certgate bench --rounds` alternates short runs against
// the baseline and certgate, so that a noisy machine weighs on both alike.
func (r *Result) Merge(o *Result) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.Mismatches += o.Mismatches
	r.WrongAllows += o.WrongAllows
	r.Outage += o.Outage
	for k, n := range o.ErrorKinds {
		if r.ErrorKinds == nil {
			r.ErrorKinds = map[string]uint64{}
		}
		r.ErrorKinds[k] += n
	}
	r.Elapsed += o.Elapsed
	r.Latency.Merge(&o.Latency)
	if r.Status == nil {
		r.Status = map[int]uint64{}
	}
	for k, v := range o.Status {
		r.Status[k] += v
	}
	for i := range min(len(r.Classes), len(o.Classes)) {
		c, oc := &r.Classes[i], &o.Classes[i]
		c.Requests += oc.Requests
		c.Mismatches += oc.Mismatches
		for k, v := range oc.Status {
			c.Status[k] += v
		}
	}
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
	if r.FirstMismatch == "" {
		r.FirstMismatch = o.FirstMismatch
	}
}
