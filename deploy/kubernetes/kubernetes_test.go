// Package kubernetes_test checks the raw manifests in nginx/kubernetes. It
// lives in the deploy module so that the Kubernetes API modules stay out of
// certgate's own go.mod.
package kubernetes_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/deploy/k8sdecode"
)

// repoRoot is the certgate repository; the manifests are where the NGINX
// documentation points.
const repoRoot = "../.."

var manifests = filepath.Join(repoRoot, "nginx", "kubernetes")

// decode reads every document of a manifest into its typed Kubernetes
// object, strictly (see k8sdecode).
func decode(t *testing.T, name string) []any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(manifests, name))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := k8sdecode.All(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return objs
}

func TestATypoFailsTheManifest(t *testing.T) {
	cases := []struct{ name, file, from, to string }{
		{"a misspelt field", "certgate.yaml", "  replicas: 2", "  replica: 2"},
		{"a pod field on the container", "certgate.yaml", "          readOnlyRootFilesystem: true", "          readOnlyRootFilesystem: true\n          fsGroup: 65532"},
		{"an unknown kind", "certgate.yaml", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgets"},
		{"a misspelt NetworkPolicy field", "certgate.yaml", "  policyTypes: [Ingress]", "  policyType: [Ingress]"},
		{"a misspelt Ingress field", "ingress.yaml", "ingressClassName:", "ingressClass:"},
		{"a misspelt field of the replicas example", "replicas.yaml", "  replicas: 3", "  replica: 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(manifests, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.from) {
				t.Fatalf("%s no longer contains %q", tc.file, tc.from)
			}
			_, err = k8sdecode.All([]byte(strings.Replace(string(data), tc.from, tc.to, 1)))
			if err == nil {
				t.Fatalf("%s with %q -> %q decoded without error", tc.file, tc.from, tc.to)
			}
			t.Log(err)
		})
	}
}

