package test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certgate/certgate/nginx"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/server"
)

// nginxBinary finds nginx. Locally a missing nginx skips loudly; in CI
// (CI=true) it fails, because .ci/run installs it.
func nginxBinary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("nginx")
	if err == nil {
		return path
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is not installed, and CI must run the NGINX end-to-end tests (apt-get install -y nginx-light)")
	}
	t.Skip("SKIPPING the NGINX end-to-end tests: nginx is not installed (apt-get install -y nginx-light)")
	return ""
}

// nginxFront is a real NGINX terminating mTLS in front of an echo upstream,
// asking certgate through the shipped snippets nginx/certgate.conf and
// nginx/certgate-location.conf.
type nginxFront struct {
	addr   string
	client func(name string) *http.Client // a TLS client presenting a world client's certificate
	// tlsConfig is that client's TLS configuration, for raw requests.
	tlsConfig func(t testing.TB, name string) *tls.Config
	// upstream is the app behind NGINX.
	upstream *echoUpstream
	// accessLog is NGINX's access log: "<request_uri> <status>
	// <$certgate_decision_id>" per request.
	accessLog string
}

// echoUpstream answers every request with the request headers as JSON, and
// counts what reached it: NGINX answers a client only after the upstream
// answered NGINX, so the count is current once the client has its response.
type echoUpstream struct {
	addr string
	mu   sync.Mutex
	n    int
	last string // method and request target of the latest request
}

func startEchoUpstream(t testing.TB) *echoUpstream {
	u := &echoUpstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.n++
		u.last = r.Method + " " + r.RequestURI
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(srv.Close)
	u.addr = srv.Listener.Addr().String()
	return u
}

// seen returns how many requests reached the upstream and the latest one.
func (u *echoUpstream) seen() (int, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n, u.last
}

// listenLocal listens on an ephemeral port of 127.0.0.1 for a server the
// test hands the socket to, so that no other process can take the port
// between choosing it and serving on it. The listener is closed when the
// test ends.
func listenLocal(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// refusedAddr is a 127.0.0.1 address that refuses connections until the
// test ends: a socket bound there and never listening holds the port, so
// no other process can start listening on it meanwhile.
func refusedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

func startNGINX(t testing.TB, w *world, certgateHTTP string, keys map[string]*pki.Certificate, root *x509.Certificate, clientCA []byte) *nginxFront {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return startNGINXWith(t, w, certgateHTTP, keys, root, clientCA, filepath.Join(repo, "nginx", "certgate.conf"))
}

// startNGINXWith is startNGINX with certgateConf in place of the shipped
// nginx/certgate.conf.
func startNGINXWith(t testing.TB, w *world, certgateHTTP string, keys map[string]*pki.Certificate, root *x509.Certificate, clientCA []byte, certgateConf string) *nginxFront {
	t.Helper()
	bin := nginxBinary(t)
	prefix := t.TempDir()
	server := keys["nginx-server"]
	serverKey, err := server.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(prefix, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	upstreamConf, err := os.ReadFile(filepath.Join(repo, "nginx", "certgate-upstream.conf"))
	if err != nil {
		t.Fatal(err)
	}
	lis := listenLocal(t)
	addr := lis.Addr().String()
	upstream := startEchoUpstream(t)
	accessLog := filepath.Join(prefix, "logs", "access.log")
	httpBlock := fmt.Sprintf(`
    %[1]s
    upstream app { server %[2]s; keepalive 8; }
    # The decision ID certgate-location.conf reads, as an operator logs it.
    log_format certgate_test '$request_uri $status $certgate_decision_id';
    server {
        listen %[3]s ssl;
        access_log %[9]s certgate_test;
        ssl_certificate %[4]s;
        ssl_certificate_key %[5]s;
        ssl_client_certificate %[6]s;
        ssl_verify_client optional_no_ca;
        ssl_verify_depth 3;
        include %[7]s;
        # The same upstream without asking certgate: the baseline of
        # BenchmarkThroughNGINX.
        location /open/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }
        location / {
            include %[8]s;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }
    }
`,
		strings.Replace(string(upstreamConf), "127.0.0.1:9192", certgateHTTP, 1),
		upstream.addr, addr,
		write("server.pem", append(server.CertPEM(), w.issuing.CertPEM()...)), write("server-key.pem", serverKey),
		write("client-ca.pem", clientCA),
		certgateConf, filepath.Join(repo, "nginx", "certgate-location.conf"), accessLog)
	runNGINX(t, bin, prefix, httpBlock, lis)
	n := newNGINXFront(t, addr, keys, root, upstream)
	n.accessLog = accessLog
	return n
}

// newNGINXFront is the client side of an NGINX serving on addr, in front
// of upstream, whose server certificate chains to root.
func newNGINXFront(t testing.TB, addr string, keys map[string]*pki.Certificate, root *x509.Certificate, upstream *echoUpstream) *nginxFront {
	roots := x509.NewCertPool()
	roots.AddCert(root)
	tlsConfig := func(t testing.TB, name string) *tls.Config {
		cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if name != "" {
			c, ok := keys[name]
			if !ok {
				t.Fatalf("no key for client %q", name)
			}
			// Present the certificate whatever the server's CA list says,
			// the way a hostile client would.
			cert := &tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key}
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		return cfg
	}
	return &nginxFront{addr: addr, tlsConfig: tlsConfig, upstream: upstream, client: func(name string) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig(t, name)}}
	}}
}

