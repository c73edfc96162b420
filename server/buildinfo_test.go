package server

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/buildinfo"
)

func TestMetricsExportTheBuildInfo(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	NewMetrics(reg)
	bi := buildinfo.Read()
	want := `# HELP certgate_build_info Always 1; the labels say which certgate build is running (version, VCS revision, Go version), as ` + "`certgate version`" + ` prints it.
# TYPE certgate_build_info gauge
certgate_build_info{goversion="` + bi.GoVersion + `",revision="` + bi.Revision + `",version="` + bi.Version + `"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "certgate_build_info"); err != nil {
		t.Error(err)
	}
}
