package main

import (
	"flag"
	"fmt"

	"github.com/certgate/certgate/loadgen"
)

// benchTargets are the ratios to the no-op baseline that `bench --baseline`
// holds certgate to (the load targets of BENCHMARKS.md); missing one is
// exit 1, as a mismatch is.
type benchTargets struct {
	// MinThroughput is the least throughput ratio; 0 sets no target.
	MinThroughput float64 `json:"min_throughput"`
	// MaxP99 is the greatest p99 latency ratio; 0 sets no target.
	MaxP99 float64 `json:"max_p99"`
}

func (t *benchTargets) register(fs *flag.FlagSet) {
	fs.Float64Var(&t.MinThroughput, "min-throughput-ratio", 0.6, "with --baseline, exit 1 when certgate's throughput is under this `ratio` of the no-op's (0: no target)")
	fs.Float64Var(&t.MaxP99, "max-p99-ratio", 2, "with --baseline, exit 1 when certgate's p99 latency is over this `ratio` of the no-op's (0: no target)")
}

// missed lists the targets r misses, each as a sentence.
func (t benchTargets) missed(r loadgen.Comparison) []string {
	var out []string
	if t.MinThroughput > 0 && r.Throughput < t.MinThroughput {
		out = append(out, fmt.Sprintf("throughput %.2f× is under the target of %g×", r.Throughput, t.MinThroughput))
	}
	if t.MaxP99 > 0 && r.P99 > t.MaxP99 {
		out = append(out, fmt.Sprintf("p99 %.2f× is over the target of %g×", r.P99, t.MaxP99))
	}
	return out
}

// footer is the ratio line of the text report.
func (t benchTargets) footer(r loadgen.Comparison, rounds int) string {
	mark := func(target float64, met bool, op string) string {
		switch {
		case target == 0:
			return "no target"
		case met:
			return fmt.Sprintf("target %s %g", op, target)
		default:
			return fmt.Sprintf("target %s %g: MISSED", op, target)
		}
	}
	median := ""
	if rounds > 1 {
		median = fmt.Sprintf(" (median of %d rounds)", rounds)
	}
	return fmt.Sprintf("ratio to no-op%s: throughput %.2f× (%s), p99 %.2f× (%s), p50 %.2f×", median,
		r.Throughput, mark(t.MinThroughput, r.Throughput >= t.MinThroughput, "≥"),
		r.P99, mark(t.MaxP99, r.P99 <= t.MaxP99, "≤"), r.P50)
}
