package policy

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// DefaultDecisionCacheSize is how many decisions an Engine remembers unless
// WithDecisionCache says otherwise.
const DefaultDecisionCacheSize = 8192

// maxMemoKey bounds the key of a remembered decision. A longer key (a very
// long path) is decided every time, so that clients cannot make the cache
// hold megabytes.
const maxMemoKey = 1024

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
	items map[string]*memoEntry
	// lru is the sentinel of a circular list, most recently used first.
	lru memoEntry
}

type memoEntry struct {
	key        string
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
		s.items = make(map[string]*memoEntry)
		s.lru.next, s.lru.prev = &s.lru, &s.lru
	}
	return m
}

func (m *memo) shard(key []byte) *memoShard {
	return &m.shards[maphash.Bytes(m.seed, key)%uint64(len(m.shards))]
}

// get returns the decision remembered for key and counts a hit or a miss.
func (m *memo) get(key []byte) (Decision, bool) {
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.items[string(key)]
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
// the shard when it is full.
func (m *memo) put(key []byte, d Decision) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[string(key)]; ok {
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
	e.key, e.decision = string(key), d
	s.items[e.key] = e
	s.pushFront(e)
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
