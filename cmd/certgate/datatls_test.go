package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// tlsServe is a `certgate serve` with listen.tls on both data listeners,
// running in-process, and the files a proxy asks it with.
type tlsServe struct {
	demo                          *pki.Demo
	grpc, http                    string
	proxyCert, proxyKey, serverCA string
	strangerCert, strangerKey     string
}

func startTLSServe(t *testing.T) *tlsServe {
	t.Helper()
	s := &tlsServe{demo: demo(t)}
	serverCA, proxyCA, otherCA := pkitest.New(t, "certgate server CA"), pkitest.New(t, "proxy CA"), pkitest.New(t, "other CA")
	server := serverCA.Leaf("certgate", pkitest.Usage(pki.ServerAuth),
		pkitest.With(func(o *pki.Options) { o.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)} }))
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	writeKey := func(name string, c *pki.Certificate) string {
		key, err := c.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		return write(name, key)
	}
	proxy, stranger := proxyCA.Leaf("envoy"), otherCA.Leaf("envoy")
	serverCert, serverKey := write("server.pem", server.CertPEM()), writeKey("server.key", server)
	proxyCAFile := write("proxy-ca.pem", proxyCA.CertPEM())
	s.serverCA = write("server-ca.pem", serverCA.CertPEM())
	s.proxyCert, s.proxyKey = write("proxy.pem", proxy.CertPEM()), writeKey("proxy.key", proxy)
	s.strangerCert, s.strangerKey = write("stranger.pem", stranger.CertPEM()), writeKey("stranger.key", stranger)

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testlog.Buffer
	done := make(chan int, 1)
	args := []string{"serve", "--ca", s.demo.Path("ca.pem"), "--crl", s.demo.Path("crl.pem"),
		"--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--metrics-listen", "off", "--admin-listen", "off",
		"--listen-tls-cert", serverCert, "--listen-tls-key", serverKey, "--listen-tls-client-ca", proxyCAFile}
	go func() { done <- run(ctx, args, &stdout, &stderr) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for s.grpc == "" {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve is not serving after 20s:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
		s.grpc, s.http = servingAddrs(stderr.String())
	}
	return s
}

// servingAddrs reads the data listeners' addresses from the JSON
// "serving" line, if it was logged.
func servingAddrs(log string) (grpcAddr, httpAddr string) {
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var line struct{ Msg, GRPC, HTTP string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
			return line.GRPC, line.HTTP
		}
	}
	return "", ""
}

// TestCheckAsksADataListenerWithTLS: check, given the proxy's client
// certificate and certgate's CA, gets the decisions of a certgate whose
// data listeners require listen.tls, over gRPC and HTTP; without them, or
// with another CA's certificate, it gets no answer (exit 1, never an
// allow).
func TestCheckAsksADataListenerWithTLS(t *testing.T) {
	s := startTLSServe(t)
	proxy := []string{"--tls-cert", s.proxyCert, "--tls-key", s.proxyKey, "--tls-ca", s.serverCA}
	noAdmin := []string{"--admin", "unix:" + filepath.Join(t.TempDir(), "none.sock")}
	allowed := []string{"--cert", s.demo.ClientCert("jenkins"), "--method", "POST", "--path", "/api/v1/vm"}
	denied := []string{"--cert", s.demo.ClientCert("viewer"), "--method", "POST", "--path", "/api/v1/vm"}
	tests := []struct {
		name       string
		args       [][]string
		code       int
		wantStdout string // the start of stdout
		wantStderr string // part of stderr
	}{
		{"gRPC with the proxy's certificate is allowed", [][]string{{"--grpc", s.grpc}, proxy, allowed}, exitOK, "ALLOW 200", ""},
		{"gRPC with the proxy's certificate is denied what the policy denies", [][]string{{"--grpc", s.grpc}, proxy, denied}, exitFail, "DENY 403 (gRPC code 7)", ""},
		{"HTTP with the proxy's certificate is allowed", [][]string{{"--http", s.http}, proxy, allowed}, exitOK, "ALLOW 200", ""},
		{"HTTP with the proxy's certificate is denied what the policy denies", [][]string{{"--http", s.http}, proxy, denied}, exitFail, "DENY 403", ""},
		{"gRPC in plaintext gets no answer", [][]string{{"--grpc", s.grpc}, allowed}, exitFail, "", "certgate check: "},
		{"HTTP in plaintext is Go's 400 for HTTPS", [][]string{{"--http", s.http}, allowed}, exitFail, "DENY 400", ""},
		{"gRPC without a client certificate gets no answer", [][]string{{"--grpc", s.grpc, "--tls-ca", s.serverCA}, allowed}, exitFail, "", "certgate check: "},
		{"HTTP with another CA's certificate gets no answer", [][]string{{"--http", s.http, "--tls-cert", s.strangerCert, "--tls-key", s.strangerKey, "--tls-ca", s.serverCA}, allowed}, exitFail, "", "certgate check: "},
		{"a certificate without its key is a usage error", [][]string{{"--grpc", s.grpc, "--tls-cert", s.proxyCert, "--tls-ca", s.serverCA}, allowed}, exitUsage, "", "--tls-cert and --tls-key go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"check", "--timeout", "10s"}
			for _, a := range tc.args {
				args = append(args, a...)
			}
			args = append(args, noAdmin...)
			code, stdout, stderr := runCLI(args...)
			if code != tc.code || !strings.HasPrefix(stdout, tc.wantStdout) || !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout starting %q, stderr containing %q", code, tc.code, stdout, stderr, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

// TestBenchLoadsADataListenerWithTLS: bench's external-target mode loads
// a certgate with listen.tls through the proxy's certificate, over gRPC
// and HTTP, and every answer is the one its class expects; in plaintext
// every request fails (exit 1).
func TestBenchLoadsADataListenerWithTLS(t *testing.T) {
	s := startTLSServe(t)
	proxy := []string{"--tls-cert", s.proxyCert, "--tls-key", s.proxyKey, "--tls-ca", s.serverCA}
	base := []string{"bench", "--timeout", "30s", "--pki", s.demo.Dir, "--requests", "100", "--warmup", "0", "--concurrency", "2", "--json"}
	for _, target := range [][]string{{"--grpc", s.grpc}, {"--http", s.http}} {
		t.Run(target[0]+" over TLS", func(t *testing.T) {
			code, stdout, stderr := runCLI(append(append(append([]string{}, base...), target...), proxy...)...)
			if code != exitOK {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			var report struct {
				Certgate struct {
					Target                       string
					Requests, Errors, Mismatches int
				}
			}
			if err := json.Unmarshal([]byte(stdout), &report); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			want := map[string]string{"--grpc": "grpc " + s.grpc, "--http": "https " + s.http}[target[0]]
			if r := report.Certgate; r.Target != want || r.Requests != 100 || r.Errors != 0 || r.Mismatches != 0 {
				t.Errorf("certgate side %+v, want target %q, 100 requests, no errors or mismatches\n%s", r, want, stdout)
			}
		})
		t.Run(target[0]+" in plaintext", func(t *testing.T) {
			code, stdout, stderr := runCLI(append(append(append([]string{}, base...), target...), "--requests", "5")...)
			if code != exitFail {
				t.Errorf("exit %d, want %d: a TLS listener answers no plaintext request\nstdout: %s\nstderr: %s", code, exitFail, stdout, stderr)
			}
		})
	}
	if code, _, stderr := runCLI(append(append([]string{}, base...), append([]string{"--serve"}, proxy...)...)...); code != exitUsage || !strings.Contains(stderr, "--serve serves without it") {
		t.Errorf("bench --serve with --tls-cert: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
}
