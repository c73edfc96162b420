package server

import (
	"sync"
	"time"
)

// The denial limits of a DecisionLog unless DenyRate says otherwise: a
// client can make certgate deny as fast as it can send, and each denial
// would be a line.
const (
	DefaultDenyRate  = 50  // lines per second, per Cause
	DefaultDenyBurst = 100 // lines at once, per Cause
)

// maxLimitedCauses bounds the buckets of a denyLimiter. Causes are a
// small fixed set plus the policy's own reason words; past this many,
// the rest share one bucket.
const maxLimitedCauses = 256

// overflowCause names the bucket shared by causes past maxLimitedCauses.
// No real Cause is empty.
const overflowCause Cause = ""

// denyLimiter is a token bucket per Cause: a flood of one kind of denial
// (no_certificate, ambiguous_path) is cut down to rate lines a second
// without hiding the other kinds. A nil *denyLimiter admits everything.
type denyLimiter struct {
	rate, burst float64

	mu      sync.Mutex
	buckets map[Cause]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
	// dropped counts the lines refused since the last one admitted.
	dropped uint64
}

// newDenyLimiter returns a limiter of rate lines a second and burst lines
// at once per Cause, or nil (no limit) when rate is not positive.
func newDenyLimiter(rate float64, burst int) *denyLimiter {
	if rate <= 0 {
		return nil
	}
	return &denyLimiter{rate: rate, burst: float64(max(burst, 1)), buckets: map[Cause]*tokenBucket{}}
}

// admit takes a token of cause's bucket at now. It returns whether the
// line may be written and, when it may, how many lines of that cause were
// refused since the last one written.
func (l *denyLimiter) admit(cause Cause, now time.Time) (ok bool, droppedBefore uint64) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(cause, now)
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		b.dropped++
		return false, 0
	}
	b.tokens--
	droppedBefore, b.dropped = b.dropped, 0
	return true, droppedBefore
}

// bucket returns cause's bucket, made full at now on first use.
func (l *denyLimiter) bucket(cause Cause, now time.Time) *tokenBucket {
	if b, ok := l.buckets[cause]; ok {
		return b
	}
	if len(l.buckets) >= maxLimitedCauses {
		cause = overflowCause
		if b, ok := l.buckets[cause]; ok {
			return b
		}
	}
	b := &tokenBucket{tokens: l.burst, last: now}
	l.buckets[cause] = b
	return b
}