// loggedDecisionID waits for NGINX's access log line of target and returns
// the $certgate_decision_id it logged: NGINX logs a request after answering.
func (n *nginxFront) loggedDecisionID(t testing.TB, target string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(n.accessLog)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == target {
				return f[2]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access log line for %s in:\n%s", target, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upstreamSaw is what the echo upstream received.
type upstreamSaw map[string][]string

func (n *nginxFront) do(t testing.TB, client, method, target string, headers map[string]string) (int, upstreamSaw) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, "https://"+n.addr+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := n.client(client).Do(req)
	if err != nil {
		t.Fatalf("%s %s via NGINX: %v", method, target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var saw upstreamSaw
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&saw); err != nil {
			t.Fatalf("upstream body: %v", err)
		}
	}
	return resp.StatusCode, saw
}

func TestThroughRealNGINX(t *testing.T) {
	w, keys, root, clientCA := newWorldWithKeys(t)
	r := startCertgate(t, w, trustDev)
	n := startNGINX(t, w, r.httpAddr, keys, root, clientCA)

	t.Run("the decision table holds through NGINX", func(t *testing.T) {
		for _, tc := range decisionCases {
			if strings.ContainsAny(tc.method, "abcdefghijklmnopqrstuvwxyz") {
				continue // NGINX itself refuses lower-case methods with 400
			}
			t.Run(tc.name, func(t *testing.T) {
				status, saw := n.do(t, tc.client, tc.method, tc.target, nil)
				// A path certgate refuses with 400 is either refused by NGINX
				// itself (400) or, since auth_request passes only 2xx, 401 and
				// 403 through, turned into 500: a deny either way.
				if tc.status == http.StatusBadRequest && (status == http.StatusBadRequest || status == http.StatusInternalServerError) {
					return
				}
				if status != tc.status {
					t.Fatalf("%s %s as %s: status %d, want %d", tc.method, tc.target, tc.client, status, tc.status)
				}
				if status == http.StatusOK {
					if got := strings.Join(saw["X-Certgate-User"], "|"); got != tc.client {
						t.Errorf("upstream saw X-Certgate-User %q, want %q", got, tc.client)
					}
					if got := strings.Join(saw["X-Certgate-Permission"], "|"); got != tc.permission {
						t.Errorf("upstream saw X-Certgate-Permission %q, want %q", got, tc.permission)
					}
				}
			})
		}
	})
	t.Run("NGINX's log names the decision log line of allows and denies", func(t *testing.T) {
		for i, tc := range []struct {
			client, method, path string
			status               int
		}{
			{"viewer", "GET", "/api/v1/vm", http.StatusOK},
			{"viewer", "DELETE", "/api/v1/node", http.StatusForbidden},
			{"", "GET", "/api/v1/vm", http.StatusUnauthorized},
		} {
			target := fmt.Sprintf("%s?decision_probe=%d", tc.path, i)
			status, saw := n.do(t, tc.client, tc.method, target, nil)
			if status != tc.status {
				t.Fatalf("%s %s as %q: status %d, want %d", tc.method, target, tc.client, status, tc.status)
			}
			if got := saw["X-Certgate-Decision-Id"]; got != nil {
				t.Errorf("upstream saw X-Certgate-Decision-Id %q: it is for NGINX's log only", got)
			}
			id := n.loggedDecisionID(t, target)
			var line map[string]any
			for _, d := range r.logs.Records(t, "decision") {
				if d["decision_id"] == id {
					line = d
				}
			}
			if line == nil || line["status"] != float64(tc.status) || line["method"] != tc.method {
				t.Errorf("%s %s as %q: NGINX logged decision %q, decision log line %v, want the line of this %d", tc.method, target, tc.client, id, line, tc.status)
			}
		}
	})
	t.Run("a client without a certificate forging the headers gains nothing", func(t *testing.T) {
		status, _ := n.do(t, "", "GET", "/api/v1/vm", map[string]string{
			"Ssl-Client-Cert":   "forged",
			"Ssl-Client-Verify": "SUCCESS",
			"X-Certgate-User":   "admin",
		})
		if status != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", status)
		}
	})
	t.Run("the viewer forging admin's headers is still the viewer", func(t *testing.T) {
		forged := map[string]string{"X-Certgate-User": "admin", "X-Certgate-Groups": "admins", "Ssl-Client-Verify": "SUCCESS"}
		if status, _ := n.do(t, "viewer", "DELETE", "/api/v1/node", forged); status != http.StatusForbidden {
			t.Errorf("DELETE as viewer with forged headers: status %d, want 403", status)
		}
		status, saw := n.do(t, "viewer", "GET", "/api/v1/vm", forged)
		if status != http.StatusOK {
			t.Fatalf("GET as viewer: status %d, want 200", status)
		}
		if got := saw["X-Certgate-User"]; len(got) != 1 || got[0] != "viewer" {
			t.Errorf("upstream saw X-Certgate-User %q, want exactly [viewer]", got)
		}
		if got := saw["X-Certgate-Groups"]; len(got) != 1 || got[0] != "viewers" {
			t.Errorf("upstream saw X-Certgate-Groups %q, want exactly [viewers]", got)
		}
	})
}

