package server

import (
	"container/list"
	"crypto/x509"
	"sync"
	"time"

	"github.com/certgate/certgate/identity"
)

// Bounds of the verdict cache when Options leave them 0.
const (
	// DefaultVerdictCacheSize bounds the number of verdicts.
	DefaultVerdictCacheSize = 10000
	// DefaultVerdictCacheBytes bounds their estimated memory: room for the
	// default number of typical client certificates, and a fraction of the
	// shipped manifest's 256Mi limit.
	DefaultVerdictCacheBytes = 32 << 20
)

// failureTTL is how long a failed verification is remembered. Failures
// are cheap to repeat correctly and expensive to repeat at flood rate.
const failureTTL = time.Minute

// maxClaimedSerialBytes bounds the serial a cached failure keeps, as the
// decision log cuts it (its user and reason are cut as the log cuts them).
const maxClaimedSerialBytes = 128

// verdict is what one presented certificate chain amounts to under one
// snapshot: an identity, or the 401 reason why there is none.
type verdict struct {
	id     *identity.Identity // nil on failure
	reason string             // set on failure
	cause  Cause              // set on failure
	// claimed is the subject of a certificate that parsed but did not
	// verify, for the decision log.
	claimed *identity.Identity
	// err is the failure; chain the verified path on success, or when the
	// chain verified but its identity was refused. Both are for Explain: a
	// cached verdict keeps neither (see retained).
	err      error
	chain    []*x509.Certificate
	staleCRL bool
	// The verdict holds for now in [from, until).
	from, until time.Time
}

func (v *verdict) holdsAt(now time.Time) bool {
	return !now.Before(v.from) && now.Before(v.until)
}

// retained is what the cache keeps of v: what a later Check reads of it,
// and no certificate (the chain is for Explain, which does not use the
// cache). A success keeps its identity: a CA vouched for it. A failure keeps
// its reason and cause and, of a certificate that parsed, only the claimed
// user, serial and fingerprint, truncated: nothing parsed from the client's
// bytes (its error may hold the whole certificate), so that a cached
// failure costs a small fixed size whatever was presented.
func (v *verdict) retained() *verdict {
	r := &verdict{id: v.id, reason: truncate(v.reason, maxLoggedReasonBytes), cause: v.cause, staleCRL: v.staleCRL, from: v.from, until: v.until}
	if c := v.claimed; c != nil {
		r.claimed = &identity.Identity{User: truncate(c.User, maxLoggedNameBytes), Serial: truncate(c.Serial, maxClaimedSerialBytes),
			FingerprintSHA256: c.FingerprintSHA256, Source: c.Source}
	}
	return r
}

// Estimated costs of a cached verdict, upper bounds of what
// TestVerdictSizeEstimates measures.
const (
	// entryBytes: the verdict and cache entry structs, the list element
	// and the map slot with its digest.
	entryBytes = 320
	// identityBytes: an Identity's fixed part, besides its strings.
	identityBytes = 320
)

// size estimates the memory v keeps alive while it is cached.
func (v *verdict) size() int {
	n := entryBytes + len(v.reason) + identitySize(v.id) + identitySize(v.claimed)
	for _, c := range v.chain {
		n += 2048 + 2*len(c.Raw) // not cached (see retained), but counted if it were
	}
	return n
}

func identitySize(id *identity.Identity) int {
	if id == nil {
		return 0
	}
	n := identityBytes + len(id.User) + len(id.Subject) + len(id.Issuer) + len(id.Serial) + len(id.FingerprintSHA256) + len(id.SPIFFEID)
	for _, list := range [][]string{id.Groups, id.OrgUnits, id.SANs.DNS, id.SANs.IP, id.SANs.Email, id.SANs.URI} {
		for _, s := range list {
			n += 16 + len(s)
		}
	}
	return n
}

// verdictCache is a bounded LRU of verdicts keyed by
// identity.PresentedDigest: a fixed-size digest of exactly what the
// decision read, so a hit costs neither decoding, parsing nor verification
// and no entry holds the client's bytes. It is bounded by entries and by
// the estimated bytes of what they keep. One cache belongs to one snapshot
// and is dropped with it.
type verdictCache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int
	bytes      int
	entries    map[identity.Digest]*list.Element
	order      list.List // front: most recently used
}

type cacheEntry struct {
	key  identity.Digest
	v    *verdict
	size int
}

// newVerdictCache returns a cache of at most maxEntries verdicts and
// maxBytes estimated bytes, or nil (no cache) when either is negative or
// zero.
func newVerdictCache(maxEntries, maxBytes int) *verdictCache {
	if maxEntries <= 0 || maxBytes <= 0 {
		return nil
	}
	return &verdictCache{maxEntries: maxEntries, maxBytes: maxBytes, entries: make(map[identity.Digest]*list.Element, min(maxEntries, 1024))}
}

// get returns the verdict cached for key if it still holds at now.
func (c *verdictCache) get(key identity.Digest, now time.Time) (*verdict, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !e.v.holdsAt(now) {
		c.remove(el)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.v, true
}

// put caches what v retains under key, evicting the least recently used
// verdicts until both bounds hold. A verdict larger than the byte bound is
// not cached.
func (c *verdictCache) put(key identity.Digest, v *verdict) {
	if c == nil {
		return
	}
	v = v.retained()
	size := v.size()
	if size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, v: v, size: size})
	c.bytes += size
	for c.order.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.order.Back())
	}
}

// remove drops el; the caller holds mu.
func (c *verdictCache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// len returns the number of cached verdicts.
func (c *verdictCache) len() int {
	n, _ := c.stats()
	return n
}

// stats returns the number of verdicts and their estimated bytes.
func (c *verdictCache) stats() (entries, bytes int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}

// CachedVerdicts returns the number of verdicts cached for the serving
// snapshot, for tools that size the cache's memory.
func (c *Checker) CachedVerdicts() int {
	if st := c.state.Load(); st != nil {
		return st.verdicts.len()
	}
	return 0
}
