package test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/rego"
)

// The certgate binary the fault tests run, built once per test binary run
// (without -race: the race detector would slow certgate, not the tests).
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// certgateBinary builds cmd/certgate into a temporary directory that
// TestMain removes, static and -trimpath as it ships (goCommand), so that
// `make test` reuses the packages vet compiled.
func certgateBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "certgate-fault-bin")
		if buildErr != nil {
			return
		}
		bin := filepath.Join(buildDir, "certgate")
		cmd := goCommand("build", "-o", bin, "github.com/certgate/certgate/cmd/certgate")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/certgate: %w\n%s", err, out)
			return
		}
		buildBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// TestMain removes the certgate binary the fault tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// faultConfig is what a fault test varies in certgate's configuration.
type faultConfig struct {
	onStaleCRL string // deny (default) or warn
	// grpcAddr and httpAddr are where certgate listens; empty is an
	// ephemeral port, which a restarted certgate keeps (see launch).
	grpcAddr, httpAddr string
	// adminListen replaces the admin Unix socket (a TCP host:port, say);
	// adminCert and adminKey are admin.cert_file and key_file.
	adminListen, adminCert, adminKey string
	// headers replaces the headers: section (the default believes
	// Ssl-Client-Cert on HTTP from loopback, nothing on gRPC).
	headers string
	// noAdmin turns the admin API off; noWatch turns file watching off
	// (a reload empties the verdict cache).
	noAdmin, noWatch bool
	// cache is a cache: section, empty for the defaults.
	cache string
	// policy replaces the policy: section (the shipped policy in a
	// directory), to serve a bundle, say.
	policy string
}

// defaultFaultHeaders is the headers: section of a fault test's certgate:
// what certgate serve believes by default.
const defaultFaultHeaders = `headers:
  http:
    trust: [ssl_client_cert]
    trusted_proxies: [127.0.0.1/32, "::1/128"]
  grpc:
    trust: []
`

// certgateProc is one `certgate serve` process and the files around it.
type certgateProc struct {
	t          testing.TB
	bin        string
	configPath string
	// grpcAddr, httpAddr, metricsAddr (/metrics) and adminAddr are where
	// certgate listens: as configured, or once it serves, the addresses it
	// logs having bound.
	grpcAddr, httpAddr, metricsAddr, adminAddr string
	adminSock                                  string
	// writeConfig writes the config file for the addresses above.
	writeConfig func()
	// logStart is the size of the log when the process was launched: its
	// own lines follow.
	logStart int64
	// decisionLog is the decision log file; logPath the service log.
	decisionLog, logPath string
	policyDir            string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // the exit status, once done is closed
}

