package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/certgate/certgate/buildinfo"
	"github.com/certgate/certgate/trust"
)

// Metrics are the Prometheus metrics of one certgate process. A nil
// *Metrics records nothing, so tests and tools need not set one up.
type Metrics struct {
	decisions      *prometheus.CounterVec
	duration       prometheus.Histogram
	verdictCache   *prometheus.CounterVec
	staleCRL       prometheus.Counter
	reloads        *prometheus.CounterVec
	crlWarnings    prometheus.Counter
	lastReloadFail prometheus.Gauge
	logDropped     *prometheus.CounterVec
	shadow         *shadowMetrics
	reg            prometheus.Registerer
	// counters holds the decision and verdict cache series already
	// resolved, by label set, so that a decision neither validates nor
	// hashes its labels in the vector: a series is still made on first
	// use. There are as many as the vectors' series.
	countersMu sync.RWMutex
	counters   map[counterKey]prometheus.Counter
}

// counterKey names one series of a counter vector; labels the vector does
// not have are empty.
type counterKey struct {
	vec                           *prometheus.CounterVec
	result, status, source, cause string
}

// counter returns the series of key.vec with these label values (those of
// key, in the vector's order), resolving it once.
func (m *Metrics) counter(key counterKey, labels ...string) prometheus.Counter {
	m.countersMu.RLock()
	c, ok := m.counters[key]
	m.countersMu.RUnlock()
	if ok {
		return c
	}
	c = key.vec.WithLabelValues(labels...)
	m.countersMu.Lock()
	if m.counters == nil {
		m.counters = map[counterKey]prometheus.Counter{}
	}
	m.counters[key] = c
	m.countersMu.Unlock()
	return c
}

// NewMetrics registers certgate's metrics and the Go and process collectors
// with reg. The Checker given these Metrics in its Options adds a collector
// of its current snapshot (revision, age, CRL and CA deadlines, cache size).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{reg: reg,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_decisions_total",
			Help: "Decisions made, by result (allow or deny), HTTP status, certificate source (envoy, header, xfcc, admin_tls, cert_file; none or untrusted_header when none was read) and reason (a short code: granted, revoked, ambiguous_path, …).",
		}, []string{"result", "status", "source", "reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "certgate_decision_duration_seconds",
			Help:    "Time to decide one request inside certgate, from receipt to verdict.",
			Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2},
		}),
		verdictCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_verdict_cache_requests_total",
			Help: "Lookups in the certificate verdict cache, by result (hit or miss).",
		}, []string{"result"}),
		staleCRL: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "certgate_stale_crl_decisions_total",
			Help: "Decisions that relied on a CRL past its nextUpdate (trust.on_stale_crl: warn).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_reloads_total",
			Help: "Snapshot reloads, by result (success, unchanged or failure).",
		}, []string{"result"}),
		crlWarnings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "certgate_crl_renewal_warnings_total",
			Help: "Warnings logged because a CRL's nextUpdate is near or past.",
		}),
		lastReloadFail: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "certgate_last_reload_failed",
			Help: "1 when the most recent reload failed and an older snapshot is serving, else 0.",
		}),
		logDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_decision_log_dropped_total",
			Help: "Denial lines not written to the decision log because their reason (the cause of certgate_decisions_total) was over decision_log.deny_rate; the decisions are still counted.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.decisions, m.duration, m.verdictCache, m.staleCRL, m.reloads, m.crlWarnings, m.lastReloadFail, m.logDropped,
		newBuildInfo(buildinfo.Read()),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.shadow = newShadowMetrics(reg)
	return m
}

// watch registers the snapshot collector of checker; one Metrics serves
// one Checker.
func (m *Metrics) watch(checker *Checker) {
	if m != nil {
		m.reg.MustRegister(&snapshotCollector{checker: checker})
	}
}

