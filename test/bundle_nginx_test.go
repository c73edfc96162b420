package test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/client"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/rego"
)

// bundleSite is a real NGINX serving OPA bundles, built by the stock
// `opa build`, as static files over HTTPS: NGINX sends an ETag and answers
// If-None-Match with 304, as a bundle server must.
type bundleSite struct {
	w    *world
	root string // NGINX's document root
	url  string
}

func startBundleSite(t *testing.T) *bundleSite {
	t.Helper()
	w, keys, _, _ := newWorldWithKeys(t)
	bin := nginxBinary(t)
	prefix := t.TempDir()
	// NGINX's workers run as another user when the test runs as root: the
	// document root is one they may read, outside the test's 0700
	// directories.
	root, err := os.MkdirTemp("", "certgate-bundles")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &bundleSite{w: w, root: root}
	server := keys["nginx-server"]
	key, err := server.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	certFile := w.write(t, "bundle-server.pem", append(server.CertPEM(), w.issuing.CertPEM()...))
	keyFile := w.write(t, "bundle-server-key.pem", key)
	lis := listenLocal(t)
	s.url = fmt.Sprintf("https://localhost:%d", lis.Addr().(*net.TCPAddr).Port)
	runNGINX(t, bin, prefix, fmt.Sprintf(`
    server {
        listen %s ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        root %s;
        types { application/gzip gz; }
    }
`, lis.Addr(), certFile, keyFile, s.root), lis)
	return s
}

// publish puts the bundle file src at /certgate.tar.gz whole (a rename),
// as a deployment that copies then moves a file does.
func (s *bundleSite) publish(t *testing.T, src string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(s.root, ".certgate.tar.gz.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(s.root, "certgate.tar.gz")); err != nil {
		t.Fatal(err)
	}
}

// policySection is certgate's policy: section for this site, in OPA's
// schema, polling every min to max seconds; keys, when not "", is the
// keys: section of a public key.
func (s *bundleSite) policySection(persistDir string, minDelay, maxDelay int, keys string) string {
	return fmt.Sprintf(`policy:
  opa:
    services:
      fleet:
        url: %q
        tls: {ca_cert: %q}
    bundles:
      certgate:
        service: fleet
        resource: /certgate.tar.gz
        polling: {min_delay_seconds: %d, max_delay_seconds: %d}
        persist: true
    persistence_directory: %q
%s`, s.url, s.w.caFile, minDelay, maxDelay, persistDir, keys)
}

// opaBuild builds a bundle from dir with the stock `opa build`, at
// revision, with extra flags (signing), and returns its path.
func opaBuild(t *testing.T, dir, revision string, extra ...string) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	args := append([]string{"tool", "opa", "build", "-b", dir, "--revision", revision, "-o", out}, extra...)
	cmd := goCommand(args...)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("opa build: %v\n%s", err, b)
	}
	return out
}

