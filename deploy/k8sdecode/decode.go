// Package k8sdecode decodes Kubernetes manifests strictly into their typed
// API objects, as `kubectl apply --validate=strict` would check them: a
// misspelt or misplaced field, or a kind this project does not ship, is an
// error. The manifest test and the Helm chart test share it.
package k8sdecode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// newObject returns an empty object of the kind a document declares, or
// nil for a kind that no certgate manifest has.
func newObject(tm metav1.TypeMeta) any {
	switch tm.APIVersion + "/" + tm.Kind {
	case "v1/Namespace":
		return &corev1.Namespace{}
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}
	}
	return nil
}

// All decodes every YAML document of data (separated by --- lines) into its
// typed object. Documents holding only comments are skipped.
func All(data []byte) ([]any, error) {
	var objs []any
	for i, doc := range separator.Split(string(data), -1) {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if string(js) == "null" {
			continue // comments only
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		obj := newObject(tm)
		if obj == nil {
			return nil, fmt.Errorf("document %d: unexpected %s %s", i, tm.APIVersion, tm.Kind)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// Only returns the one object of type T that match accepts (every T when
// match is nil), and fails the test unless there is exactly one.
func Only[T any](tb testing.TB, objs []any, match func(T) bool) T {
	tb.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.(T); ok && (match == nil || match(v)) {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		tb.Fatalf("want exactly one %T, found %d", zero, len(found))
	}
	return found[0]
}
