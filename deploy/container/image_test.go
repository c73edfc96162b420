// Package container_test builds the repository's Dockerfile with podman and
// runs the image: a static binary as user 65532 with no shell, that serves
// checks from a read-only root file system.
package container_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// config is what the test mounts at /etc/certgate: listeners on loopback
// ports the kernel picks (the container shares the test's network), the
// shipped policy built into the binary.
const config = `listen:
  grpc: 127.0.0.1:0
  http: 127.0.0.1:0
  metrics: ""
trust:
  ca_files: [/etc/certgate/ca.pem]
  crl_files: [/etc/certgate/crl.pem]
  crl_mode: full_chain
headers:
  http:
    trust: [ssl_client_cert]
    trusted_proxies: [127.0.0.1/32]
log:
  format: json
`

func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP (not a pass): -short: the image build compiles certgate")
	}
	e := newEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	goImg := goImage(t, ctx, e)
	if why := e.works(ctx, goImg); why != "" {
		t.Skip("SKIP (not a pass): " + why)
	}
	img := buildImage(t, ctx, e, goImg)

	t.Run("non-root, no shell", func(t *testing.T) {
		var cfg []struct {
			Config struct {
				User       string
				Entrypoint []string
			}
		}
		if err := json.Unmarshal([]byte(e.run(t, ctx, "image", "inspect", img)), &cfg); err != nil || len(cfg) != 1 {
			t.Fatalf("image inspect: %v", err)
		}
		if cfg[0].Config.User != "65532:65532" {
			t.Errorf("image user %q, want 65532:65532", cfg[0].Config.User)
		}
		if ep := cfg[0].Config.Entrypoint; len(ep) != 1 || ep[0] != "/usr/local/bin/certgate" {
			t.Errorf("entrypoint %v, want [/usr/local/bin/certgate]", ep)
		}
		out, err := e.cmd(ctx, append(append([]string{"run", "--rm", "--network", "none", "--entrypoint", "/bin/sh"}, limits...), img, "-c", "true")...).CombinedOutput()
		if err == nil {
			t.Errorf("the image has a shell: /bin/sh ran (%s)", out)
		}
		version := e.run(t, ctx, append(append([]string{"run", "--rm", "--network", "none"}, limits...), img, "version")...)
		if !strings.Contains(version, "certgate") {
			t.Errorf("certgate version printed %q", version)
		}
	})

	t.Run("serves checks from a read-only root", func(t *testing.T) {
		serveAndCheck(t, ctx, e, img)
	})
}

func writeTrust(t *testing.T) (dir string, viewer []byte) {
	t.Helper()
	dir = t.TempDir()
	ca := pkitest.New(t, "image test CA")
	leaf := ca.Leaf("alice", pkitest.Orgs("viewers"))
	files := map[string][]byte{
		"config.yaml": []byte(config),
		"ca.pem":      ca.CertPEM(),
		"crl.pem":     pki.EncodeCRLPEM(ca.CRL().Raw),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, leaf.CertPEM()
}

// runDir is the container's /run/certgate, the only place it may write:
// owned by 65532 as a Kubernetes emptyDir with fsGroup is (root podman), or
// open to all where the test cannot chown.
func runDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chown(dir, 65532, 65532); err != nil {
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// serveAndCheck runs `certgate serve` in the image as it runs in the
// Kubernetes manifests (read-only root, a writable /run/certgate only) and
// asks it about a request with and without a client certificate.
func serveAndCheck(t *testing.T, ctx context.Context, e engine, img string) {
	dir, viewer := writeTrust(t)
	args := append([]string{"run", "-d", "--network", "host", "--read-only", "--read-only-tmpfs=false",
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"-v", runDir(t) + ":/run/certgate", "-v", dir + ":/etc/certgate:ro"}, limits...)
	id := strings.TrimSpace(e.run(t, ctx, append(args, img)...))
	t.Cleanup(func() { _ = e.cmd(context.Background(), "rm", "-f", id).Run() })

	httpAddr := waitServing(t, ctx, e, id)
	base := "http://" + httpAddr
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d, want 200", resp.StatusCode)
	}
	for _, tc := range []struct {
		name string
		cert []byte
		want int
	}{
		{"a viewer may list VMs", viewer, http.StatusOK},
		{"no certificate", nil, http.StatusUnauthorized},
	} {
		req, err := client.NGINXRequest(base, client.Check{CertPEM: tc.cert, Method: http.MethodGet, Target: "/api/v1/vm", Host: "app.example"})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	// The admin socket is where `podman exec NAME certgate status` looks.
	status := e.run(t, ctx, "exec", id, "/usr/local/bin/certgate", "status")
	if !strings.Contains(status, "revision") {
		t.Errorf("certgate status in the container printed:\n%s", status)
	}
}

// waitServing reads the container's log until certgate says where it
// serves, and returns the HTTP listener's address.
func waitServing(t *testing.T, ctx context.Context, e engine, id string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		logs, _ := e.cmd(ctx, "logs", id).CombinedOutput()
		sc := bufio.NewScanner(strings.NewReader(string(logs)))
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" && line.HTTP != "" {
				return line.HTTP
			}
		}
		if state, _ := e.cmd(ctx, "inspect", "-f", "{{.State.Running}}", id).Output(); strings.TrimSpace(string(state)) == "false" {
			t.Fatalf("certgate stopped:\n%s", logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs, _ := e.cmd(ctx, "logs", id).CombinedOutput()
	t.Fatalf("no \"serving\" line within a minute:\n%s", logs)
	return ""
}