func TestCertgateManifest(t *testing.T) {
	objs := decode(t, "certgate.yaml")

	d := k8sdecode.Only[*appsv1.Deployment](t, objs, nil)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if diff := cmp.Diff([]string{"serve", "--config", "/etc/certgate/config/config.yaml"}, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	for name, probe := range map[string]*corev1.Probe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name || probe.HTTPGet.Port.String() != "http" {
			t.Errorf("probe for %s = %+v, want httpGet %s on port http", name, probe, name)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if diff := cmp.Diff(map[string]int32{"grpc": 9191, "http": 9192, "metrics": 9193}, ports); diff != "" {
		t.Errorf("container ports (-want +got):\n%s", diff)
	}
	// Prometheus scrapes the metrics listener; the data listeners serve no /metrics.
	if diff := cmp.Diff(map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9193", "prometheus.io/path": "/metrics"},
		d.Spec.Template.Annotations); diff != "" {
		t.Errorf("pod scrape annotations (-want +got):\n%s", diff)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !cmp.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext = %+v, want read-only root, no privilege escalation, drop ALL", sc)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod securityContext lacks runAsNonRoot: true")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v, want cpu and memory requests and a memory limit", c.Resources)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	sources := map[string]string{}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			sources[v.Name] = "configmap/" + v.ConfigMap.Name
		case v.Secret != nil:
			sources[v.Name] = "secret/" + v.Secret.SecretName
		case v.EmptyDir != nil:
			sources[v.Name] = "emptydir"
		}
	}
	if diff := cmp.Diff(map[string]string{
		"config": "/etc/certgate/config", "policy": "/etc/certgate/policy",
		"ca": "/etc/certgate/ca", "crl": "/etc/certgate/crl",
		"run": "/run/certgate", // the admin API's socket
	}, mounts); diff != "" {
		t.Errorf("volume mounts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{
		"config": "configmap/certgate-config", "policy": "configmap/certgate-policy",
		"ca": "secret/certgate-ca", "crl": "secret/certgate-crl",
		"run": "emptydir",
	}, sources); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}

	svc := k8sdecode.Only[*corev1.Service](t, objs, nil)
	svcPorts := map[string]string{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = p.TargetPort.String()
		if want := ports[p.Name]; p.Port != want {
			t.Errorf("service port %s = %d, want %d", p.Name, p.Port, want)
		}
	}
	if diff := cmp.Diff(map[string]string{"grpc": "grpc", "http": "http"}, svcPorts); diff != "" {
		t.Errorf("service target ports (-want +got):\n%s", diff)
	}
	if !cmp.Equal(svc.Spec.Selector, d.Spec.Template.Labels) || !cmp.Equal(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("selectors %v / %v do not match pod labels %v", svc.Spec.Selector, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}

	pdb := k8sdecode.Only[*policyv1.PodDisruptionBudget](t, objs, nil)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PDB minAvailable = %v, want 1", pdb.Spec.MinAvailable)
	}
	if !cmp.Equal(pdb.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("PDB selector %v does not match pod labels", pdb.Spec.Selector.MatchLabels)
	}

	t.Run("only ingress-nginx reaches the check listeners, only Prometheus metrics", func(t *testing.T) {
		np := k8sdecode.Only[*networkingv1.NetworkPolicy](t, objs, nil)
		if !cmp.Equal(np.Spec.PodSelector.MatchLabels, d.Spec.Template.Labels) || len(np.Spec.PodSelector.MatchExpressions) != 0 {
			t.Errorf("podSelector %+v does not select exactly certgate's pods", np.Spec.PodSelector)
		}
		if !cmp.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
			t.Errorf("policyTypes %v, want [Ingress]", np.Spec.PolicyTypes)
		}
		got := map[string][]string{} // port name -> who may reach it
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) == 0 || len(rule.Ports) == 0 {
				t.Fatalf("rule %+v admits every pod or every port", rule)
			}
			for _, port := range rule.Ports {
				if port.Port == nil || port.Port.String() == "" || port.EndPort != nil {
					t.Fatalf("rule %+v names no single port", rule)
				}
				for _, peer := range rule.From {
					if peer.IPBlock != nil || peer.NamespaceSelector == nil || peer.PodSelector == nil {
						t.Fatalf("peer %+v is not a namespace and pod selector", peer)
					}
					got[port.Port.String()] = append(got[port.Port.String()],
						metav1.FormatLabelSelector(peer.NamespaceSelector)+" / "+metav1.FormatLabelSelector(peer.PodSelector))
				}
			}
		}
		controller := "kubernetes.io/metadata.name=ingress-nginx / app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx"
		if diff := cmp.Diff(map[string][]string{
			"grpc":    {controller},
			"http":    {controller},
			"metrics": {"kubernetes.io/metadata.name=monitoring / app.kubernetes.io/name=prometheus"},
		}, got); diff != "" {
			t.Errorf("who reaches which port (-want +got):\n%s", diff)
		}
	})

	t.Run("the embedded config.yaml is a valid certgate config", func(t *testing.T) {
		cm := k8sdecode.Only(t, objs, func(cm *corev1.ConfigMap) bool { return cm.Name == "certgate-config" })
		cfg := config.Default()
		if err := config.Parse([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		want := config.Default()
		// Only what the manifest sets differs from the defaults.
		want.Listen.GRPC, want.Listen.HTTP, want.Listen.Metrics = "0.0.0.0:9191", "0.0.0.0:9192", "0.0.0.0:9193"
		// Bound beyond loopback, the data listeners answer only the pods.
		want.Listen.AllowedPeers = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}
		want.Trust.CAFiles = []string{"/etc/certgate/ca/ca.pem"}
		want.Trust.IntermediateFiles = []string{}
		want.Trust.CRLFiles = []string{"/etc/certgate/crl/crl.pem"}
		want.Trust.CRLMode = "full_chain"
		want.Headers.HTTP.TrustedProxies = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}
		want.Policy.Dir = "/etc/certgate/policy"
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Errorf("config.yaml (-want +got):\n%s", diff)
		}
		if open := cfg.Listen.OpenDataListeners(); len(open) > 0 {
			t.Errorf("%v answer any peer (certgate warns at start): set listen.allowed_peers or listen.tls", open)
		}
	})

	t.Run("the policy ConfigMap is the shipped policy", func(t *testing.T) {
		cm := k8sdecode.Only(t, objs, func(cm *corev1.ConfigMap) bool { return cm.Name == "certgate-policy" })
		for _, name := range []string{"authz.rego", "admin.rego", "data.json"} {
			want, err := os.ReadFile(filepath.Join(repoRoot, "rego", name))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.TrimRight(string(want), "\n"), strings.TrimRight(cm.Data[name], "\n")); diff != "" {
				t.Errorf("%s differs from rego/%s; copy it into certgate.yaml (-rego +configmap):\n%s", name, name, diff)
			}
		}
		if len(cm.Data) != 3 {
			t.Errorf("certgate-policy holds %d files, want authz.rego, admin.rego and data.json", len(cm.Data))
		}
	})
}

