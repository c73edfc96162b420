package server

import (
	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/policy"
)

// DecisionCacheOptions are the Engine options of cache.decisions: none for
// a bound left 0 (policy.DefaultDecisionCacheSize,
// policy.DefaultDecisionCacheBytes), the cache off for a negative one.
func DecisionCacheOptions(c config.DecisionCache) []policy.Option {
	var opts []policy.Option
	if c.MaxEntries != 0 {
		opts = append(opts, policy.WithDecisionCache(max(c.MaxEntries, 0)))
	}
	if c.MaxBytes != 0 {
		opts = append(opts, policy.WithDecisionCacheBytes(max(c.MaxBytes, 0)))
	}
	return opts
}
