package server

import (
	"crypto/x509"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/certgate/certgate/identity"
)

// Bounds of the verdict cache when Options leave them 0.
const (
	// DefaultVerdictCacheSize bounds the number of verified verdicts: a
	// fleet of 100,000 client certificates.
	DefaultVerdictCacheSize = 100_000
	// DefaultVerdictCacheBytes bounds their estimated memory: 1.3 KiB a
	// verdict on average, more than a typical client certificate's (about
	// 900 bytes), so that the entries bound the cache unless certificates
	// are unusually large (long subjects, many SANs).
	DefaultVerdictCacheBytes = 128 << 20
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
	// cost is the size of a cached verdict (see retained).
	cost int
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
	r.cost = r.size()
	return r
}

// Estimated costs of a cached verdict, upper bounds of what
// TestVerdictSizeEstimates measures.
const (
	// entryBytes: the verdict struct and the cache's node and hash table
	// slot with its digest.
	entryBytes = 400
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

// verdictCache holds verdicts keyed by identity.PresentedDigest (or
// identity.ChainDigest): a fixed-size digest of exactly what the decision
// read, so a hit costs neither decoding, parsing nor verification and no
// entry holds the client's bytes. One cache belongs to one snapshot and is
// dropped with it.
//
// It is two caches, so that what a client without a valid certificate
// sends cannot push out the verdicts of clients with one: verified holds
// successes only, and a junk presentation never reaches it; failed, a
// sixteenth of its size, holds failures. Both are W-TinyLFU caches
// (github.com/maypok86/otter/v2): an entry is admitted over the one it
// would evict only when it has been asked for more often, so a round robin
// over more certificates than fit keeps hitting on the ones that stayed,
// where an LRU would miss every time. Each is bounded by entries and by
// the estimated bytes of what its verdicts keep: an entry weighs its size
// (verdict.size), and at least maxBytes/maxEntries, so that the one
// weight bound keeps both.
type verdictCache struct {
	verified, failed *otter.Cache[identity.Digest, *verdict]
	verifiedBound    bound
	failedBound      bound
	// bytes is the estimated size of the verdicts cached in both.
	bytes atomic.Int64
}

// bound is one cache's limits.
type bound struct{ entries, bytes int }

// unit is the least weight of an entry: maxBytes/maxEntries, so that a
// weight of at most bytes also means at most entries.
func (b bound) unit() uint32 { return uint32(min(int64(max(b.bytes/b.entries, 1)), math.MaxUint32)) }

// failedShare is the part of the bounds the failures get, besides those of
// the successes.
const failedShare = 16

// newVerdictCache returns a cache of at most maxEntries verified verdicts
// in maxBytes estimated bytes, plus a sixteenth of each for failures, or
// nil (no cache) when either is negative or zero.
func newVerdictCache(maxEntries, maxBytes int) *verdictCache {
	if maxEntries <= 0 || maxBytes <= 0 {
		return nil
	}
	c := &verdictCache{
		verifiedBound: bound{maxEntries, maxBytes},
		failedBound:   bound{max(maxEntries/failedShare, 1), max(maxBytes/failedShare, 1)},
	}
	c.verified = c.newSegment(c.verifiedBound)
	c.failed = c.newSegment(c.failedBound)
	return c
}

func (c *verdictCache) newSegment(b bound) *otter.Cache[identity.Digest, *verdict] {
	unit := b.unit()
	return otter.Must(&otter.Options[identity.Digest, *verdict]{
		MaximumWeight:   uint64(b.bytes),
		InitialCapacity: min(b.entries, 1024),
		Weigher: func(_ identity.Digest, v *verdict) uint32 {
			return max(uint32(min(int64(v.cost), math.MaxUint32)), unit)
		},
		OnAtomicDeletion: func(e otter.DeletionEvent[identity.Digest, *verdict]) {
			c.bytes.Add(-int64(e.Value.cost))
		},
	})
}

// get returns the verdict cached for key if it still holds at now.
func (c *verdictCache) get(key identity.Digest, now time.Time) (*verdict, bool) {
	if c == nil {
		return nil, false
	}
	for _, seg := range []*otter.Cache[identity.Digest, *verdict]{c.verified, c.failed} {
		v, ok := seg.GetIfPresent(key)
		if !ok {
			continue
		}
		if !v.holdsAt(now) {
			seg.Invalidate(key)
			return nil, false
		}
		return v, true
	}
	return nil, false
}

// put caches what v retains under key: a success among the verified, a
// failure among the failed. A verdict larger than its cache's byte bound
// is not cached.
func (c *verdictCache) put(key identity.Digest, v *verdict) {
	if c == nil {
		return
	}
	v = v.retained()
	seg, b, other := c.verified, c.verifiedBound, c.failed
	if v.id == nil {
		seg, b, other = c.failed, c.failedBound, c.verified
	}
	if v.cost > b.bytes {
		return
	}
	c.bytes.Add(int64(v.cost))
	seg.Set(key, v)
	other.Invalidate(key)
}

// stats returns the number of verdicts and their estimated bytes.
func (c *verdictCache) stats() (entries, bytes int) {
	if c == nil {
		return 0, 0
	}
	return c.verified.EstimatedSize() + c.failed.EstimatedSize(), int(c.bytes.Load())
}

// len returns the number of cached verdicts.
func (c *verdictCache) len() int {
	n, _ := c.stats()
	return n
}

// cleanUp runs the caches' pending maintenance (evictions), for tests that
// read exact bounds.
func (c *verdictCache) cleanUp() {
	c.verified.CleanUp()
	c.failed.CleanUp()
}

// CachedVerdicts returns the number of verdicts cached for the serving
// snapshot, for tools that size the cache's memory.
func (c *Checker) CachedVerdicts() int {
	if st := c.state.Load(); st != nil {
		return st.verdicts.len()
	}
	return 0
}
