package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/certgate/certgate/buildinfo"
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
	reg            prometheus.Registerer
}

// NewMetrics registers certgate's metrics and the Go and process collectors
// with reg. The Checker given these Metrics in its Options adds a collector
// of its current snapshot (revision, age, CRL and CA deadlines, cache size).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{reg: reg,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_decisions_total",
			Help: "Decisions made, by result (allow or deny), HTTP status, certificate source (envoy, header, xfcc or none) and reason (a short code: granted, revoked, ambiguous_path, …).",
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
	m.decisions.WithLabelValues(result, statusLabel(res.Status), source, string(res.Cause)).Inc()
	m.duration.Observe(took.Seconds())
	if cacheUsed {
		if cacheHit {
			m.verdictCache.WithLabelValues("hit").Inc()
		} else {
			m.verdictCache.WithLabelValues("miss").Inc()
		}
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
	descCRLNextUpdate = prometheus.NewDesc("certgate_crl_next_update_seconds",
		"Seconds until the CRL's nextUpdate; negative when it is stale.", []string{"issuer", "file", "number"}, nil)
	descCRLRevoked = prometheus.NewDesc("certgate_crl_revoked_certificates",
		"Entries in the CRL.", []string{"issuer", "file", "number"}, nil)
	descCAExpiry = prometheus.NewDesc("certgate_ca_expiry_seconds",
		"Seconds until the CA certificate's notAfter.", []string{"subject", "fingerprint_sha256"}, nil)
	descCacheEntries = prometheus.NewDesc("certgate_verdict_cache_entries",
		"Certificate verdicts cached for the serving snapshot.", nil, nil)
	descCacheBytes = prometheus.NewDesc("certgate_verdict_cache_bytes",
		"Estimated memory held by the verdicts cached for the serving snapshot.", nil, nil)
	descDecisionCache = prometheus.NewDesc("certgate_decision_cache_requests_total",
		"Lookups in the policy decision cache of the serving snapshot, by result (hit or miss); starts from zero with each snapshot.", []string{"result"}, nil)
	descDecisionCacheEntries = prometheus.NewDesc("certgate_decision_cache_entries",
		"Policy decisions cached for the serving snapshot.", nil, nil)
)

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRevision
	ch <- descSnapshotAge
	ch <- descCRLNextUpdate
	ch <- descCRLRevoked
	ch <- descCAExpiry
	ch <- descCacheEntries
	ch <- descCacheBytes
	ch <- descDecisionCache
	ch <- descDecisionCacheEntries
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
	ds := snap.Policy.CacheStats()
	ch <- prometheus.MustNewConstMetric(descDecisionCache, prometheus.CounterValue, float64(ds.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(descDecisionCache, prometheus.CounterValue, float64(ds.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(descDecisionCacheEntries, prometheus.GaugeValue, float64(ds.Entries))
	ts := snap.Trust.Status()
	seen := map[[3]string]bool{}
	for _, crl := range ts.CRLs {
		// Prometheus refuses two series with the same labels in one scrape.
		if k := [3]string{crl.Issuer, crl.File, crl.Number}; seen[k] {
			continue
		} else {
			seen[k] = true
		}
		ch <- prometheus.MustNewConstMetric(descCRLNextUpdate, prometheus.GaugeValue, crl.NextUpdate.Sub(now).Seconds(), crl.Issuer, crl.File, crl.Number)
		ch <- prometheus.MustNewConstMetric(descCRLRevoked, prometheus.GaugeValue, float64(crl.Revoked), crl.Issuer, crl.File, crl.Number)
	}
	seenCA := map[string]bool{}
	for _, ca := range ts.CAs {
		if seenCA[ca.FingerprintSHA256] {
			continue
		}
		seenCA[ca.FingerprintSHA256] = true
		ch <- prometheus.MustNewConstMetric(descCAExpiry, prometheus.GaugeValue, ca.NotAfter.Sub(now).Seconds(), ca.Subject, ca.FingerprintSHA256)
	}
}