func (m *Metrics) observeDecision(res *Result, source string, took time.Duration, cacheHit, cacheUsed bool) {
	if m == nil {
		return
	}
	result := "deny"
	if res.Allow {
		result = "allow"
	}
	status := statusLabel(res.Status)
	m.counter(counterKey{vec: m.decisions, result: result, status: status, source: source, cause: string(res.Cause)},
		result, status, source, string(res.Cause)).Inc()
	m.duration.Observe(took.Seconds())
	if cacheUsed {
		lookup := "miss"
		if cacheHit {
			lookup = "hit"
		}
		m.counter(counterKey{vec: m.verdictCache, result: lookup}, lookup).Inc()
	}
	if res.StaleCRL {
		m.staleCRL.Inc()
	}
}

// statusLabel avoids formatting the few statuses certgate answers with.
func statusLabel(status int) string {
	switch status {
	case 200:
		return "200"
	case 400:
		return "400"
	case 401:
		return "401"
	case 403:
		return "403"
	case 500:
		return "500"
	}
	return strconv.Itoa(status)
}

func (m *Metrics) observeReload(result string) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues(result).Inc()
	if result == "failure" {
		m.lastReloadFail.Set(1)
	} else {
		m.lastReloadFail.Set(0)
	}
}

func (m *Metrics) observeDroppedLine(cause Cause) {
	if m != nil {
		m.logDropped.WithLabelValues(string(cause)).Inc()
	}
}

func (m *Metrics) observeCRLWarning() {
	if m != nil {
		m.crlWarnings.Inc()
	}
}

// snapshotCollector reads the serving snapshot at scrape time, so its
// figures are never out of date and vanish with the snapshot they describe.
type snapshotCollector struct{ checker *Checker }

var (
	descRevision = prometheus.NewDesc("certgate_snapshot_revision",
		"Revision of the snapshot serving requests.", nil, nil)
	descSnapshotAge = prometheus.NewDesc("certgate_snapshot_age_seconds",
		"Seconds since the serving snapshot was loaded.", nil, nil)
	descCRLInfo = prometheus.NewDesc("certgate_crl_info",
		"The CRL number of the newest CRL of each issuer in each file; always 1.", []string{"issuer", "file", "number"}, nil)
	descCRLNextUpdate = prometheus.NewDesc("certgate_crl_next_update_timestamp_seconds",
		"The nextUpdate of the newest CRL of each issuer in each file, in seconds since the epoch.", []string{"issuer", "file"}, nil)
	descCRLRevoked = prometheus.NewDesc("certgate_crl_revoked_certificates",
		"Entries in the newest CRL of each issuer in each file.", []string{"issuer", "file"}, nil)
	descCANotAfter = prometheus.NewDesc("certgate_ca_not_after_timestamp_seconds",
		"The CA certificate's notAfter, in seconds since the epoch.", []string{"subject", "fingerprint_sha256"}, nil)
	descCacheEntries = prometheus.NewDesc("certgate_verdict_cache_entries",
		"Certificate verdicts cached for the serving snapshot.", nil, nil)
	descCacheBytes = prometheus.NewDesc("certgate_verdict_cache_bytes",
		"Estimated memory held by the verdicts cached for the serving snapshot.", nil, nil)
	descDecisionCache = prometheus.NewDesc("certgate_decision_cache_requests_total",
		"Lookups in the policy decision cache, by result (hit or miss), over every snapshot the process has served.", []string{"result"}, nil)
	descDecisionCacheEntries = prometheus.NewDesc("certgate_decision_cache_entries",
		"Policy decisions cached for the serving snapshot.", nil, nil)
)

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRevision
	ch <- descSnapshotAge
	ch <- descCRLInfo
	ch <- descCRLNextUpdate
	ch <- descCRLRevoked
	ch <- descCANotAfter
	ch <- descCacheEntries
	ch <- descCacheBytes
	ch <- descDecisionCache
	ch <- descDecisionCacheEntries
	ch <- descShadowLoaded
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.checker.state.Load()
	if st == nil || st.snap == nil {
		return
	}
	snap, now := st.snap, c.checker.now()
	ch <- prometheus.MustNewConstMetric(descRevision, prometheus.GaugeValue, float64(snap.Revision))
	ch <- prometheus.MustNewConstMetric(descSnapshotAge, prometheus.GaugeValue, now.Sub(snap.LoadedAt).Seconds())
	entries, bytes := st.verdicts.stats()
	ch <- prometheus.MustNewConstMetric(descCacheEntries, prometheus.GaugeValue, float64(entries))
	ch <- prometheus.MustNewConstMetric(descCacheBytes, prometheus.GaugeValue, float64(bytes))
	ds := st.decisionCounts()
	ch <- prometheus.MustNewConstMetric(descDecisionCache, prometheus.CounterValue, float64(ds.hits), "hit")
	ch <- prometheus.MustNewConstMetric(descDecisionCache, prometheus.CounterValue, float64(ds.misses), "miss")
	ch <- prometheus.MustNewConstMetric(descDecisionCacheEntries, prometheus.GaugeValue, float64(ds.entries))
	collectShadow(ch, snap)
	ts := snap.Trust.Status()
	for _, crl := range newestCRLs(ts.CRLs) {
		ch <- prometheus.MustNewConstMetric(descCRLInfo, prometheus.GaugeValue, 1, crl.Issuer, crl.File, crl.Number)
		ch <- prometheus.MustNewConstMetric(descCRLNextUpdate, prometheus.GaugeValue, unixSeconds(crl.NextUpdate), crl.Issuer, crl.File)
		ch <- prometheus.MustNewConstMetric(descCRLRevoked, prometheus.GaugeValue, float64(crl.Revoked), crl.Issuer, crl.File)
	}
	seenCA := map[string]bool{}
	for _, ca := range ts.CAs {
		if seenCA[ca.FingerprintSHA256] {
			continue
		}
		seenCA[ca.FingerprintSHA256] = true
		ch <- prometheus.MustNewConstMetric(descCANotAfter, prometheus.GaugeValue, unixSeconds(ca.NotAfter), ca.Subject, ca.FingerprintSHA256)
	}
}

