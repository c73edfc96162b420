package policy

// Option configures Load and LoadFS.
type Option func(*options)

type options struct {
	cacheSize int
}

func defaultOptions() options {
	return options{cacheSize: DefaultDecisionCacheSize}
}

// WithDecisionCache makes the Engine remember up to n decisions, least
// recently used first out; n <= 0 disables the cache. Decisions are cached
// only for policies whose reads of the input can be pinned down and that
// call no non-deterministic built-in (see Engine.Decide).
func WithDecisionCache(n int) Option {
	return func(o *options) { o.cacheSize = n }
}
