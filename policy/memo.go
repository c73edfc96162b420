package policy

import (
	"crypto/sha256"
	"math"
	"sync/atomic"

	"github.com/maypok86/otter/v2"
)

// Bounds of the decision cache unless WithDecisionCache and
// WithDecisionCacheBytes say otherwise.
const (
	// DefaultDecisionCacheSize bounds the number of decisions: a policy that
	// reads the user keeps one per certificate and route, so this is a
	// fleet of some 30,000 devices on two routes.
	DefaultDecisionCacheSize = 65_536
	// DefaultDecisionCacheBytes bounds their estimated memory: 512 bytes a
	// decision on average. A decision without headers is estimated below
	// that; one of the shipped policy's (a header map of one entry) at
	// about 700 bytes, so that 32 MiB holds some 48,000 of those.
	DefaultDecisionCacheBytes = 32 << 20
)

// maxMemoKey bounds the input a remembered decision is looked up by. A
// longer key (a very long path) is decided every time: hashing it costs
// more than it saves.
const maxMemoKey = 1024

// maxMemoDecision bounds the estimated size of a remembered decision: a
// policy that answers with kilobytes of headers (perhaps echoing the path)
// is evaluated every time rather than held thousands of times. Each key is
// a 32-byte digest of the input fields the policy reads, never the fields
// themselves.
const maxMemoDecision = 2048

// memoEntryBytes is the estimated fixed cost of a remembered decision: its
// digest, the Decision struct and the cache's node and hash table slot;
// memoMapBytes that of a header map besides its entries (a map's smallest
// table). Upper bounds of what TestMemoSizeEstimate measures.
const (
	memoEntryBytes = 256
	memoMapBytes   = 320
)

// memoKey is the SHA-256 of a key appendKey built.
type memoKey [sha256.Size]byte

// CacheStats counts the work of an Engine's decision cache.
type CacheStats struct {
	// Hits and Misses count lookups since the Engine was loaded; a request
	// decided without the cache (disabled, or a key too long) counts as
	// neither.
	Hits, Misses uint64
	// Entries is the number of decisions held now.
	Entries int
}

// memo is a bounded cache of decisions: a W-TinyLFU cache
// (github.com/maypok86/otter/v2), like the server's verdict cache, so that
// a decision is admitted over the one it would evict only when it has been
// asked for more often, and a round robin over more keys than fit keeps
// hitting on the ones that stayed, where an LRU would miss every time. It
// is bounded by entries and by the estimated bytes of its decisions: an
// entry weighs its size (memoEntrySize), and at least maxBytes/maxEntries,
// so that the one weight bound keeps both.
type memo struct {
	cache  *otter.Cache[memoKey, Decision]
	hits   atomic.Uint64
	misses atomic.Uint64
}

// newMemo returns a cache of at most maxEntries decisions in maxBytes
// estimated bytes, or nil (no cache) when either is negative or zero.
func newMemo(maxEntries, maxBytes int) *memo {
	if maxEntries <= 0 || maxBytes <= 0 {
		return nil
	}
	unit := uint32(min(int64(max(maxBytes/maxEntries, 1)), math.MaxUint32))
	return &memo{cache: otter.Must(&otter.Options[memoKey, Decision]{
		MaximumWeight:   uint64(maxBytes),
		InitialCapacity: min(maxEntries, 1024),
		Weigher: func(_ memoKey, d Decision) uint32 {
			return max(uint32(memoEntrySize(d)), unit)
		},
	})}
}

// get returns the decision remembered for input and counts a hit or a
// miss.
func (m *memo) get(input []byte) (Decision, bool) {
	d, ok := m.cache.GetIfPresent(memoKey(sha256.Sum256(input)))
	if ok {
		m.hits.Add(1)
	} else {
		m.misses.Add(1)
	}
	return d, ok
}

// put remembers d for input, unless a decision is remembered for it
// already (decided concurrently by another request: the first is kept). A
// decision over maxMemoDecision is not remembered.
func (m *memo) put(input []byte, d Decision) {
	if decisionSize(d) > maxMemoDecision {
		return
	}
	m.cache.SetIfAbsent(memoKey(sha256.Sum256(input)), d)
}

// memoEntrySize estimates the memory a remembered d keeps alive: at most
// memoEntryBytes+2*memoMapBytes+maxMemoDecision.
func memoEntrySize(d Decision) int {
	n := memoEntryBytes + decisionSize(d)
	for _, h := range []map[string]string{d.Headers, d.ResponseHeaders} {
		if h != nil {
			n += memoMapBytes
		}
	}
	return n
}

// decisionSize estimates the bytes d's strings and maps hold.
func decisionSize(d Decision) int {
	n := len(d.Reason) + len(d.Permission)
	for _, h := range []map[string]string{d.Headers, d.ResponseHeaders} {
		for k, v := range h {
			n += 64 + len(k) + len(v) // a map slot and two string headers
		}
	}
	return n
}

func (m *memo) stats() CacheStats {
	return CacheStats{Hits: m.hits.Load(), Misses: m.misses.Load(), Entries: m.cache.EstimatedSize()}
}
