package server

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/identity"
)

var cacheNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// digestOf is the key of presentation i.
func digestOf(i int) identity.Digest {
	var d identity.Digest
	binary.BigEndian.PutUint64(d[:], uint64(i)+1)
	return d
}

func success(user string) *verdict {
	return &verdict{id: &identity.Identity{User: user, Groups: []string{"g"}}, from: cacheNow, until: cacheNow.Add(time.Hour)}
}

func failure() *verdict {
	return &verdict{reason: "chain: unknown_authority", cause: "unknown_authority", from: cacheNow, until: cacheNow.Add(failureTTL)}
}

func TestVerdictCacheIsBoundedByBytesAsWellAsEntries(t *testing.T) {
	one := success("u").retained().cost
	t.Run("small verdicts are held to the number of entries", func(t *testing.T) {
		cache := newVerdictCache(100, 1000*one)
		for i := range 1000 {
			cache.put(digestOf(i), success("u"))
		}
		cache.cleanUp()
		if n, bytes := cache.stats(); n > 100 || n < 90 || bytes > 100*one {
			t.Errorf("%d entries of %d bytes, want about 100 and at most 100 of %d bytes", n, bytes, one)
		}
	})
	t.Run("large verdicts are held to the bytes", func(t *testing.T) {
		big := success(strings.Repeat("u", 4000)).retained().cost
		cache := newVerdictCache(1000, 10*big)
		for i := range 1000 {
			cache.put(digestOf(i), success(strings.Repeat("u", 4000)))
		}
		cache.cleanUp()
		if n, bytes := cache.stats(); n > 10 || n < 8 || bytes > 10*big {
			t.Errorf("%d entries of %d bytes, want about 10 and at most %d bytes", n, bytes, 10*big)
		}
	})
	t.Run("a verdict larger than the whole bound is not cached", func(t *testing.T) {
		cache := newVerdictCache(1000, 10*one)
		cache.put(digestOf(1), success("u"))
		cache.put(digestOf(99), success(strings.Repeat("u", 11*one)))
		cache.cleanUp()
		if _, hit := cache.get(digestOf(99), cacheNow); hit {
			t.Error("a verdict larger than the whole bound was cached")
		}
		if _, hit := cache.get(digestOf(1), cacheNow); !hit {
			t.Error("an uncacheable verdict evicted another")
		}
	})
	t.Run("a replaced verdict is counted once", func(t *testing.T) {
		cache := newVerdictCache(1000, 1000*one)
		for range 3 {
			cache.put(digestOf(1), success("u"))
		}
		cache.cleanUp()
		if n, bytes := cache.stats(); n != 1 || bytes != one {
			t.Errorf("after replacements: %d entries of %d bytes, want 1 of %d", n, bytes, one)
		}
	})
}

// TestARoundRobinOverMoreCertificatesThanFitKeepsHitting: a fleet a fifth
// larger than the cache, each certificate in turn (the order a load
// balancer makes). An LRU evicts every entry just before it is asked for
// again and never hits; the cache must keep most of what it holds.
func TestARoundRobinOverMoreCertificatesThanFitKeepsHitting(t *testing.T) {
	const size, fleet, rounds = 1000, 1200, 10
	cache := newVerdictCache(size, size*4096)
	var hits, lookups int
	for round := range rounds {
		for i := range fleet {
			_, hit := cache.get(digestOf(i), cacheNow)
			if !hit {
				cache.put(digestOf(i), success("u"))
				cache.cleanUp() // evict now: the test is of the policy, not of when it runs
			}
			if round >= rounds/2 {
				lookups++
				if hit {
					hits++
				}
			}
		}
	}
	rate := float64(hits) / float64(lookups)
	t.Logf("hit rate over the last %d rounds: %.2f (at most %.2f)", rounds/2, rate, float64(size)/fleet)
	if rate < 0.5 {
		t.Errorf("hit rate %.2f under a round robin over %d certificates with room for %d, want at least 0.5", rate, fleet, size)
	}
}

// TestFailuresDoNotDisplaceVerifiedVerdicts: a flood of presentations that
// fail (junk, unknown CAs), many times the cache's size, leaves every
// verified verdict where it was, and the failures take no more than their
// share.
func TestFailuresDoNotDisplaceVerifiedVerdicts(t *testing.T) {
	const size, good = 1600, 1000
	cache := newVerdictCache(size, size*4096)
	for i := range good {
		cache.put(digestOf(i), success("u"))
	}
	for i := good; i < good+50*size; i++ {
		if _, hit := cache.get(digestOf(i), cacheNow); !hit {
			cache.put(digestOf(i), failure())
		}
	}
	cache.cleanUp()
	for i := range good {
		if v, hit := cache.get(digestOf(i), cacheNow); !hit || v.id == nil {
			t.Fatalf("verified verdict %d is gone after the flood of failures", i)
		}
	}
	if n, _ := cache.stats(); n > good+size/failedShare {
		t.Errorf("%d verdicts cached, want the %d verified and at most %d failures", n, good, size/failedShare)
	}
	if _, hit := cache.get(digestOf(good+50*size-1), cacheNow); !hit {
		t.Error("the latest failure is not cached: a client that retries it is verified again each time")
	}
}

func TestAVerdictIsServedOnlyWithinItsTime(t *testing.T) {
	cache := newVerdictCache(10, 1<<20)
	cache.put(digestOf(1), success("u"))
	cache.put(digestOf(2), failure())
	for _, tc := range []struct {
		name string
		key  int
		at   time.Time
		hit  bool
	}{
		{"a success at its start", 1, cacheNow, true},
		{"a success before its start", 1, cacheNow.Add(-time.Second), false},
		{"a failure within its minute", 2, cacheNow.Add(failureTTL - time.Second), true},
		{"a failure after its minute", 2, cacheNow.Add(failureTTL), false},
		{"a success at its end", 1, cacheNow.Add(time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, hit := cache.get(digestOf(tc.key), tc.at); hit != tc.hit {
				t.Errorf("hit %v, want %v", hit, tc.hit)
			}
		})
	}
}
