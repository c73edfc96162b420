package policy

import (
	"crypto/sha256"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// DefaultDecisionCacheSize is how many decisions an Engine remembers unless
// WithDecisionCache says otherwise.
const DefaultDecisionCacheSize = 8192

// maxMemoKey bounds the input a remembered decision is looked up by. A
// longer key (a very long path) is decided every time: hashing it costs
// more than it saves.
const maxMemoKey = 1024

// maxMemoDecision bounds the estimated size of a remembered decision: a
// policy that answers with kilobytes of headers (perhaps echoing the path)
// is evaluated every time rather than held 8,192 times. The cache then
// holds at most its size times this, and each key is a 32-byte digest of
// the input fields the policy reads, never the fields themselves.
const maxMemoDecision = 2048

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

// memo is a bounded LRU cache of decisions, split into shards with a lock
// each so that parallel requests rarely wait for one another.
type memo struct {
	seed   maphash.Seed
	shards []memoShard
	hits   atomic.Uint64
	misses atomic.Uint64
}

type memoShard struct {
	mu    sync.Mutex
	limit int
	items map[memoKey]*memoEntry
	// lru is the sentinel of a circular list, most recently used first.
	lru memoEntry
}

type memoEntry struct {
	key        memoKey
	decision   Decision
	prev, next *memoEntry
}

const maxMemoShards = 16

// newMemo returns a cache of at most size decisions, or nil for size <= 0.
func newMemo(size int) *memo {
	if size <= 0 {
		return nil
	}
	n := min(size, maxMemoShards)
	m := &memo{seed: maphash.MakeSeed(), shards: make([]memoShard, n)}
	for i := range m.shards {
		s := &m.shards[i]
		s.limit = size / n
		if i < size%n {
			s.limit++
		}
		s.items = make(map[memoKey]*memoEntry)
		s.lru.next, s.lru.prev = &s.lru, &s.lru
	}
	return m
}

func (m *memo) shard(key *memoKey) *memoShard {
	return &m.shards[maphash.Bytes(m.seed, key[:])%uint64(len(m.shards))]
}

// get returns the decision remembered for key and counts a hit or a miss.
func (m *memo) get(input []byte) (Decision, bool) {
	key := memoKey(sha256.Sum256(input))
	s := m.shard(&key)
	s.mu.Lock()
	e, ok := s.items[key]
	if ok {
		s.unlink(e)
		s.pushFront(e)
	}
	var d Decision
	if ok {
		d = e.decision
	}
	s.mu.Unlock()
	if ok {
		m.hits.Add(1)
	} else {
		m.misses.Add(1)
	}
	return d, ok
}

// put remembers d for key, evicting the least recently used decision of
// the shard when it is full. A decision over maxMemoDecision is not
// remembered.
func (m *memo) put(input []byte, d Decision) {
	if decisionSize(d) > maxMemoDecision {
		return
	}
	key := memoKey(sha256.Sum256(input))
	s := m.shard(&key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		// Decided concurrently by another request: keep the first.
		s.unlink(e)
		s.pushFront(e)
		return
	}
	var e *memoEntry
	if len(s.items) >= s.limit {
		e = s.lru.prev
		s.unlink(e)
		delete(s.items, e.key)
	} else {
		e = &memoEntry{}
	}
	e.key, e.decision = key, d
	s.items[e.key] = e
	s.pushFront(e)
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

func (s *memoShard) unlink(e *memoEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (s *memoShard) pushFront(e *memoEntry) {
	e.prev, e.next = &s.lru, s.lru.next
	s.lru.next.prev = e
	s.lru.next = e
}

func (m *memo) stats() CacheStats {
	st := CacheStats{Hits: m.hits.Load(), Misses: m.misses.Load()}
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		st.Entries += len(s.items)
		s.mu.Unlock()
	}
	return st
}
