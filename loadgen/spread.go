package loadgen

import (
	"context"
	"errors"
	"strings"
)

// Spread is a target that sends worker w's requests to targets[w mod n],
// so that one run loads several endpoints (gRPC and HTTP) at once.
type Spread []Target

// Name implements Target.
func (s Spread) Name() string {
	names := make([]string, len(s))
	for i, t := range s {
		names[i] = t.Name()
	}
	return strings.Join(names, " + ")
}

// Prepare prepares every target.
func (s Spread) Prepare(reqs []Request) error {
	if len(s) == 0 {
		return errors.New("spread: no target")
	}
	for _, t := range s {
		if err := t.Prepare(reqs); err != nil {
			return err
		}
	}
	return nil
}

// Do implements Target.
func (s Spread) Do(ctx context.Context, w, i int) (int, error) {
	return s[w%len(s)].Do(ctx, w/len(s), i)
}

// Close closes every target.
func (s Spread) Close() error {
	var errs []error
	for _, t := range s {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}
