package main

import (
	"flag"
	"time"

	"github.com/certgate/certgate/duration"
)

// durationVar defines a duration flag that reads days and weeks as well as
// Go's units ("90s", "8d", "1w2d3h") and shows its default the same way.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*duration.Duration)(p), name, usage)
}
