package bundles

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descActivated = prometheus.NewDesc("certgate_bundle_last_activation_timestamp_seconds",
		"When a downloaded (or persisted) bundle last became part of the serving snapshot, in seconds since the epoch.", []string{"bundle"}, nil)
	descActivationAge = prometheus.NewDesc("certgate_bundle_activation_age_seconds",
		"Seconds since the bundle last became part of the serving snapshot.", []string{"bundle"}, nil)
	descChecked = prometheus.NewDesc("certgate_bundle_last_check_timestamp_seconds",
		"When the bundle server last answered with a bundle or 304, in seconds since the epoch.", []string{"bundle"}, nil)
	descInfo = prometheus.NewDesc("certgate_bundle_info",
		"The revision and ETag of the bundle the serving policy is built from; always 1.", []string{"bundle", "revision", "etag"}, nil)
	descFailing = prometheus.NewDesc("certgate_bundle_failing",
		"1 while the last download or activation of the bundle failed (the serving snapshot stays), else 0.", []string{"bundle"}, nil)
	descUpdates = prometheus.NewDesc("certgate_bundle_updates_total",
		"Bundle downloads by result: activated, unchanged, not_modified, download_failed or rejected.", []string{"bundle", "result"}, nil)
)

// Describe implements prometheus.Collector.
func (*Policy) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActivated, descActivationAge, descChecked, descInfo, descFailing, descUpdates} {
		ch <- d
	}
}

// Collect implements prometheus.Collector, reading the status at scrape
// time.
func (p *Policy) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	st := p.status
	updates := make(map[string]uint64, len(p.updates))
	for k, v := range p.updates {
		updates[k] = v
	}
	p.mu.Unlock()
	now := p.now()
	if !st.ActivatedAt.IsZero() {
		ch <- prometheus.MustNewConstMetric(descActivated, prometheus.GaugeValue, seconds(st.ActivatedAt), st.Name)
		ch <- prometheus.MustNewConstMetric(descActivationAge, prometheus.GaugeValue, now.Sub(st.ActivatedAt).Seconds(), st.Name)
		ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, st.Name, st.Revision, st.ETag)
	}
	if !st.CheckedAt.IsZero() {
		ch <- prometheus.MustNewConstMetric(descChecked, prometheus.GaugeValue, seconds(st.CheckedAt), st.Name)
	}
	failing := 0.0
	if st.LastError != "" {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, failing, st.Name)
	for _, result := range []string{UpdateActivated, UpdateUnchanged, UpdateNotModified, UpdateDownloadError, UpdateRejected} {
		ch <- prometheus.MustNewConstMetric(descUpdates, prometheus.CounterValue, float64(updates[result]), st.Name, result)
	}
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
