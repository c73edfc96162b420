package helm_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/deploy/k8sdecode"
)

// regoDir is the repository's rego/, the policy certgate ships.
var regoDir = filepath.Join("..", "..", "rego")

// kinds lists the objects' kinds in order ("Deployment", "ConfigMap", …).
func kinds(objs []any) []string {
	var out []string
	for _, o := range objs {
		name := fmt.Sprintf("%T", o)
		out = append(out, name[strings.LastIndex(name, ".")+1:])
	}
	return out
}

func deployment(t *testing.T, objs []any) (*appsv1.Deployment, corev1.PodSpec, corev1.Container) {
	t.Helper()
	d := k8sdecode.Only[*appsv1.Deployment](t, objs, nil)
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	return d, pod, pod.Containers[0]
}

// checkLockedDown asserts what no value may weaken: a non-root user, a
// read-only root file system, no privilege escalation, no capabilities, the
// RuntimeDefault seccomp profile, no service account token.
func checkLockedDown(t *testing.T, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.RunAsUser == nil || *psc.RunAsUser != 65532 || psc.RunAsGroup == nil || *psc.RunAsGroup != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext = %+v, want runAsNonRoot, user and group 65532, seccomp RuntimeDefault", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.Capabilities == nil || !cmp.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.Privileged != nil && *sc.Privileged {
		t.Errorf("container securityContext = %+v, want read-only root, no privilege escalation, non-root, drop ALL", sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pods get a service account token; certgate calls no Kubernetes API")
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Error("the pods share a host namespace")
	}
}

// parseConfig parses the rendered config.yaml as certgate serve would.
func parseConfig(t *testing.T, objs []any) config.Config {
	t.Helper()
	cm := k8sdecode.Only(t, objs, func(cm *corev1.ConfigMap) bool { return strings.HasSuffix(cm.Name, "-config") })
	cfg := config.Default()
	if err := config.Parse([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
		t.Fatalf("config.yaml: %v\n%s", err, cm.Data["config.yaml"])
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	return cfg
}

func mounts(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, v := range c.VolumeMounts {
		m[v.Name] = v.MountPath
	}
	return m
}

func sources(pod corev1.PodSpec) map[string]string {
	m := map[string]string{}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			m[v.Name] = "configmap/" + v.ConfigMap.Name
		case v.Secret != nil:
			m[v.Name] = "secret/" + v.Secret.SecretName
		case v.EmptyDir != nil:
			m[v.Name] = "emptydir"
		}
	}
	return m
}