// regoWithoutViewerVMs is a copy of rego/ whose viewers may no longer list
// VMs: the bundle change a test can see in a decision.
func regoWithoutViewerVMs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(rego.Default, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(rego.Default, name)
		if err != nil {
			return err
		}
		if name == "data.json" {
			var doc map[string]map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				return err
			}
			groups := doc["certgate"]["groups"].(map[string]any)
			var kept []any
			for _, p := range groups["viewers"].([]any) {
				if p != "list_vms" {
					kept = append(kept, p)
				}
			}
			groups["viewers"] = kept
			if data, err = json.Marshal(doc); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(dir, name), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// signingKey writes an RSA key for `opa build --signing-key` and returns
// its file and the keys: section certgate verifies with.
func signingKey(t *testing.T, w *world) (keyFile, keysSection string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = w.write(t, "bundle-signing.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	pubPEM, err := json.Marshal(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
	if err != nil {
		t.Fatal(err)
	}
	return keyFile, fmt.Sprintf("    keys:\n      fleet: {algorithm: RS256, key: %s}\n", pubPEM)
}

// viewerListsVMs asks a replica's HTTP check endpoint, as NGINX's
// auth_request would, whether viewer may GET /api/v1/vm: 200 or 403.
func viewerListsVMs(t *testing.T, p *certgateProc, viewer []byte) int {
	t.Helper()
	req, err := client.NGINXRequest("http://"+p.httpAddr, client.Check{CertPEM: viewer, Method: "GET", Target: "/api/v1/vm"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// bundleStatus is the replica's status of its bundle.
func bundleStatus(t *testing.T, p *certgateProc) *adminv1.Bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := p.admin().GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.GetBundles()) != 1 {
		t.Fatalf("status lists %d bundles, want 1", len(st.GetBundles()))
	}
	return st.GetBundles()[0]
}

// waitFor polls cond every 20 ms for at most limit and reports how long
// it took to hold, or fails.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// TestReplicasFollowABundleOnNGINX: three certgate processes poll one
// bundle, built by the stock `opa build` from rego/ and served by a real
// NGINX; a changed bundle reaches every one of them.
func TestReplicasFollowABundleOnNGINX(t *testing.T) {
	site := startBundleSite(t)
	original := opaBuild(t, "rego/", "v1")
	changed := opaBuild(t, regoWithoutViewerVMs(t), "v2")
	site.publish(t, original)
	var replicas []*certgateProc
	for range 3 {
		p := writeFaultConfig(t, site.w, faultConfig{policy: site.policySection(t.TempDir(), 1, 2, "")})
		p.start() // ready once the bundle activated
		replicas = append(replicas, p)
	}
	for i, p := range replicas {
		if code := viewerListsVMs(t, p, site.w.clients["viewer"]); code != http.StatusOK {
			t.Fatalf("replica %d on v1: viewer GET /api/v1/vm is %d, want 200", i, code)
		}
		if st := bundleStatus(t, p); st.GetRevision() != "v1" || st.GetEtag() == "" || st.GetActivatedAt() == nil {
			t.Errorf("replica %d status %v, want revision v1 with an ETag", i, st)
		}
	}
	// `opa build -b rego/` bundles the _test.rego files too; they never
	// reach the running service, as with policy.dir.
	st, err := replicas[0].admin().GetStatus(context.Background(), &adminv1.GetStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if files := strings.Join(st.GetSnapshot().GetPolicyFiles(), ","); files != "/rego/admin.rego,/rego/authz.rego" {
		t.Errorf("policy files %s, want /rego/admin.rego,/rego/authz.rego", files)
	}
	for _, change := range []struct {
		file string
		want int
	}{{changed, http.StatusForbidden}, {original, http.StatusOK}} {
		site.publish(t, change.file)
		for i, p := range replicas {
			took := waitFor(t, 15*time.Second, fmt.Sprintf("replica %d answers %d", i, change.want), func() bool { return viewerListsVMs(t, p, site.w.clients["viewer"]) == change.want })
			t.Logf("replica %d answered %d after %v", i, change.want, took.Round(time.Millisecond))
		}
	}
	// The bundle is unchanged now: polls are answered 304 and no snapshot
	// is built.
	before := bundleStatus(t, replicas[0])
	time.Sleep(2500 * time.Millisecond)
	if again := bundleStatus(t, replicas[0]); again.GetActivations() != before.GetActivations() || !again.GetCheckedAt().AsTime().After(before.GetCheckedAt().AsTime()) {
		t.Errorf("an unchanged bundle: activations %d → %d, checked %v → %v; want the same count, checked since",
			before.GetActivations(), again.GetActivations(), before.GetCheckedAt().AsTime(), again.GetCheckedAt().AsTime())
	}
}

// TestASignedBundleOnNGINX: with keys configured, certgate serves a bundle
// `opa build --signing-key` signed and refuses one unsigned, keeping the
// signed one; a restart while NGINX serves nothing serves the persisted
// bundle.
func TestASignedBundleOnNGINX(t *testing.T) {
	site := startBundleSite(t)
	keyFile, keys := signingKey(t, site.w)
	signed := opaBuild(t, "rego/", "signed", "--signing-key", keyFile, "--signing-alg", "RS256", "--verification-key-id", "fleet")
	unsigned := opaBuild(t, regoWithoutViewerVMs(t), "unsigned")
	site.publish(t, signed)
	persist := t.TempDir()
	p := writeFaultConfig(t, site.w, faultConfig{policy: site.policySection(persist, 1, 1, keys)})
	p.start()
	if st := bundleStatus(t, p); st.GetRevision() != "signed" {
		t.Fatalf("status %v, want the signed bundle", st)
	}
	site.publish(t, unsigned)
	waitFor(t, 15*time.Second, "the unsigned bundle is reported", func() bool {
		return strings.Contains(bundleStatus(t, p).GetLastError(), ".signatures.json")
	})
	if code := viewerListsVMs(t, p, site.w.clients["viewer"]); code != http.StatusOK {
		t.Fatalf("after an unsigned bundle: %d, want 200 (the signed bundle's decision)", code)
	}

	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(site.root, "certgate.tar.gz")); err != nil {
		t.Fatal(err)
	}
	p.start()
	if st := bundleStatus(t, p); !st.GetFromDisk() || st.GetRevision() != "signed" {
		t.Errorf("after a restart with no bundle served: %v, want the persisted signed bundle", st)
	}
	if code := viewerListsVMs(t, p, site.w.clients["viewer"]); code != http.StatusOK {
		t.Errorf("the persisted bundle: %d, want 200", code)
	}
}
