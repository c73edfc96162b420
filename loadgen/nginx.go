package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/certgate/certgate/nginx"
)

// NGINXConfig describes an NGINX that terminates mTLS and asks an
// auth_request endpoint (certgate's HTTP check, or the no-op's) through
// the shipped snippets before proxying to an app.
type NGINXConfig struct {
	// Bin is the nginx binary; "" looks it up in PATH and /usr/sbin.
	Bin string
	// PKIDir is the demo PKI: server.pem and server-key.pem are NGINX's
	// certificate, ca.pem the CA its clients' certificates chain to.
	PKIDir string
	// AuthAddr is the host:port of the check endpoint (upstream certgate).
	AuthAddr string
	// AppAddr is the host:port of the app behind NGINX.
	AppAddr string
}

// NGINX is a running NGINX (master and one worker) in a temporary prefix.
type NGINX struct {
	// Addr is the host:port NGINX serves HTTPS on.
	Addr   string
	prefix string
	cmd    *exec.Cmd
	exited chan struct{}
}

// ErrNoNGINX is returned by StartNGINX when no nginx binary is installed.
var ErrNoNGINX = errors.New("nginx is not installed (apt-get install -y nginx-light)")

// FindNGINX returns the path of the nginx binary, or ErrNoNGINX.
func FindNGINX() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNoNGINX
}

// StartNGINX writes a configuration around the shipped snippets
// (nginx.Snippets) into a temporary prefix, starts NGINX on a fresh port of
// 127.0.0.1 and returns once it completes a TLS handshake.
func StartNGINX(cfg NGINXConfig) (*NGINX, error) {
	bin := cfg.Bin
	if bin == "" {
		var err error
		if bin, err = FindNGINX(); err != nil {
			return nil, err
		}
	}
	prefix, err := os.MkdirTemp("", "certgate-bench-nginx-")
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	n := &NGINX{prefix: prefix, exited: make(chan struct{})}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(prefix)
		return nil, fmt.Errorf("nginx: %w", err)
	}
	n.Addr = lis.Addr().String()
	if err := n.start(bin, cfg, lis.(*net.TCPListener)); err != nil {
		_ = os.RemoveAll(prefix)
		return nil, err
	}
	return n, nil
}

func (n *NGINX) start(bin string, cfg NGINXConfig, lis *net.TCPListener) error {
	defer func() { _ = lis.Close() }() // NGINX holds its own copy of the socket
	conf, err := n.writeConfig(cfg)
	if err != nil {
		return err
	}
	if out, err := exec.Command(bin, "-t", "-p", n.prefix, "-c", conf).CombinedOutput(); err != nil {
		return fmt.Errorf("nginx -t: %w\n%s", err, out)
	}
	f, err := lis.File()
	if err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	defer func() { _ = f.Close() }()
	n.cmd = exec.Command(bin, "-p", n.prefix, "-c", conf)
	// NGINX inherits the socket as in a binary upgrade, so no other
	// process can take the port between choosing it and NGINX listening.
	n.cmd.ExtraFiles = []*os.File{f}
	n.cmd.Env = append(os.Environ(), "NGINX=3;")
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	if err := n.wait(10 * time.Second); err != nil {
		_ = n.Close()
		return err
	}
	return nil
}

// writeConfig writes nginx.conf and the snippets into the prefix.
func (n *NGINX) writeConfig(cfg NGINXConfig) (string, error) {
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(n.prefix, d), 0o700); err != nil {
			return "", fmt.Errorf("nginx: %w", err)
		}
	}
	for _, name := range []string{"certgate.conf", "certgate-location.conf"} {
		data, err := fs.ReadFile(nginx.Snippets, name)
		if err != nil {
			return "", fmt.Errorf("nginx: %w", err)
		}
		if err := os.WriteFile(filepath.Join(n.prefix, name), data, 0o600); err != nil {
			return "", fmt.Errorf("nginx: %w", err)
		}
	}
	upstream, err := fs.ReadFile(nginx.Snippets, "certgate-upstream.conf")
	if err != nil {
		return "", fmt.Errorf("nginx: %w", err)
	}
	const shippedAddr = "127.0.0.1:9192"
	if !strings.Contains(string(upstream), shippedAddr) {
		return "", fmt.Errorf("nginx: certgate-upstream.conf does not name %s", shippedAddr)
	}
	conf := nginx.Config(n.prefix, fmt.Sprintf(`    %[2]s
    upstream app { server %[3]s; keepalive 16; }
    server {
        listen %[4]s ssl;
        ssl_certificate %[5]s;
        ssl_certificate_key %[6]s;
        ssl_client_certificate %[7]s;
        ssl_verify_client optional_no_ca;
        ssl_verify_depth 3;
        include %[1]s/certgate.conf;
        location / {
            include %[1]s/certgate-location.conf;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }
    }`, n.prefix, strings.Replace(string(upstream), shippedAddr, cfg.AuthAddr, 1), cfg.AppAddr, n.Addr,
		filepath.Join(cfg.PKIDir, "server.pem"), filepath.Join(cfg.PKIDir, "server-key.pem"), filepath.Join(cfg.PKIDir, "ca.pem")))
	file := filepath.Join(n.prefix, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("nginx: %w", err)
	}
	return file, nil
}

// wait returns once NGINX completes a TLS handshake on its address.
func (n *NGINX) wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		d := &net.Dialer{Timeout: 500 * time.Millisecond}
		c, err := tls.DialWithDialer(d, "tcp", n.Addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only: does NGINX serve yet?
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("nginx exited before serving on %s\n%s", n.Addr, n.errorLog())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx did not serve on %s within %v: %w\n%s", n.Addr, limit, err, n.errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *NGINX) errorLog() string {
	data, _ := os.ReadFile(filepath.Join(n.prefix, "logs", "error.log"))
	return string(data)
}

// PIDs returns the process ids of NGINX's master and its workers, whose
// CPU time is NGINX's share of a run.
func (n *NGINX) PIDs() []int {
	master := n.cmd.Process.Pid
	return append([]int{master}, childrenOf(master)...)
}

// Close stops NGINX (SIGINT, its fast shutdown; SIGKILL after 5 s) and
// removes its prefix.
func (n *NGINX) Close() error {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(os.Interrupt)
		select {
		case <-n.exited:
		case <-time.After(5 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	}
	return os.RemoveAll(n.prefix)
}

// App is the app behind NGINX: it answers every request 200 "ok".
type App struct {
	Addr string
	srv  *http.Server
}

// StartApp serves the app on a fresh port of 127.0.0.1 until Close.
func StartApp() (*App, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a := &App{Addr: l.Addr().String(), srv: &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }),
		ReadHeaderTimeout: 5 * time.Second,
	}}
	go func() { _ = a.srv.Serve(l) }()
	return a, nil
}

// Close stops the app.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return a.srv.Shutdown(ctx)
}

// childrenOf returns the ids of pid's child processes, from /proc.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(child); err == nil && st.ppid == pid {
			out = append(out, child)
		}
	}
	return out
}