const prefix = "nginx.ingress.kubernetes.io/"

// authSnippetHeaders returns what an auth-snippet sets with proxy_set_header.
func authSnippetHeaders(t *testing.T, snippet string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, stmt := range strings.Split(snippet, ";") {
		f := strings.Fields(stmt)
		if len(f) == 0 {
			continue
		}
		if f[0] != "proxy_set_header" || len(f) != 3 {
			t.Fatalf("auth-snippet: unexpected %q", strings.TrimSpace(stmt))
		}
		name := strings.ToLower(f[1])
		if _, dup := got[name]; dup {
			t.Errorf("auth-snippet sets %s twice", f[1])
		}
		got[name] = strings.Trim(f[2], `"`)
	}
	return got
}

func TestIngresses(t *testing.T) {
	common := map[string]string{
		"auth-tls-secret":                       "anka/certgate-client-ca",
		"auth-tls-verify-depth":                 "3",
		"auth-tls-pass-certificate-to-upstream": "true",
		"auth-url":                              "http://certgate.certgate.svc.cluster.local:9192/v1/check",
		"auth-response-headers":                 "X-Certgate-User,X-Certgate-Groups,X-Certgate-Permission,X-Certgate-Fingerprint",
	}
	cases := []struct {
		file  string
		extra map[string]string
	}{
		// NGINX refuses unverified clients; ingress-nginx sets X-Original-URI.
		{"ingress.yaml", map[string]string{"auth-tls-verify-client": "on", "auth-method": "GET"}},
		// certgate sees every client; the snippet overwrites what it could
		// believe, and the configuration snippet clears method overrides.
		{"ingress-snippet.yaml", map[string]string{"auth-tls-verify-client": "optional_no_ca", "auth-snippet": "", "configuration-snippet": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			ing := k8sdecode.Only[*networkingv1.Ingress](t, decode(t, tc.file), nil)
			want := map[string]string{}
			for k, v := range common {
				want[prefix+k] = v
			}
			for k, v := range tc.extra {
				want[prefix+k] = v
			}
			got := map[string]string{}
			for k, v := range ing.Annotations {
				got[k] = v
			}
			snippet, hasSnippet := got[prefix+"auth-snippet"]
			if hasSnippet {
				got[prefix+"auth-snippet"] = "" // checked below
			}
			upstreamSnippet, hasUpstreamSnippet := got[prefix+"configuration-snippet"]
			if hasUpstreamSnippet {
				got[prefix+"configuration-snippet"] = "" // checked below
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			if hasSnippet {
				// Exactly these: x-original-method, ssl-client-cert and
				// ssl-client-verify are ingress-nginx's own, and a second
				// copy of one would make certgate deny every request.
				wantSet := map[string]string{
					"x-original-uri":          "$request_uri",
					"x-forwarded-host":        "$host",
					"x-forwarded-client-cert": "",
					"client-cert":             "",
					"client-cert-chain":       "",
					"x-certgate-user":         "",
					"x-certgate-groups":       "",
					"x-certgate-permission":   "",
					"x-certgate-fingerprint":  "",
				}
				if diff := cmp.Diff(wantSet, authSnippetHeaders(t, snippet)); diff != "" {
					t.Errorf("auth-snippet (-want +got):\n%s", diff)
				}
			}
			if hasUpstreamSnippet {
				// The app's request loses every method override header,
				// and the snippet does nothing else.
				want := map[string]string{"x-http-method-override": "", "x-http-method": "", "x-method-override": ""}
				if diff := cmp.Diff(want, authSnippetHeaders(t, upstreamSnippet)); diff != "" {
					t.Errorf("configuration-snippet (-want +got):\n%s", diff)
				}
			}
			if len(ing.Spec.TLS) != 1 || len(ing.Spec.Rules) != 1 {
				t.Errorf("want one TLS entry and one rule, got %d and %d", len(ing.Spec.TLS), len(ing.Spec.Rules))
			}
		})
	}
}
