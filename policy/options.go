package policy

// Option configures Load and LoadFS.
type Option func(*options)

type options struct {
	cacheSize  int
	cacheBytes int
}

func defaultOptions() options {
	return options{cacheSize: DefaultDecisionCacheSize, cacheBytes: DefaultDecisionCacheBytes}
}

// WithDecisionCache makes the Engine remember up to n decisions (W-TinyLFU:
// the least often asked for first out); n <= 0 disables the cache.
// Decisions are cached only for policies whose reads of the input can be
// pinned down and that call no non-deterministic built-in (see
// Engine.Decide).
func WithDecisionCache(n int) Option {
	return func(o *options) { o.cacheSize = n }
}

// WithDecisionCacheBytes bounds the estimated memory of the remembered
// decisions to n bytes (each weighs at least n divided by the number of
// entries, so that this one bound keeps both); n <= 0 disables the cache.
func WithDecisionCacheBytes(n int) Option {
	return func(o *options) { o.cacheBytes = n }
}
