package helm_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/certgate/certgate/deploy/k8sdecode"
)

// chartDir is the chart as `helm install ./deploy/helm/certgate` reads it.
const chartDir = "certgate"

// render renders the chart as `helm template certgate deploy/helm/certgate
// -n certgate -f values.yaml` would: values over the chart's values.yaml,
// the values schema checked, templates in strict mode (a missing value is an
// error). It returns the manifests in file order (NOTES.txt left out).
func render(values string) (string, error) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return "", err
	}
	vals, err := common.ReadValues([]byte(values))
	if err != nil {
		return "", err
	}
	top, err := util.ToRenderValues(chrt, vals,
		common.ReleaseOptions{Name: "certgate", Namespace: "certgate", IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return "", err
	}
	files, err := engine.Engine{Strict: true}.RenderWithContext(context.Background(), chrt, top)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue // NOTES.txt
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var out strings.Builder
	for _, name := range names {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, files[name])
	}
	return out.String(), nil
}

// renderObjects renders the chart with values and decodes every object
// strictly into its Kubernetes API type.
func renderObjects(t *testing.T, values string) []any {
	t.Helper()
	manifest, err := render(values)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	objs, err := k8sdecode.All([]byte(manifest))
	if err != nil {
		t.Fatalf("%v\n%s", err, manifest)
	}
	return objs
}
