package kubernetes_test

import (
	"encoding/json"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/certgate/certgate/bundles"
	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/deploy/k8sdecode"
)

// TestReplicasManifest: the three-replica example pulls its policy as an
// OPA bundle and its CRL from the in-cluster static server it deploys,
// keeps both where its state volume is mounted, and is ready only with a
// bundle.
func TestReplicasManifest(t *testing.T) {
	objs := decode(t, "replicas.yaml")
	isCertgate := func(d *appsv1.Deployment) bool { return d.Name == "certgate" }
	d := k8sdecode.Only(t, objs, isCertgate)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas = %v, want 3", d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe %+v, want /readyz (503 until a bundle activates)", p)
	}
	pdb := k8sdecode.Only[*policyv1.PodDisruptionBudget](t, objs, nil)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 2 {
		t.Errorf("PDB minAvailable = %v, want 2 of the 3", pdb.Spec.MinAvailable)
	}

	cm := k8sdecode.Only(t, objs, func(cm *corev1.ConfigMap) bool { return cm.Name == "certgate-config" })
	cfg := config.Default()
	if err := config.Parse([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.Dir != "" || cfg.Policy.OPA == nil {
		t.Fatalf("policy %+v, want policy.opa only", cfg.Policy)
	}
	raw, err := json.Marshal(cfg.Policy.OPA)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bundles.Parse(raw, "/nonexistent", nil)
	if err != nil {
		t.Fatalf("policy.opa: %v", err)
	}
	src := bc.Bundles["certgate"]
	if src == nil || !src.Persist || src.Resource != "/certgate.tar.gz" {
		t.Fatalf("bundle %+v, want certgate from /certgate.tar.gz, persisted", src)
	}

	// The replicas persist the bundle and cache the CRL on a volume, the
	// root being read-only.
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if mounts[bc.PersistDir] == "" {
		t.Errorf("persistence_directory %s is not a mounted volume (mounts %v)", bc.PersistDir, mounts)
	}
	if !strings.HasPrefix(cfg.Trust.CacheDir, "/var/lib/certgate/") || mounts["/var/lib/certgate"] == "" {
		t.Errorf("crl_cache_dir %q is not on the mounted state volume (mounts %v)", cfg.Trust.CacheDir, mounts)
	}

	// The service URL names the bundle server's Service and port, and that
	// Service selects a static NGINX serving the certgate-bundle ConfigMap.
	u, err := url.Parse(bc.Services[src.Service].Config().URL)
	if err != nil {
		t.Fatal(err)
	}
	svc := k8sdecode.Only(t, objs, func(s *corev1.Service) bool { return s.Name == "certgate-bundles" })
	if want := svc.Name + "." + svc.Namespace + ".svc.cluster.local"; u.Hostname() != want {
		t.Errorf("bundle service host %s, want %s", u.Hostname(), want)
	}
	if len(svc.Spec.Ports) != 1 || strconv.Itoa(int(svc.Spec.Ports[0].Port)) != u.Port() {
		t.Errorf("bundle service ports %+v, want the URL's port %s", svc.Spec.Ports, u.Port())
	}
	server := k8sdecode.Only(t, objs, func(d *appsv1.Deployment) bool { return d.Name == "certgate-bundles" })
	if !cmp.Equal(svc.Spec.Selector, server.Spec.Template.Labels) {
		t.Errorf("bundle service selector %v, pod labels %v", svc.Spec.Selector, server.Spec.Template.Labels)
	}
	var bundleVolume string
	for _, v := range server.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == "certgate-bundle" {
			bundleVolume = v.Name
		}
	}
	nginx := server.Spec.Template.Spec.Containers[0]
	served := false
	for _, m := range nginx.VolumeMounts {
		served = served || (m.Name == bundleVolume && m.MountPath == "/usr/share/nginx/html")
	}
	if bundleVolume == "" || !served {
		t.Errorf("the bundle server does not serve the certgate-bundle ConfigMap from its document root")
	}

	// The one CRL URL is the same static server's /crl/, where the
	// certgate-crl-published ConfigMap is mounted.
	if len(cfg.Trust.URLs) != 1 || len(cfg.Trust.CRLFiles) != 0 {
		t.Fatalf("crl_urls %v, crl_files %v: want one URL and no file", cfg.Trust.URLs, cfg.Trust.CRLFiles)
	}
	crlURL, err := url.Parse(cfg.Trust.URLs[0])
	if err != nil {
		t.Fatal(err)
	}
	var crlVolume string
	for _, v := range server.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == "certgate-crl-published" {
			crlVolume = v.Name
		}
	}
	crlServed := false
	for _, m := range nginx.VolumeMounts {
		crlServed = crlServed || (m.Name == crlVolume && "/usr/share/nginx/html"+path.Dir(crlURL.Path) == m.MountPath)
	}
	if crlURL.Host != u.Host || crlVolume == "" || !crlServed {
		t.Errorf("crl_urls %s is not served by the static server (%s) from certgate-crl-published", crlURL, u.Host)
	}
	if nginx.Ports[0].ContainerPort != svc.Spec.Ports[0].TargetPort.IntVal && nginx.Ports[0].Name != svc.Spec.Ports[0].TargetPort.StrVal {
		t.Errorf("bundle service targets %v, NGINX listens on %v", svc.Spec.Ports[0].TargetPort, nginx.Ports[0])
	}
}