func TestDefaultValues(t *testing.T) {
	objs := renderObjects(t, "")
	if diff := cmp.Diff([]string{"ConfigMap", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service"}, kinds(objs)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	d, pod, c := deployment(t, objs)
	checkLockedDown(t, pod, c)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	if c.Image != "ghcr.io/certgate/certgate:0.1.0" {
		t.Errorf("image = %q, want the chart's appVersion as tag", c.Image)
	}
	if diff := cmp.Diff([]string{"serve", "--config", "/etc/certgate/config/config.yaml"}, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	for path, probe := range map[string]*corev1.Probe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "http" {
			t.Errorf("probe for %s = %+v, want httpGet %s on port http", path, probe, path)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v, want cpu and memory requests and a memory limit", c.Resources)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if diff := cmp.Diff(map[string]int32{"grpc": 9191, "http": 9192, "metrics": 9193}, ports); diff != "" {
		t.Errorf("container ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{
		"config": "/etc/certgate/config", "policy": "/etc/certgate/policy",
		"ca": "/etc/certgate/ca", "crl": "/etc/certgate/crl", "run": "/run/certgate",
	}, mounts(c)); diff != "" {
		t.Errorf("volume mounts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{
		"config": "configmap/certgate-config", "policy": "configmap/certgate-policy",
		"ca": "secret/certgate-ca", "crl": "secret/certgate-crl", "run": "emptydir",
	}, sources(pod)); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	for _, m := range c.VolumeMounts {
		if m.Name != "run" && !m.ReadOnly {
			t.Errorf("volume %s is mounted writable", m.Name)
		}
	}
	if d.Spec.Template.Annotations["checksum/config"] == "" {
		t.Error("no checksum/config annotation: a config change would not restart the pods")
	}

	svc := k8sdecode.Only[*corev1.Service](t, objs, nil)
	svcPorts := map[string]int32{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = p.Port
	}
	if diff := cmp.Diff(map[string]int32{"grpc": 9191, "http": 9192}, svcPorts); diff != "" {
		t.Errorf("service ports (-want +got; metrics stay off the Service):\n%s", diff)
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("service type %s, want ClusterIP", svc.Spec.Type)
	}
	labels := d.Spec.Template.Labels
	if !cmp.Equal(svc.Spec.Selector, labels) || !cmp.Equal(d.Spec.Selector.MatchLabels, labels) {
		t.Errorf("selectors %v / %v do not match pod labels %v", svc.Spec.Selector, d.Spec.Selector.MatchLabels, labels)
	}
	pdb := k8sdecode.Only[*policyv1.PodDisruptionBudget](t, objs, nil)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 || !cmp.Equal(pdb.Spec.Selector.MatchLabels, labels) {
		t.Errorf("PDB = %+v, want minAvailable 1 over the pods", pdb.Spec)
	}

	t.Run("config.yaml is a valid certgate config", func(t *testing.T) {
		cfg := parseConfig(t, objs)
		want := config.Default()
		want.Listen.GRPC, want.Listen.HTTP, want.Listen.Metrics = "0.0.0.0:9191", "0.0.0.0:9192", "0.0.0.0:9193"
		want.Trust.CAFiles = []string{"/etc/certgate/ca/ca.pem"}
		want.Trust.IntermediateFiles = []string{}
		want.Trust.CRLFiles = []string{"/etc/certgate/crl/crl.pem"}
		want.Trust.CRLMode = "full_chain"
		want.Headers.HTTP.TrustedProxies = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}
		want.Headers.GRPC.Trust, want.Headers.GRPC.TrustedProxies = []string{}, []string{}
		want.Policy.Dir = "/etc/certgate/policy"
		want.Admin.Listen = "unix:/run/certgate/admin.sock"
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Errorf("config.yaml (-want +got):\n%s", diff)
		}
	})

	t.Run("the policy ConfigMap is the shipped policy", func(t *testing.T) {
		cm := k8sdecode.Only(t, objs, func(cm *corev1.ConfigMap) bool { return cm.Name == "certgate-policy" })
		names := []string{"admin.rego", "authz.rego", "data.json"}
		for _, name := range names {
			want, err := os.ReadFile(filepath.Join(regoDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.TrimRight(string(want), "\n"), strings.TrimRight(cm.Data[name], "\n")); diff != "" {
				t.Errorf("%s differs from rego/%s; copy it to deploy/helm/certgate/files/policy (-rego +configmap):\n%s", name, name, diff)
			}
		}
		if len(cm.Data) != len(names) {
			t.Errorf("the policy ConfigMap holds %d files, want %v", len(cm.Data), names)
		}
	})
}

// allOn turns on every optional object and changes what a user commonly
// changes.
const allOn = `
fullnameOverride: gate
replicaCount: 3
image: {repository: registry.example/certgate, tag: v1.2.3}
trust:
  ca: {secret: corp-ca, key: bundle.pem}
  crl: {secret: corp-crl, key: corp.crl}
serviceMonitor:
  enabled: true
  labels: {release: prom}
networkPolicy:
  enabled: true
  checkFrom:
  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: envoy}}
    podSelector: {matchLabels: {app: envoy}}
  - podSelector: {matchLabels: {app: nginx}}
  metricsFrom:
  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
    podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}
`

func TestEveryOptionalObject(t *testing.T) {
	objs := renderObjects(t, allOn)
	if diff := cmp.Diff([]string{"ConfigMap", "ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service", "Service", "ServiceMonitor"}, kinds(objs)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	d, pod, c := deployment(t, objs)
	checkLockedDown(t, pod, c)
	if *d.Spec.Replicas != 3 || c.Image != "registry.example/certgate:v1.2.3" || d.Name != "gate" {
		t.Errorf("replicas %d, image %q, name %q: values not applied", *d.Spec.Replicas, c.Image, d.Name)
	}
	if diff := cmp.Diff(map[string]string{
		"config": "configmap/gate-config", "policy": "configmap/gate-policy",
		"ca": "secret/corp-ca", "crl": "secret/corp-crl", "run": "emptydir",
	}, sources(pod)); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	cfg := parseConfig(t, objs)
	if !cmp.Equal(cfg.Trust.CAFiles, []string{"/etc/certgate/ca/bundle.pem"}) || !cmp.Equal(cfg.Trust.CRLFiles, []string{"/etc/certgate/crl/corp.crl"}) {
		t.Errorf("trust files %v / %v, want the Secrets' keys under their mounts", cfg.Trust.CAFiles, cfg.Trust.CRLFiles)
	}
	podLabels := d.Spec.Template.Labels

	t.Run("only the proxies reach the check listeners, only the scraper metrics", func(t *testing.T) {
		np := k8sdecode.Only[*networkingv1.NetworkPolicy](t, objs, nil)
		if !cmp.Equal(np.Spec.PodSelector.MatchLabels, podLabels) || len(np.Spec.PodSelector.MatchExpressions) != 0 {
			t.Errorf("podSelector %+v does not select exactly certgate's pods %v", np.Spec.PodSelector, podLabels)
		}
		if !cmp.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
			t.Errorf("policyTypes %v, want [Ingress]", np.Spec.PolicyTypes)
		}
		peer := func(ns, key, value string) networkingv1.NetworkPolicyPeer {
			p := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}}
			if ns != "" {
				p.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}
			}
			return p
		}
		port := func(name string) networkingv1.NetworkPolicyPort {
			tcp, p := corev1.ProtocolTCP, intstr.FromString(name)
			return networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &p}
		}
		want := []networkingv1.NetworkPolicyIngressRule{
			{
				From:  []networkingv1.NetworkPolicyPeer{peer("envoy", "app", "envoy"), peer("", "app", "nginx")},
				Ports: []networkingv1.NetworkPolicyPort{port("grpc"), port("http")},
			},
			{
				From:  []networkingv1.NetworkPolicyPeer{peer("monitoring", "app.kubernetes.io/name", "prometheus")},
				Ports: []networkingv1.NetworkPolicyPort{port("metrics")},
			},
		}
		if diff := cmp.Diff(want, np.Spec.Ingress); diff != "" {
			t.Errorf("ingress rules (-want +got):\n%s", diff)
		}
	})

	t.Run("the ServiceMonitor scrapes the metrics Service", func(t *testing.T) {
		metrics := k8sdecode.Only(t, objs, func(s *corev1.Service) bool { return s.Name == "gate-metrics" })
		if len(metrics.Spec.Ports) != 1 || metrics.Spec.Ports[0].Name != "metrics" || metrics.Spec.Ports[0].Port != 9193 {
			t.Errorf("metrics Service ports %+v, want metrics 9193 only", metrics.Spec.Ports)
		}
		if !cmp.Equal(metrics.Spec.Selector, podLabels) {
			t.Errorf("metrics Service selector %v, want the pods' %v", metrics.Spec.Selector, podLabels)
		}
		sm := k8sdecode.Only[*monitoringv1.ServiceMonitor](t, objs, nil)
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		main := k8sdecode.Only(t, objs, func(s *corev1.Service) bool { return s.Name == "gate" })
		if !sel.Matches(labels.Set(metrics.Labels)) || sel.Matches(labels.Set(main.Labels)) {
			t.Errorf("ServiceMonitor selector %v must select the metrics Service %v and not the check Service %v", sel, metrics.Labels, main.Labels)
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoints %+v, want port metrics, /metrics", sm.Spec.Endpoints)
		}
		if sm.Labels["release"] != "prom" {
			t.Errorf("ServiceMonitor labels %v lack serviceMonitor.labels", sm.Labels)
		}
	})
}

