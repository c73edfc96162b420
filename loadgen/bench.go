package loadgen

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"time"
)

// Endpoint is one side of a comparison: where its requests go and whose
// CPU time its runs cost.
type Endpoint struct {
	// NewTarget returns the target; RunBench prepares it once and closes it.
	NewTarget func() (Target, error)
	// CPU lists the processes whose CPU time is read around each run.
	CPU []CPUSource
	// Check compares every answer with its class's expectation (certgate
	// yes, a no-op no).
	Check bool
}

// BenchConfig is a comparison of a subject (certgate) with a baseline
// (a no-op) under the same mix, in alternating rounds.
type BenchConfig struct {
	Subject Endpoint
	// Baseline is nil for a run of the subject alone.
	Baseline *Endpoint
	Mix      *Mix
	// Options bound the whole comparison: Duration and Requests are shared
	// out among the rounds, Warmup is sent once to each side first and not
	// measured.
	Options Options
	// Rounds is the number of baseline/subject pairs (at least 1).
	Rounds int
	// CPUProfile, when set, is the file a CPU profile of this process
	// during the subject's first round is written to.
	CPUProfile string
}

// CPUCost is the CPU time of one source over the measured runs of a side.
type CPUCost struct {
	Source  string  `json:"source"`
	Seconds float64 `json:"seconds"`
	// PerRequestMicros is Seconds over the side's answered requests.
	PerRequestMicros float64 `json:"per_request_us"`
}

// Side is what one side of a comparison measured, all rounds merged.
type Side struct {
	Result *Result
	CPU    []CPUCost
}

// BenchResult is the outcome of RunBench.
type BenchResult struct {
	Subject  Side
	Baseline *Side
	// Rounds are the subject's ratios to the baseline in each round; Ratio
	// is their median, figure by figure (nil without a baseline).
	Rounds []Comparison
	Ratio  *Comparison
}

// side is an endpoint being measured.
type side struct {
	ep     Endpoint
	target Target
	res    *Result
	cpu    []time.Duration
}

// RunBench prepares each side's target once, warms each up, then runs
// cfg.Rounds rounds of baseline then subject, each round 1/Rounds of the
// run's length, and compares them round by round: a machine whose load
// changes during the comparison weighs on both sides of a round alike.
func RunBench(ctx context.Context, cfg BenchConfig) (*BenchResult, error) {
	rounds := max(cfg.Rounds, 1)
	if cfg.Options.Requests > 0 {
		rounds = min(rounds, cfg.Options.Requests) // never 0 requests per round
	}
	sides := []*side{{ep: cfg.Subject}}
	if cfg.Baseline != nil {
		sides = append(sides, &side{ep: *cfg.Baseline})
	}
	defer func() {
		for _, s := range sides {
			if s.target != nil {
				_ = s.target.Close()
			}
		}
	}()
	for _, s := range sides {
		if err := s.prepare(ctx, cfg.Mix, cfg.Options); err != nil {
			return nil, err
		}
	}
	opts := cfg.Options
	opts.Warmup = 0
	opts.Duration /= time.Duration(rounds)
	opts.Requests /= rounds
	out := &BenchResult{}
	for round := range rounds {
		var base *Result
		if len(sides) > 1 {
			r, err := sides[1].run(ctx, cfg.Mix, opts, "")
			if err != nil {
				return nil, err
			}
			base = r
		}
		profile := ""
		if round == 0 {
			profile = cfg.CPUProfile
		}
		r, err := sides[0].run(ctx, cfg.Mix, opts, profile)
		if err != nil {
			return nil, err
		}
		if base != nil {
			out.Rounds = append(out.Rounds, Compare(r, base))
		}
	}
	out.Subject = sides[0].summary()
	if len(sides) > 1 {
		b := sides[1].summary()
		out.Baseline = &b
		m := MedianComparison(out.Rounds)
		out.Ratio = &m
	}
	return out, nil
}

// prepare makes the side's target, prepares the mix and sends the warmup.
func (s *side) prepare(ctx context.Context, mix *Mix, o Options) error {
	t, err := s.ep.NewTarget()
	if err != nil {
		return err
	}
	s.target = t
	if err := t.Prepare(mix.Requests); err != nil {
		return fmt.Errorf("prepare requests for %s: %w", t.Name(), err)
	}
	s.cpu = make([]time.Duration, len(s.ep.CPU))
	if o.Warmup <= 0 {
		return nil
	}
	warm := o
	warm.Duration, warm.Requests, warm.Warmup, warm.CheckExpect = o.Warmup, 0, 0, false
	_, err = RunPrepared(ctx, t, mix, warm)
	return err
}

// run is one measured run of the side, with its CPU time read around it.
func (s *side) run(ctx context.Context, mix *Mix, o Options, profile string) (*Result, error) {
	o.CheckExpect = s.ep.Check
	before, err := s.readCPU()
	if err != nil {
		return nil, err
	}
	stop, err := StartCPUProfile(profile)
	if err != nil {
		return nil, err
	}
	r, err := RunPrepared(ctx, s.target, mix, o)
	stop()
	if err != nil {
		return nil, err
	}
	after, err := s.readCPU()
	if err != nil {
		return nil, err
	}
	for i := range s.cpu {
		s.cpu[i] += after[i] - before[i]
	}
	if s.res == nil {
		s.res = r
	} else {
		s.res.Merge(r)
	}
	return r, nil
}

func (s *side) readCPU() ([]time.Duration, error) {
	out := make([]time.Duration, len(s.ep.CPU))
	for i, src := range s.ep.CPU {
		d, err := src.Read()
		if err != nil {
			return nil, fmt.Errorf("CPU of %s: %w", src.Name, err)
		}
		out[i] = d
	}
	return out, nil
}

func (s *side) summary() Side {
	out := Side{Result: s.res}
	for i, src := range s.ep.CPU {
		c := CPUCost{Source: src.Name, Seconds: s.cpu[i].Seconds()}
		if s.res.Requests > 0 {
			c.PerRequestMicros = micros(s.cpu[i]) / float64(s.res.Requests)
		}
		out.CPU = append(out.CPU, c)
	}
	return out
}

// MedianComparison is the median of each ratio over rounds.
func MedianComparison(rounds []Comparison) Comparison {
	pick := func(f func(Comparison) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = f(r)
		}
		return median(v)
	}
	return Comparison{
		Throughput: pick(func(c Comparison) float64 { return c.Throughput }),
		P99:        pick(func(c Comparison) float64 { return c.P99 }),
		P50:        pick(func(c Comparison) float64 { return c.P50 }),
	}
}

// median of v (the mean of the middle two for an even count), 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// StartCPUProfile writes a CPU profile of this process to file until the
// returned stop is called; "" profiles nothing.
func StartCPUProfile(file string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	out, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = out.Close() }, nil
}
