package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/buildinfo"
)

// newBuildInfo is the certgate_build_info gauge: always 1, with the build
// in its labels, so that a dashboard can join any metric on the version
// that produced it (the Prometheus "info metric" convention).
func newBuildInfo(bi buildinfo.Info) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "certgate_build_info",
		Help: "Always 1; the labels say which certgate build is running (version, VCS revision, Go version), as `certgate version` prints it.",
	}, []string{"version", "revision", "goversion"})
	g.WithLabelValues(bi.Version, bi.Revision, bi.GoVersion).Set(1)
	return g
}