func TestWithoutCRLAndWithOwnPolicy(t *testing.T) {
	objs := renderObjects(t, `
trust:
  crl: {secret: ""}
config:
  trust: {crl_mode: "off"}
policy:
  existingConfigMap: my-policy
`)
	if diff := cmp.Diff([]string{"ConfigMap", "Deployment", "PodDisruptionBudget", "Service"}, kinds(objs)); diff != "" {
		t.Errorf("objects (-want +got; no policy ConfigMap of the chart's):\n%s", diff)
	}
	_, pod, c := deployment(t, objs)
	checkLockedDown(t, pod, c)
	if diff := cmp.Diff(map[string]string{
		"config": "configmap/certgate-config", "policy": "configmap/my-policy",
		"ca": "secret/certgate-ca", "run": "emptydir",
	}, sources(pod)); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	if _, ok := mounts(c)["crl"]; ok {
		t.Error("a CRL volume is mounted with trust.crl.secret empty")
	}
	cfg := parseConfig(t, objs)
	if len(cfg.Trust.CRLFiles) != 0 || cfg.Trust.CRLMode != "off" {
		t.Errorf("crl_files %v, crl_mode %q; want none, off", cfg.Trust.CRLFiles, cfg.Trust.CRLMode)
	}
}

func TestPolicyFilesFromValues(t *testing.T) {
	objs := renderObjects(t, `
policy:
  files:
    authz.rego: |
      package certgate.authz
      default decision := {"allow": false}
    data.json: '{}'
`)
	cm := k8sdecode.Only(t, objs, func(cm *corev1.ConfigMap) bool { return cm.Name == "certgate-policy" })
	want := map[string]string{
		"authz.rego": "package certgate.authz\ndefault decision := {\"allow\": false}\n",
		"data.json":  "{}\n", // a block scalar ends in a newline
	}
	if diff := cmp.Diff(want, cm.Data); diff != "" {
		t.Errorf("policy ConfigMap (-want +got):\n%s", diff)
	}
}

// TestValuesThatWouldOpenItUpFail: values that would admit every pod, run
// with no CA or break the config fail to render rather than deploy.
func TestValuesThatWouldOpenItUpFail(t *testing.T) {
	cases := map[string]struct{ values, want string }{
		"a NetworkPolicy without proxies": {"networkPolicy: {enabled: true, checkFrom: []}", "networkPolicy.checkFrom"},
		"no CA Secret":                    {"trust: {ca: {secret: \"\"}}", "trust.ca.secret"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := render(tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("render error %v, want one naming %s", err, tc.want)
			}
			t.Log(err)
		})
	}
}
