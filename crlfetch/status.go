package crlfetch

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Status describes one source.
type Status struct {
	URL string
	// Learned is a URL from a certificate's CRL distribution points.
	Learned bool
	// Available says that a good document is held (and served).
	Available bool
	// FromCache: that document was read from the cache directory and
	// has not been fetched since the start.
	FromCache bool
	// LastSuccess is the last fetch that got the document or a 304;
	// LastAttempt the last fetch; NextAttempt when the next is due.
	LastSuccess, LastAttempt, NextAttempt time.Time
	// ETag and LastModified are the validators held.
	ETag, LastModified string
	// ThisUpdate, NextUpdate and Number are of the good document.
	ThisUpdate, NextUpdate time.Time
	Number                 string
	// LastError is the error of the last attempt, "" after a success;
	// Failures how many attempts in a row have failed.
	LastError string
	Failures  int
	// Changed, Unchanged and Failed count the fetches by outcome.
	Changed, Unchanged, Failed uint64
}

// Status describes every source, configured ones first.
func (f *Fetcher) Status() []Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Status, 0, len(f.sources))
	for _, s := range f.sources {
		out = append(out, Status{
			URL: s.url, Learned: s.learned, Available: s.good != nil, FromCache: s.fromCache,
			LastSuccess: s.lastSuccess, LastAttempt: s.lastAttempt, NextAttempt: s.nextAttempt,
			ETag: s.etag, LastModified: s.lastModified,
			ThisUpdate: s.info.ThisUpdate, NextUpdate: s.info.NextUpdate, Number: s.info.Number,
			LastError: s.lastErr, Failures: s.failures,
			Changed: s.counts[resultChanged], Unchanged: s.counts[resultUnchanged], Failed: s.counts[resultFailure],
		})
	}
	return out
}

// LearnStatus counts the URLs Learn was given and did not add: refused
// (outside the allowed prefixes, or not a usable URL) and dropped (past
// the bound); Learned is how many it added.
type LearnStatus struct {
	Learned          int
	Refused, Dropped uint64
}

// LearnStatus returns the counts of Learn.
func (f *Fetcher) LearnStatus() LearnStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return LearnStatus{Learned: f.learn.learned, Refused: f.learn.refused, Dropped: f.learn.dropped}
}

var (
	descFetches = prometheus.NewDesc("certgate_crl_fetches_total",
		"CRL fetches by source URL and result: changed (a new CRL was accepted), unchanged (304 or the same bytes), failure (network, HTTP status, size, or a CRL the checks refused).",
		[]string{"url", "result"}, nil)
	descAvailable = prometheus.NewDesc("certgate_crl_source_available",
		"1 when a good CRL of the source is held, 0 when none is (its certificates are missing their CRL).", []string{"url"}, nil)
	descFailing = prometheus.NewDesc("certgate_crl_source_failing",
		"1 when the last fetch of the source failed.", []string{"url"}, nil)
	descLastSuccess = prometheus.NewDesc("certgate_crl_source_last_success_timestamp_seconds",
		"When the source was last fetched successfully (a new CRL, 304 or the same bytes).", []string{"url"}, nil)
	descNextUpdate = prometheus.NewDesc("certgate_crl_source_next_update_timestamp_seconds",
		"The earliest nextUpdate of the source's good CRL.", []string{"url"}, nil)
	descLearned = prometheus.NewDesc("certgate_crl_learned_urls",
		"CRL distribution points learned from certificates.", nil, nil)
	descLearnRefused = prometheus.NewDesc("certgate_crl_learned_urls_refused_total",
		"CRL distribution points not learned: outside trust.crl_distribution_points.allowed_prefixes or not a usable URL.", nil, nil)
	descLearnDropped = prometheus.NewDesc("certgate_crl_learned_urls_dropped_total",
		"CRL distribution points not learned because trust.crl_distribution_points.max_urls was reached.", nil, nil)
)

// Describe implements prometheus.Collector.
func (f *Fetcher) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFetches, descAvailable, descFailing, descLastSuccess, descNextUpdate, descLearned, descLearnRefused, descLearnDropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The url label is bounded: the
// configured URLs and at most LearnOptions.Max learned ones.
func (f *Fetcher) Collect(ch chan<- prometheus.Metric) {
	bool01 := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, s := range f.Status() {
		for r, n := range []uint64{s.Changed, s.Unchanged, s.Failed} {
			ch <- prometheus.MustNewConstMetric(descFetches, prometheus.CounterValue, float64(n), s.URL, resultNames[r])
		}
		ch <- prometheus.MustNewConstMetric(descAvailable, prometheus.GaugeValue, bool01(s.Available), s.URL)
		ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, bool01(s.LastError != ""), s.URL)
		if !s.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(s.LastSuccess.Unix()), s.URL)
		}
		if s.Available && !s.NextUpdate.IsZero() {
			ch <- prometheus.MustNewConstMetric(descNextUpdate, prometheus.GaugeValue, float64(s.NextUpdate.Unix()), s.URL)
		}
	}
	l := f.LearnStatus()
	ch <- prometheus.MustNewConstMetric(descLearned, prometheus.GaugeValue, float64(l.Learned))
	ch <- prometheus.MustNewConstMetric(descLearnRefused, prometheus.CounterValue, float64(l.Refused))
	ch <- prometheus.MustNewConstMetric(descLearnDropped, prometheus.CounterValue, float64(l.Dropped))
}