// newestCRLs keeps, of the CRLs one issuer has in one file, the one with
// the latest thisUpdate (the first of equals): Prometheus refuses two series
// with the same labels in one scrape, and the newest CRL is the one whose
// nextUpdate an operator must renew before.
func newestCRLs(crls []trust.CRLStatus) []trust.CRLStatus {
	type key struct{ issuer, file string }
	at := map[key]int{}
	var out []trust.CRLStatus
	for _, crl := range crls {
		k := key{crl.Issuer, crl.File}
		i, ok := at[k]
		switch {
		case !ok:
			at[k] = len(out)
			out = append(out, crl)
		case crl.ThisUpdate.After(out[i].ThisUpdate):
			out[i] = crl
		}
	}
	return out
}

// unixSeconds is t as a Prometheus timestamp value, so that an alert reads
// `certgate_ca_not_after_timestamp_seconds - time() < 86400`.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// decisionCounts are the decision cache's figures as the metrics report them.
type decisionCounts struct {
	hits, misses uint64
	entries      int
}

// decisionCounts adds the serving engine's lookups to those of the engines
// retired before it, so that certgate_decision_cache_requests_total never
// falls on a reload. Lookups that requests in flight make on a retired engine
// after the swap are not counted.
func (st *serving) decisionCounts() decisionCounts {
	d := st.retired
	if st.snap != nil && st.snap.Policy != nil {
		cs := st.snap.Policy.CacheStats()
		d.hits += cs.Hits
		d.misses += cs.Misses
		d.entries = cs.Entries
	}
	return d
}

// retire returns the lookups of engines retired once next replaces prev:
// prev's own join them unless next keeps prev's engine.
func retire(prev *serving, next *Snapshot) decisionCounts {
	if prev == nil {
		return decisionCounts{}
	}
	if prev.snap != nil && next != nil && prev.snap.Policy == next.Policy {
		return prev.retired
	}
	d := prev.decisionCounts()
	d.entries = 0
	return d
}