// newWorldWithKeys is newWorld plus the private keys TLS clients need, a
// server certificate for NGINX, and the CA bundle NGINX verifies clients
// with (root and intermediates, so it can build the chain itself).
func newWorldWithKeys(t testing.TB) (*world, map[string]*pki.Certificate, *x509.Certificate, []byte) {
	t.Helper()
	w := newWorld(t)
	keys := w.keys
	root := w.root
	server := w.issuing.Leaf("localhost", pkitest.Usage(pki.ServerAuth), pkitest.With(func(o *pki.Options) {
		o.DNSNames = []string{"localhost"}
		o.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}))
	keys["nginx-server"] = server
	bundle := append(pki.EncodeCertsPEM(root.Cert), pki.EncodeCertsPEM(w.issuing.Cert, w.revokedCA.Cert)...)
	return w, keys, root.Cert, bundle
}

func TestNGINXWithCertgateDownDenies(t *testing.T) {
	w, keys, root, clientCA := newWorldWithKeys(t)
	n := startNGINX(t, w, refusedAddr(t), keys, root, clientCA)
	if status, _ := n.do(t, "admin", "GET", "/api/v1/vm", nil); status != http.StatusInternalServerError {
		t.Errorf("status %d with certgate down, want 500 (never the upstream)", status)
	}
}

