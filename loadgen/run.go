package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Options bound one run. Exactly one of Duration and Requests is usually
// set; with both, whichever ends first ends the run, and MaxDuration caps it
// either way.
type Options struct {
	// Concurrency is the number of requests in flight (default 16).
	Concurrency int
	// Interval, when set, paces each worker: it starts a request no sooner
	// than Interval after it started its previous one, so that the load is
	// a steady rate of at most Concurrency/Interval rather than flat out.
	Interval time.Duration
	Duration time.Duration
	// Requests is the total number of requests (0: until Duration).
	Requests int
	// Warmup is sent before measuring and not counted: it opens the
	// connections and fills the server's caches.
	Warmup time.Duration
	// Timeout bounds each request (default 5s).
	Timeout time.Duration
	// MaxDuration caps the run, warmup excluded (default 10 minutes).
	MaxDuration time.Duration
	// CheckExpect compares every status with its class's expectation.
	// A no-op server allows everything, so its runs leave it off.
	CheckExpect bool
	// Outage, when set, is the deny a proxy answers while the server
	// behind it is down (NGINX: 500): with CheckExpect, such answers are
	// counted in Result.Outage, not as mismatches. An allow is never one.
	Outage int
	// ErrorKind, when set, names the kind of a request's error (refused,
	// reset, a gRPC code …); Result.ErrorKinds counts them by kind.
	ErrorKind func(error) string
}

// Defaults for unset Options.
const (
	DefaultConcurrency = 16
	DefaultTimeout     = 5 * time.Second
	DefaultMaxDuration = 10 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		o.Duration = 10 * time.Second
	}
	return o
}

// statuses are the answers counted individually; anything else is "other".
var statuses = [...]int{http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError}

const otherStatus = len(statuses)

func statusIndex(s int) int {
	for i, v := range statuses {
		if v == s {
			return i
		}
	}
	return otherStatus
}

// worker is one goroutine's share of a run. Only its goroutine writes it.
type worker struct {
	latency    Histogram
	byClass    [][otherStatus + 1]uint64 // [class index][status index]
	other      map[[2]int]uint64         // {class index, status} of unusual statuses
	errors     uint64
	mismatches []uint64 // by class index
	wrongAllow uint64
	outage     uint64
	errorKinds map[string]uint64
	firstErr   error
	firstMiss  string
}

// Run sends mix to target under opts and returns what it measured. It
// returns an error only when the run could not be made at all; failed
// requests are counted in the Result.
func Run(ctx context.Context, target Target, mix *Mix, opts Options) (*Result, error) {
	if len(mix.Schedule) == 0 {
		return nil, errors.New("run: empty mix")
	}
	if err := target.Prepare(mix.Requests); err != nil {
		return nil, fmt.Errorf("run: prepare requests for %s: %w", target.Name(), err)
	}
	return RunPrepared(ctx, target, mix, opts)
}

// RunPrepared is Run for a target whose Prepare was already called with
// mix.Requests, so that several runs share one preparation.
func RunPrepared(ctx context.Context, target Target, mix *Mix, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	if len(mix.Schedule) == 0 {
		return nil, errors.New("run: empty mix")
	}
	classIdx := map[Class]int{}
	for i, c := range mix.Classes {
		classIdx[c] = i
	}
	reqClass := make([]int, len(mix.Requests))
	for i, r := range mix.Requests {
		reqClass[i] = classIdx[r.Class]
	}
	if opts.Warmup > 0 {
		warm := opts
		warm.Duration, warm.Requests, warm.CheckExpect = min(opts.Warmup, opts.MaxDuration), 0, false
		spread(ctx, target, mix, reqClass, warm)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.MaxDuration)
	defer cancel()
	start := time.Now()
	workers := spread(ctx, target, mix, reqClass, opts)
	elapsed := time.Since(start)
	return collect(target.Name(), mix, workers, elapsed, opts.CheckExpect), nil
}

// spread runs opts.Concurrency workers until the run's bound and returns them.
func spread(ctx context.Context, target Target, mix *Mix, reqClass []int, opts Options) []*worker {
	workers := make([]*worker, opts.Concurrency)
	var deadline time.Time
	if opts.Duration > 0 {
		deadline = time.Now().Add(opts.Duration)
	}
	var wg sync.WaitGroup
	for w := range workers {
		quota := -1
		if opts.Requests > 0 {
			quota = opts.Requests / opts.Concurrency
			if w < opts.Requests%opts.Concurrency {
				quota++
			}
		}
		wk := &worker{byClass: make([][otherStatus + 1]uint64, len(mix.Classes)), mismatches: make([]uint64, len(mix.Classes))}
		workers[w] = wk
		offset := w * len(mix.Schedule) / opts.Concurrency
		wg.Go(func() { wk.run(ctx, target, mix, reqClass, opts, w, offset, quota, deadline) })
	}
	wg.Wait()
	return workers
}

func (wk *worker) run(ctx context.Context, target Target, mix *Mix, reqClass []int, opts Options, w, offset, quota int, deadline time.Time) {
	var pace *time.Timer
	if opts.Interval > 0 {
		pace = time.NewTimer(0)
		defer pace.Stop()
	}
	for n := 0; quota < 0 || n < quota; n++ {
		if !wait(ctx, pace) {
			return
		}
		if pace != nil {
			pace.Reset(opts.Interval)
		}
		i := mix.Schedule[(offset+n)%len(mix.Schedule)]
		rctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		t0 := time.Now()
		status, err := target.Do(rctx, w, i)
		t1 := time.Now()
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return // the run ended while this request was in flight
			}
			wk.recordError(err, opts.ErrorKind)
		} else {
			wk.latency.Record(t1.Sub(t0))
			wk.recordAnswer(mix, reqClass[i], i, status, opts)
		}
		if !deadline.IsZero() && t1.After(deadline) {
			return
		}
	}
}

// wait waits for pace to fire (nil: not at all) and reports whether the
// run goes on, i.e. ctx has not ended.
func wait(ctx context.Context, pace *time.Timer) bool {
	if pace == nil {
		return ctx.Err() == nil
	}
	select {
	case <-pace.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// recordError counts a request that got no answer, keeping the first error.
func (wk *worker) recordError(err error, kind func(error) string) {
	wk.errors++
	if kind != nil {
		if wk.errorKinds == nil {
			wk.errorKinds = map[string]uint64{}
		}
		wk.errorKinds[kind(err)]++
	}
	if wk.firstErr == nil {
		wk.firstErr = err
	}
}

// recordAnswer counts status as the answer to request i of class c and,
// when opts.CheckExpect is set, whether it is the one its class expects.
func (wk *worker) recordAnswer(mix *Mix, c, i, status int, opts Options) {
	si := statusIndex(status)
	wk.byClass[c][si]++
	if si == otherStatus {
		if wk.other == nil {
			wk.other = map[[2]int]uint64{}
		}
		wk.other[[2]int{c, status}]++
	}
	want := mix.Requests[i].Expect
	if !opts.CheckExpect || status == want {
		return
	}
	if opts.Outage != 0 && status == opts.Outage && status != http.StatusOK {
		wk.outage++
		return
	}
	wk.mismatches[c]++
	if status == http.StatusOK {
		wk.wrongAllow++
	}
	if wk.firstMiss == "" {
		r := mix.Requests[i]
		wk.firstMiss = fmt.Sprintf("%s %s %s: got %d, want %d", r.Class, r.Check.Method, r.Check.Target, status, want)
	}
}