// writeFaultConfig lays out a policy directory (the shipped policy) and a
// config file for w, and returns a process ready to start.
func writeFaultConfig(t testing.TB, w *world, fc faultConfig) *certgateProc {
	t.Helper()
	policyDir := filepath.Join(w.dir, "policy")
	if err := os.MkdirAll(policyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"authz.rego", "admin.rego", "data.json"} {
		data, err := fs.ReadFile(rego.Default, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(policyDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sockDir, err := os.MkdirTemp("", "cg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	if fc.grpcAddr == "" {
		fc.grpcAddr = anyPort
	}
	if fc.httpAddr == "" {
		fc.httpAddr = anyPort
	}
	if fc.onStaleCRL == "" {
		fc.onStaleCRL = "deny"
	}
	if fc.headers == "" {
		fc.headers = defaultFaultHeaders
	}
	if fc.policy == "" {
		fc.policy = fmt.Sprintf("policy:\n  dir: %q\n", policyDir)
	}
	logDir := t.TempDir()
	p := &certgateProc{
		t: t, bin: certgateBinary(t),
		configPath:  filepath.Join(logDir, "certgate.yaml"),
		grpcAddr:    fc.grpcAddr,
		httpAddr:    fc.httpAddr,
		metricsAddr: anyPort,
		adminSock:   filepath.Join(sockDir, "a.sock"),
		decisionLog: filepath.Join(logDir, "decisions.jsonl"),
		logPath:     filepath.Join(logDir, "certgate.log"),
		policyDir:   policyDir,
	}
	p.adminAddr = "unix:" + p.adminSock
	switch {
	case fc.noAdmin:
		p.adminAddr = ""
	case fc.adminListen != "":
		p.adminAddr = fc.adminListen
	}
	quoted := func(paths ...string) string {
		q := make([]string, len(paths))
		for i, p := range paths {
			q[i] = strconv.Quote(p)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	p.writeConfig = func() {
		conf := fmt.Sprintf(`listen:
  grpc: %q
  http: %q
  metrics: %q
  shutdown_grace: 5s
trust:
  ca_files: %s
  intermediate_files: %s
  crl_files: %s
  crl_mode: full_chain
  on_stale_crl: %s
%s%slog:
  level: info
  format: json
decision_log:
  output: %q
  sample_allowed: 1
reload:
  watch: %t
  debounce: 100ms
admin:
  listen: %q
  cert_file: %q
  key_file: %q
%s`, p.grpcAddr, p.httpAddr, p.metricsAddr, quoted(w.caFile), quoted(w.inters), quoted(w.crls...), fc.onStaleCRL,
			fc.headers, fc.policy, p.decisionLog, !fc.noWatch, p.adminAddr, fc.adminCert, fc.adminKey, fc.cache)
		if err := os.WriteFile(p.configPath, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.writeConfig()
	return p
}

// startFaultCertgate writes the config for w and starts certgate on it.
func startFaultCertgate(t testing.TB, w *world, fc faultConfig) *certgateProc {
	t.Helper()
	p := writeFaultConfig(t, w, fc)
	p.start()
	return p
}

// start runs `certgate serve` and waits until /readyz answers 200. The
// process is killed when the test ends, whatever happened.
func (p *certgateProc) start() {
	p.t.Helper()
	p.launch()
	if err := p.waitReady(15 * time.Second); err != nil {
		p.t.Fatalf("certgate did not become ready: %v\n%s", err, p.logTail())
	}
}

// anyPort is the listen address of an ephemeral port: certgate binds it
// and logs the port, so no other process can take it meanwhile.
const anyPort = "127.0.0.1:0"

// launch runs `certgate serve` without waiting for it to be ready. A
// relaunch listens where the last run did, since NGINX or a client may
// point there.
func (p *certgateProc) launch() {
	p.t.Helper()
	p.writeConfig()
	logFile, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	if fi, err := logFile.Stat(); err == nil {
		p.logStart = fi.Size()
	}
	cmd := exec.Command(p.bin, "serve", "--config", p.configPath)
	cmd.Env = withoutCertgateEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		p.err = err
		close(done)
	}()
	p.t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
}

// waitReady polls /readyz until it answers 200, the process exits, or
// limit passes.
func (p *certgateProc) waitReady(limit time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("certgate exited: %w", p.err)
		default:
		}
		if !p.bound() {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		resp, err := c.Get("http://" + p.httpAddr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not ready within %v", limit)
}

// bound reports whether this run has logged the addresses it serves on
// ("serving"), and takes them.
func (p *certgateProc) bound() bool {
	f, err := os.Open(p.logPath)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(p.logStart, io.SeekStart); err != nil {
		return false
	}
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		var rec struct{ Msg, GRPC, HTTP, Metrics, Admin string }
		if json.Unmarshal(s.Bytes(), &rec) != nil || rec.Msg != "serving" {
			continue
		}
		p.grpcAddr, p.httpAddr, p.metricsAddr, p.adminAddr = rec.GRPC, rec.HTTP, rec.Metrics, rec.Admin
		return true
	}
	return false
}

// alive reports whether the process is still running.
func (p *certgateProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and returns the exit status (nil for exit 0).
func (p *certgateProc) stop() error {
	p.t.Helper()
	if !p.alive() {
		return fmt.Errorf("certgate had already exited: %w", p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("certgate did not exit within 15s of SIGTERM")
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *certgateProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// signal sends sig to the process.
func (p *certgateProc) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// rssBytes reads VmRSS from /proc/<pid>/status.
func (p *certgateProc) rssBytes() int64 {
	p.t.Helper()
	return rssOf(p.t, p.cmd.Process.Pid)
}

// rssOf reads the VmRSS of process pid.
func rssOf(t testing.TB, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read RSS: %v", err)
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/<pid>/status")
	return 0
}

// logTail returns the end of the service log, for failure messages.
func (p *certgateProc) logTail() string {
	data, _ := os.ReadFile(p.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// admin dials the admin API on its Unix socket.
func (p *certgateProc) admin() adminv1.AdminServiceClient {
	p.t.Helper()
	sock := p.adminSock
	conn, err := grpc.NewClient("passthrough:///certgate-admin",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = conn.Close() })
	return adminv1.NewAdminServiceClient(conn)
}

// withoutCertgateEnv drops CERTGATE_* variables, which would override the
// test's config file.
func withoutCertgateEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CERTGATE_") {
			out = append(out, kv)
		}
	}
	return out
}
