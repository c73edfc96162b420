package server

import (
	"container/list"
	"crypto/x509"
	"strconv"
	"sync"
	"time"

	"github.com/certgate/certgate/identity"
)

// DefaultVerdictCacheSize bounds the verdict cache when Options leave it 0.
const DefaultVerdictCacheSize = 10000

// maxVerdictKeyBytes keeps oversized presentations out of the cache: they
// are rare, and each entry holds its key.
const maxVerdictKeyBytes = 64 << 10

// failureTTL is how long a failed verification is remembered. Failures
// are cheap to repeat correctly and expensive to repeat at flood rate.
const failureTTL = time.Minute

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
	// chain verified but its identity was refused (for Explain).
	err      error
	chain    []*x509.Certificate
	staleCRL bool
	// The verdict holds for now in [from, until).
	from, until time.Time
}

func (v *verdict) holdsAt(now time.Time) bool {
	return !now.Before(v.from) && now.Before(v.until)
}

// verdictCache is a bounded LRU of verdicts keyed by the presented
// certificate bytes exactly as the proxy sent them, so a hit costs neither
// decoding, parsing nor verification. One cache belongs to one snapshot and
// is dropped with it.
type verdictCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	order   list.List // front: most recently used
}

type cacheEntry struct {
	key string
	v   *verdict
}

func newVerdictCache(max int) *verdictCache {
	if max <= 0 {
		return nil
	}
	return &verdictCache{max: max, entries: make(map[string]*list.Element, min(max, 1024))}
}

// get returns the verdict cached for key if it still holds at now.
func (c *verdictCache) get(key verdictKey, now time.Time) (*verdict, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var el *list.Element
	var ok bool
	if key.built != nil {
		el, ok = c.entries[string(key.built)] // no copy: a map index converts in place
	} else {
		el, ok = c.entries[key.s]
	}
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !e.v.holdsAt(now) {
		c.order.Remove(el)
		delete(c.entries, e.key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.v, true
}

func (c *verdictCache) put(key verdictKey, v *verdict) {
	if c == nil || key.len() > maxVerdictKeyBytes {
		return
	}
	k := key.s
	if key.built != nil {
		k = string(key.built)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		el.Value.(*cacheEntry).v = v
		c.order.MoveToFront(el)
		return
	}
	c.entries[k] = c.order.PushFront(&cacheEntry{key: k, v: v})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).key)
	}
}

func (c *verdictCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// verdictKey is a cache key: the Envoy peer certificate as the request
// carries it (no copy), or the forwarded certificate headers encoded into
// built, a pooled buffer that is copied only when the verdict is stored.
type verdictKey struct {
	s     string
	built []byte
}

func (k verdictKey) len() int {
	if k.built != nil {
		return len(k.built)
	}
	return len(k.s)
}

// keyBuffers recycles the buffers forwarded-header keys are built in: an
// NGINX request would otherwise allocate its certificate's size twice.
var keyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// presentedKey identifies everything identity.Extract may read for req: the
// Envoy peer certificate alone, or the forwarded certificate headers when
// they are trusted, encoded into *buf. ok is false when the request must not
// be cached.
func presentedKey(req *Request, trustForwarded bool, buf *[]byte) (key verdictKey, ok bool) {
	if req.PeerCertificate != "" {
		// Header keys start with NUL; a peer certificate that does too
		// could collide with one, so it is never cached.
		return verdictKey{s: req.PeerCertificate}, req.PeerCertificate[0] != 0
	}
	if !trustForwarded {
		return verdictKey{}, false
	}
	n := 1
	for _, name := range identity.ForwardedCertHeaders {
		n += len(req.Headers[name]) + 8
	}
	if n > maxVerdictKeyBytes {
		return verdictKey{}, false
	}
	b := append((*buf)[:0], 0)
	for _, name := range identity.ForwardedCertHeaders {
		v, present := req.Headers[name]
		if !present {
			b = append(b, '-')
			continue
		}
		b = strconv.AppendInt(append(b, '+'), int64(len(v)), 10)
		b = append(append(b, ':'), v...)
	}
	*buf = b
	return verdictKey{built: b}, true
}

// CachedVerdicts returns the number of verdicts cached for the serving
// snapshot, for tools that size the cache's memory.
func (c *Checker) CachedVerdicts() int {
	if st := c.state.Load(); st != nil {
		return st.verdicts.len()
	}
	return 0
}
