package container_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repoRoot is the build context: the repository the Dockerfile is in.
const repoRoot = "../.."

// engine runs podman, the container engine Debian ships (no Docker engine is
// assumed). Where podman's default OCI runtime (crun) cannot start
// containers, as under a hybrid cgroup hierarchy, runc does when installed;
// the ulimits are set explicitly because a runtime may not raise them.
type engine struct {
	bin  string
	args []string // global flags
}

func newEngine(t *testing.T) engine {
	t.Helper()
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("SKIP (not a pass): no container engine: podman is not installed (Debian package podman; no Docker engine is used)")
	}
	e := engine{bin: bin}
	if _, err := exec.LookPath("runc"); err == nil {
		e.args = append(e.args, "--runtime", "runc")
	}
	return e
}

// limits are the ulimits every container gets here.
var limits = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

func (e engine) cmd(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, e.bin, append(append([]string{}, e.args...), args...)...)
}

// run runs podman and returns its standard output, failing the test with
// both outputs when it fails.
func (e engine) run(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := e.cmd(ctx, args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("podman %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// works reports why podman cannot run a container here, or "" when it can.
func (e engine) works(ctx context.Context, image string) string {
	out, err := e.cmd(ctx, append(append([]string{"run", "--rm", "--network", "none"}, limits...), image, "/usr/local/go/bin/go", "version")...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("podman cannot run a container here: %v: %s", err, bytes.TrimSpace(out))
	}
	return ""
}

// goImage returns a build-stage image with this machine's Go toolchain and
// no shell: golang images come from a registry this test does not reach, so
// it imports GOROOT as an image of its own (once per Go version).
// CERTGATE_TEST_GO_IMAGE names another (e.g. golang:1.26-bookworm).
func goImage(t *testing.T, ctx context.Context, e engine) string {
	t.Helper()
	if img := os.Getenv("CERTGATE_TEST_GO_IMAGE"); img != "" {
		return img
	}
	img := "localhost/certgate-test-go:" + strings.TrimPrefix(runtime.Version(), "go")
	if e.cmd(ctx, "image", "exists", img).Run() == nil {
		return img
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	goroot := strings.TrimSpace(string(out))
	tmp := t.TempDir()
	// /usr/local/go as in golang images, and an empty /tmp.
	if err := os.MkdirAll(filepath.Join(tmp, "usr/local"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(goroot, filepath.Join(tmp, "usr/local/go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(tmp, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	tarCmd := exec.CommandContext(ctx, "tar", "-C", tmp, "-c", "--dereference", "--exclude=usr/local/go/test", "usr", "tmp")
	imp := e.cmd(ctx, "import", "--change", "ENV PATH=/usr/local/go/bin:/usr/bin:/bin", "--change", "ENV GOTOOLCHAIN=local", "-", img)
	pipe, err := tarCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	imp.Stdin = pipe
	var impOut bytes.Buffer
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := tarCmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := imp.Run(); err != nil {
		t.Fatalf("podman import of GOROOT: %v\n%s", err, impOut.String())
	}
	if err := tarCmd.Wait(); err != nil {
		t.Fatalf("tar of GOROOT: %v", err)
	}
	return img
}

func modCache(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
}

// buildCache is the image build's Go build cache: this machine's own
// (go env GOCACHE). The image builds certgate static and -trimpath, and
// `make test` builds vet, lint and the deploy module in that configuration
// too (CGO_ENABLED=0, -trimpath), with the same toolchain (goImage imports
// this machine's GOROOT), so the image build compiles nothing that make has
// compiled already. The Go build cache is safe for concurrent use.
// CERTGATE_TEST_GO_IMAGE's toolchain simply misses it.
func buildCache(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" || dir == "off" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildImage builds the Dockerfile offline: the modules come from this
// machine's module cache as a file:// GOPROXY.
func buildImage(t *testing.T, ctx context.Context, e engine, goImg string) string {
	t.Helper()
	img := fmt.Sprintf("localhost/certgate-test:%d", time.Now().UnixNano())
	// --layers=false: no intermediate images (the build stage is ~900 MB) are
	// left behind; the Go build cache above keeps rebuilds quick.
	args := append([]string{"build", "--layers=false", "--network", "none"}, limits...)
	args = append(args,
		"--build-arg", "GO_IMAGE="+goImg,
		"--build-arg", "GOPROXY=file:///goproxy",
		"-v", modCache(t)+":/goproxy:ro",
		"-v", buildCache(t)+":/tmp/go-build",
		"-f", filepath.Join(repoRoot, "Dockerfile"), "-t", img, repoRoot)
	e.run(t, ctx, args...)
	t.Cleanup(func() { _ = e.cmd(context.Background(), "rmi", "-f", img).Run() })
	return img
}
