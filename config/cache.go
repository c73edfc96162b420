package config

import "fmt"

// Cache bounds certgate's caches.
type Cache struct {
	Verdicts  VerdictCache  `yaml:"verdicts"`
	Decisions DecisionCache `yaml:"decisions"`
}

// DecisionCache bounds the policy's decision cache, one per loaded policy
// (and one for the shadow policy): MaxEntries decisions in MaxBytes
// estimated bytes. Zero means the default (65,536 entries in 32 MiB); a
// negative value turns the cache off, so that every request evaluates the
// policy.
type DecisionCache struct {
	MaxEntries int `yaml:"max_entries"`
	MaxBytes   int `yaml:"max_bytes"`
}

// validate reports a byte bound too small to be meant.
func (c DecisionCache) validate() []error {
	if c.MaxBytes > 0 && c.MaxBytes < minCacheBytes {
		return []error{fmt.Errorf("cache.decisions.max_bytes %d: a number of bytes, at least %d (1 MiB); 0 for the default, negative to turn the cache off", c.MaxBytes, minCacheBytes)}
	}
	return nil
}

// VerdictCache bounds the cache of certificate verdicts, one per snapshot:
// MaxEntries verified certificates in MaxBytes estimated bytes, plus a
// sixteenth of each for certificates that failed verification. Zero means
// the default (100,000 entries in 128 MiB); a negative value turns the
// cache off, so that every request verifies its chain.
type VerdictCache struct {
	MaxEntries int `yaml:"max_entries"`
	MaxBytes   int `yaml:"max_bytes"`
}

// minCacheBytes is the least max_bytes of a cache: a bound in bytes this small
// is a bound in MiB written without its unit.
const minCacheBytes = 1 << 20

// validate reports a byte bound too small to be meant.
func (c VerdictCache) validate() []error {
	if c.MaxBytes > 0 && c.MaxBytes < minCacheBytes {
		return []error{fmt.Errorf("cache.verdicts.max_bytes %d: a number of bytes, at least %d (1 MiB); 0 for the default, negative to turn the cache off", c.MaxBytes, minCacheBytes)}
	}
	return nil
}