func TestACRLUpdateTakesEffectWithoutRestartingNGINX(t *testing.T) {
	w, keys, root, clientCA := newWorldWithKeys(t)
	r := startCertgate(t, w, trustDev)
	n := startNGINX(t, w, r.httpAddr, keys, root, clientCA)
	if status, _ := n.do(t, "viewer", "GET", "/api/v1/vm", nil); status != http.StatusOK {
		t.Fatalf("before the CRL update: status %d, want 200", status)
	}
	crl := w.issuing.CRLWith(pki.CRLOptions{Number: big.NewInt(2)}, keys["revoked"].Cert, keys["viewer"].Cert)
	w.writeCRL(t, "issuing.crl", crl)
	if a := r.svc.Reload(context.Background(), "test"); a.Result != server.ReloadSuccess {
		t.Fatalf("reload: %s %v", a.Result, a.Err)
	}
	if status, _ := n.do(t, "viewer", "GET", "/api/v1/vm", nil); status != http.StatusUnauthorized {
		t.Errorf("after revoking viewer: status %d, want 401", status)
	}
}

// BenchmarkThroughNGINX compares a request through NGINX with auth_request
// to certgate against the same request to the same upstream without it,
// keep-alive on both legs. Quote the ratio of the two ns/op of one run.
func BenchmarkThroughNGINX(b *testing.B) {
	w, keys, root, clientCA := newWorldWithKeys(b)
	r := startCertgate(b, w, trustDev)
	n := startNGINX(b, w, r.httpAddr, keys, root, clientCA)
	client := n.client("viewer")
	for _, bc := range []struct{ name, target string }{{"no-auth_request", "/open/x"}, {"auth_request-certgate", "/api/v1/vm"}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				resp, err := client.Get("https://" + n.addr + bc.target)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// runNGINX writes prefix/nginx.conf around httpBlock (the inside of
// http {}; logs, pid and temporary files stay below prefix), checks it
// with nginx -t, starts NGINX, stops it when the test ends, and returns
// once it serves. NGINX serves on the listeners the test opened (each one
// a "listen ADDR" of httpBlock): it inherits their sockets as in a binary
// upgrade (the NGINX environment variable names the descriptors), so no
// other process can take a port between the test choosing it and NGINX
// listening there.
func runNGINX(t testing.TB, bin, prefix, httpBlock string, listeners ...net.Listener) {
	t.Helper()
	exited := launchNGINX(t, bin, prefix, httpBlock, listeners...)
	waitNGINX(t, prefix, listeners[0].Addr().String(), exited)
}

// launchNGINX is runNGINX without the wait: it returns once NGINX has
// started, with a channel closed when NGINX exits, for callers that wait
// for something else than a TLS handshake (a plain HTTP file server).
func launchNGINX(t testing.TB, bin, prefix, httpBlock string, listeners ...net.Listener) <-chan struct{} {
	t.Helper()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := nginx.Config(prefix, httpBlock)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", prefix, "-c", confPath).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-p", prefix, "-c", confPath)
	cmd.Stderr = os.Stderr
	var fds strings.Builder
	for i, l := range listeners {
		f, err := l.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		fmt.Fprintf(&fds, "%d;", 3+i)
	}
	cmd.Env = append(os.Environ(), "NGINX="+fds.String())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	// NGINX holds the sockets now; the test's copies would only keep the
	// ports open once NGINX is gone.
	for _, l := range listeners {
		_ = l.Close()
	}
	return exited
}

// waitNGINX waits until NGINX completes a TLS handshake on addr: the
// socket accepts connections from the start, NGINX serves them only once
// it runs.
func waitNGINX(t testing.TB, prefix, addr string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := &net.Dialer{Timeout: 500 * time.Millisecond}
		c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) // only: is NGINX there?
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
			t.Fatalf("nginx exited before serving on %s\n%s", addr, log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
			t.Fatalf("nginx did not serve on %s within 10s: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
