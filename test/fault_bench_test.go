package test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certgate/certgate/internal/testlog"
	shipped "github.com/certgate/certgate/rego"
)

// benchReport is the part of `certgate bench --json` this test reads.
type benchReport struct {
	Certgate struct {
		Requests    int            `json:"requests"`
		Errors      int            `json:"errors"`
		Mismatches  int            `json:"mismatches"`
		WrongAllows int            `json:"wrong_allows"`
		Status      map[string]int `json:"status"`
	} `json:"certgate"`
}

// TestFaultUnderCertgateBench drives `certgate dev`, in its own process,
// with the project's load tool (`certgate bench`, also its own process)
// while the policy file is replaced by a broken one and back every half
// second and SIGHUPs arrive every 100 ms. A broken policy never loads, so
// no decision may change: bench must report no mismatch, no wrong allow
// and no error, and certgate must stay up and stop cleanly.
func TestFaultUnderCertgateBench(t *testing.T) {
	bin := certgateBinary(t)
	dir := t.TempDir()
	policyDir := filepath.Join(dir, "policy")
	good := map[string][]byte{}
	for _, name := range []string{"authz.rego", "admin.rego", "data.json"} {
		data, err := fs.ReadFile(shipped.Default, name)
		if err != nil {
			t.Fatal(err)
		}
		good[name] = data
		writeAtomically(t, filepath.Join(policyDir, name), data)
	}
	broken := append(bytes.Clone(good["authz.rego"]), []byte("\nthis is not rego {\n")...)
	sockDir, err := os.MkdirTemp("", "cg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	var devLog bytes.Buffer
	var devHelp testlog.Buffer
	dev := exec.Command(bin, "dev", "--dir", filepath.Join(dir, "demo"), "--grpc-listen", anyPort, "--http-listen", anyPort, "--metrics-listen", anyPort,
		"--policy-dir", policyDir, "--admin-listen", "unix:"+filepath.Join(sockDir, "admin.sock"))
	dev.Env = withoutCertgateEnv(os.Environ())
	dev.Stdout, dev.Stderr = &devHelp, &devLog
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- dev.Wait() }()
	t.Cleanup(func() {
		_ = dev.Process.Kill()
		<-exited
	})
	grpcAddr := waitDevListening(t, &devHelp, "ext_authz gRPC", exited)
	rssStart := rssOf(t, dev.Process.Pid)

	duration := 12 * time.Second
	if testing.Short() {
		duration = 5 * time.Second
	}
	var benchOut, benchErr bytes.Buffer
	bench := exec.Command(bin, "bench", "--grpc", grpcAddr, "--pki", filepath.Join(dir, "demo"),
		"--duration", duration.String(), "--concurrency", "8", "--json")
	bench.Env = dev.Env
	bench.Stdout, bench.Stderr = &benchOut, &benchErr
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	benchDone := make(chan error, 1)
	go func() { benchDone <- bench.Wait() }()

	hups, rewrites := 0, 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(duration + 30*time.Second)
	var benchErrExit error
loop:
	for i := 0; ; i++ {
		select {
		case benchErrExit = <-benchDone:
			break loop
		case <-deadline:
			_ = bench.Process.Kill()
			t.Fatalf("certgate bench did not finish within %v", duration+30*time.Second)
		case <-tick.C:
			if err := dev.Process.Signal(syscall.SIGHUP); err == nil {
				hups++
			}
			if i%5 == 0 {
				content := good["authz.rego"]
				if rewrites%2 == 0 {
					content = broken
				}
				writeAtomically(t, filepath.Join(policyDir, "authz.rego"), content)
				rewrites++
			}
		}
	}
	writeAtomically(t, filepath.Join(policyDir, "authz.rego"), good["authz.rego"])
	var rep benchReport
	if err := json.Unmarshal(benchOut.Bytes(), &rep); err != nil {
		t.Fatalf("certgate bench --json: %v (exit %v)\nstdout: %s\nstderr: %s", err, benchErrExit, benchOut.String(), benchErr.String())
	}
	c := rep.Certgate
	if c.Requests == 0 || c.Mismatches != 0 || c.WrongAllows != 0 || c.Errors != 0 || benchErrExit != nil {
		t.Errorf("certgate bench: %d requests, %d mismatches, %d wrong allows, %d errors, exit %v; statuses %v\n%s",
			c.Requests, c.Mismatches, c.WrongAllows, c.Errors, benchErrExit, c.Status, benchErr.String())
	}
	select {
	case err := <-exited:
		t.Fatalf("certgate dev died under the storm: %v\n%s", err, devLog.String())
	default:
	}
	rssEnd := rssOf(t, dev.Process.Pid)
	checkFlatRSS(t, rssStart, rssEnd)
	if err := dev.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("certgate dev exited with %v after SIGTERM, want 0", err)
		}
		exited <- nil // for the cleanup
	case <-time.After(15 * time.Second):
		t.Error("certgate dev did not stop within 15s of SIGTERM")
	}
	t.Logf("fault certgate-bench: %d requests (statuses %v), %d mismatches, %d wrong allows, %d errors under %d SIGHUPs and %d policy rewrites (half broken), RSS %.1f→%.1f MiB",
		c.Requests, c.Status, c.Mismatches, c.WrongAllows, c.Errors, hups, rewrites, mib(rssStart), mib(rssEnd))
}

// writeAtomically replaces name with data the way configuration tools do:
// a temporary file renamed over it.
func writeAtomically(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

// waitDevListening waits (at most 30 s) until `certgate dev` prints the
// address it listens on for what (a row of its "listening:" table), failing
// early if the process exits.
func waitDevListening(t *testing.T, help *testlog.Buffer, what string, exited chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, line := range strings.Split(help.String(), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), what); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					return f[0]
				}
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("certgate exited before listening for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("certgate dev printed no %s address after 30s:\n%s", what, help.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
