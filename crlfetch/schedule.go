package crlfetch

import "time"

// minInterval is the least time between two fetches of one source, and
// staleInterval the time between fetches of a source whose CRL is past its
// nextUpdate (unless Refresh is shorter).
const (
	minInterval   = time.Second
	staleInterval = 10 * time.Second
)

// nextAttempt is when a source is fetched again, after an attempt at now:
// after refresh; after a failure sooner, from one second doubling with each
// failure in a row; and when the CRL's nextUpdate comes before that, half
// way to it (so the fetches close in on it, never less than minInterval
// apart), or every staleInterval once it has passed.
func nextAttempt(now time.Time, refresh time.Duration, nextUpdate time.Time, failures int) time.Time {
	wait := refresh
	if failures > 0 {
		backoff := minInterval << min(failures-1, 20)
		wait = min(wait, backoff)
	}
	if !nextUpdate.IsZero() {
		left := nextUpdate.Sub(now)
		switch {
		case left <= 0:
			wait = min(wait, staleInterval)
		case left < wait:
			wait = max(left/2, minInterval)
		}
	}
	return now.Add(wait)
}

// record stores the outcome of one fetch of s at the Fetcher's clock.
func (f *Fetcher) record(s *source, res result, resp *response, info Info, err error) {
	now := f.opts.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	s.lastAttempt = now
	s.counts[res]++
	if res == resultFailure {
		s.failures++
		s.lastErr = err.Error()
	} else {
		s.failures, s.lastErr = 0, ""
		s.lastSuccess = now
		s.etag, s.lastModified, s.conditional = resp.etag, resp.lastModified, resp.conditional
	}
	if res == resultChanged {
		s.good = &Document{URL: s.url, Data: resp.body}
		s.info, s.fromCache = info, false
	}
	s.nextAttempt = nextAttempt(now, f.opts.Refresh, s.info.NextUpdate, s.failures)
	f.logOutcome(s, res)
}

// logOutcome logs a change, and every failure: as an error while the
// source has no CRL at all (what it covers is missing), else as a warning.
// f.mu is held.
func (f *Fetcher) logOutcome(s *source, res result) {
	switch {
	case res == resultChanged:
		f.log.Info("CRL fetched", "url", s.url, "crl_number", s.info.Number,
			"this_update", s.info.ThisUpdate.UTC().Format(time.RFC3339), "next_update", s.info.NextUpdate.UTC().Format(time.RFC3339))
	case res == resultFailure && s.good == nil:
		f.log.Error("CRL fetch failed and no CRL of this source is loaded: the certificates it would cover are missing their CRL (crl_mode decides: full_chain and leaf deny them with crl_unavailable)",
			"url", s.url, "error", s.lastErr, "failures", s.failures, "retry_at", s.nextAttempt.UTC().Format(time.RFC3339))
	case res == resultFailure:
		f.log.Warn("CRL fetch failed; the last good CRL stays until it is stale, then on_stale_crl applies",
			"url", s.url, "error", s.lastErr, "failures", s.failures, "next_update", s.info.NextUpdate.UTC().Format(time.RFC3339),
			"retry_at", s.nextAttempt.UTC().Format(time.RFC3339))
	}
}
