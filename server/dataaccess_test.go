package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/internal/testlog"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// proxyPKI is the TLS of the data listeners: certgate's server certificate
// (for 127.0.0.1) and the CA of the proxies' client certificates, in files.
type proxyPKI struct {
	serverCA, proxyCA               *pkitest.CA
	certFile, keyFile, clientCAFile string
}

func newProxyPKI(t *testing.T) *proxyPKI {
	t.Helper()
	p := &proxyPKI{serverCA: pkitest.New(t, "certgate server CA"), proxyCA: pkitest.New(t, "proxy CA")}
	server := p.serverCA.Leaf("certgate", pkitest.Usage(pki.ServerAuth),
		pkitest.With(func(o *pki.Options) { o.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)} }))
	key, err := server.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p.certFile, p.keyFile, p.clientCAFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"), filepath.Join(dir, "proxy-ca.pem")
	mustWrite(t, p.certFile, server.CertPEM())
	mustWrite(t, p.keyFile, key)
	mustWrite(t, p.clientCAFile, p.proxyCA.CertPEM())
	return p
}

// clientTLS is a proxy's TLS client configuration: certgate's server CA
// and, unless nil, the client certificate cert.
func (p *proxyPKI) clientTLS(t *testing.T, cert *pki.Certificate) *tls.Config {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(p.serverCA.Cert)
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{tlsPair(t, cert)}
	}
	return cfg
}

// checkGRPCWith sends one Check over conn: its response, or the call's error.
func checkGRPCWith(conn *grpc.ClientConn, c client.Check) (*authv3.CheckResponse, error) {
	return authv3.NewAuthorizationClient(conn).Check(context.Background(), client.EnvoyRequest(c))
}

func dialGRPC(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestDataListenersOverTLSAnswerOnlyTheProxysCertificate serves both data
// listeners with listen.tls: a peer without a client certificate, or with
// one of another CA, gets no answer at all; the proxy's certificate gets
// the decisions it got over plain TCP. The proxy's certificate is never
// the identity decided about.
func TestDataListenersOverTLSAnswerOnlyTheProxysCertificate(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	p := newProxyPKI(t)
	cfg := serviceConfig(t, w, dir, dir)
	cfg.Listen.TLS.CertFile, cfg.Listen.TLS.KeyFile, cfg.Listen.TLS.ClientCAFiles = p.certFile, p.keyFile, []string{p.clientCAFile}
	svc, ready := newTestService(t, cfg, &testlog.Buffer{})
	addrs, _, _ := runService(t, svc, ready)

	viewer := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	get := client.Check{CertPEM: viewer.CertPEM(), Method: "GET", Target: "/api/v1/vm"}
	del := client.Check{CertPEM: viewer.CertPEM(), Method: "DELETE", Target: "/api/v1/vm"}
	proxy := p.proxyCA.Leaf("envoy")
	// A certificate the clients' CA issued: trusted for users, not as a proxy.
	user := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	impostor := pkitest.New(t, "proxy CA").Leaf("envoy")

	for _, tt := range []struct {
		name string
		cert *pki.Certificate
	}{
		{"without a client certificate", nil},
		{"with a certificate of another CA of the same name", impostor},
		{"with a user's certificate", user},
	} {
		t.Run("gRPC "+tt.name+" is refused", func(t *testing.T) {
			conn := dialGRPC(t, addrs.GRPC, credentials.NewTLS(p.clientTLS(t, tt.cert)))
			if resp, err := checkGRPCWith(conn, get); err == nil {
				t.Fatalf("Check answered %v, want the handshake refused", resp.GetStatus())
			}
		})
		t.Run("HTTP "+tt.name+" is refused", func(t *testing.T) {
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: p.clientTLS(t, tt.cert)}}
			req, err := client.NGINXRequest("https://"+addrs.HTTP, get)
			if err != nil {
				t.Fatal(err)
			}
			if resp, err := hc.Do(req); err == nil {
				_ = resp.Body.Close()
				t.Fatalf("check answered %d, want the handshake refused", resp.StatusCode)
			}
		})
	}
	t.Run("plain TCP is refused", func(t *testing.T) {
		conn := dialGRPC(t, addrs.GRPC, insecure.NewCredentials())
		if _, err := checkGRPCWith(conn, get); err == nil {
			t.Fatal("a plaintext Check was answered")
		}
	})

	t.Run("the proxy's certificate gets the decisions", func(t *testing.T) {
		conn := dialGRPC(t, addrs.GRPC, credentials.NewTLS(p.clientTLS(t, proxy)))
		for _, c := range []struct {
			check client.Check
			allow bool
		}{{get, true}, {del, false}, {client.Check{Method: "GET", Target: "/api/v1/vm"}, false}} {
			resp, err := checkGRPCWith(conn, c.check)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetOkResponse() != nil; got != c.allow {
				t.Errorf("gRPC %s %s with certificate %v: allowed %v, want %v", c.check.Method, c.check.Target, c.check.CertPEM != nil, got, c.allow)
			}
		}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: p.clientTLS(t, proxy)}}
		for _, c := range []struct {
			check client.Check
			want  int
		}{{get, http.StatusOK}, {del, http.StatusForbidden}, {client.Check{Method: "GET", Target: "/api/v1/vm"}, http.StatusUnauthorized}} {
			req, err := client.NGINXRequest("https://"+addrs.HTTP, c.check)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("HTTP %s %s: %d, want %d", c.check.Method, c.check.Target, resp.StatusCode, c.want)
			}
		}
	})
}

// TestAPeerNotAllowedIsNeverAnswered: with listen.allowed_peers excluding
// 127.0.0.1, a check the certificate and policy would allow is denied
// with 403 peer_not_allowed over gRPC (a denied CheckResponse, never a
// gRPC error Envoy's failure_mode_allow could turn into an allow) and over
// HTTP, logged and counted; the probes still answer.
func TestAPeerNotAllowedIsNeverAnswered(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	cfg := serviceConfig(t, w, dir, dir)
	cfg.Listen.AllowedPeers = []string{"10.0.0.0/8", "::1"}
	logs := &testlog.Buffer{}
	svc, ready := newTestService(t, cfg, logs)
	addrs, _, _ := runService(t, svc, ready)
	viewer := w.ca.Leaf("viewer", pkitest.Orgs("viewers"))
	get := client.Check{CertPEM: viewer.CertPEM(), Method: "GET", Target: "/api/v1/vm"}

	resp, err := checkGRPCWith(dialGRPC(t, addrs.GRPC, insecure.NewCredentials()), get)
	if err != nil {
		t.Fatalf("Check: %v, want a denied CheckResponse", err)
	}
	denied := resp.GetDeniedResponse()
	if resp.GetOkResponse() != nil || denied == nil || denied.GetStatus().GetCode() != http.StatusForbidden ||
		codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied {
		t.Fatalf("gRPC Check from a peer not allowed: %v, want denied 403 PERMISSION_DENIED", resp)
	}
	if got := resp.GetDynamicMetadata().GetFields()[MetadataCause].GetStringValue(); got != string(CausePeerNotAllowed) {
		t.Errorf("metadata cause %q, want %q", got, CausePeerNotAllowed)
	}
	if denied.GetBody() != body403 {
		t.Errorf("body %q, want the fixed 403 body", denied.GetBody())
	}

	req, err := client.NGINXRequest("http://"+addrs.HTTP, get)
	if err != nil {
		t.Fatal(err)
	}
	hresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hresp.Body)
	_ = hresp.Body.Close()
	if hresp.StatusCode != http.StatusForbidden || string(body) != body403 {
		t.Errorf("HTTP check from a peer not allowed: %d %s, want 403 %s", hresp.StatusCode, body, body403)
	}
	if probe, err := http.Get("http://" + addrs.HTTP + "/healthz"); err != nil || probe.StatusCode != http.StatusOK {
		t.Errorf("/healthz from a peer not allowed: %v %v, want 200", probe, err)
	} else {
		_ = probe.Body.Close()
	}

	lines := logs.Records(t, "decision")
	if len(lines) != 2 {
		t.Fatalf("%d decision lines, want 2", len(lines))
	}
	for _, l := range lines {
		if l["cause"] != string(CausePeerNotAllowed) || l["allow"] != false {
			t.Errorf("decision line %v, want a deny with cause peer_not_allowed", l)
		}
	}
	want := `certgate_decisions_total{reason="peer_not_allowed",result="deny",source="envoy",status="403"} 1`
	if m := scrape(t, addrs.Metrics); !strings.Contains(m, want) {
		t.Errorf("metrics lack %s", want)
	}
}

// TestServiceWarnsOfDataListenersAnyHostCanAsk: a data listener bound
// beyond loopback with neither listen.tls nor listen.allowed_peers starts
// (an existing deployment keeps working) but is warned about; loopback,
// TLS or allowed peers are not.
func TestServiceWarnsOfDataListenersAnyHostCanAsk(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	p := newProxyPKI(t)
	for _, tt := range []struct {
		name string
		set  func(*config.Config)
		want []string
	}{
		{"loopback is not warned about", func(*config.Config) {}, nil},
		{"every address is warned about", func(c *config.Config) { c.Listen.GRPC, c.Listen.HTTP = ":9191", "0.0.0.0:9192" },
			[]string{"listen.grpc", "listen.http"}},
		{"a public address is warned about", func(c *config.Config) { c.Listen.GRPC = "192.0.2.1:9191" }, []string{"listen.grpc"}},
		{"allowed_peers is not warned about", func(c *config.Config) {
			c.Listen.GRPC, c.Listen.AllowedPeers = ":9191", []string{"10.0.0.0/8"}
		}, nil},
		{"TLS is not warned about", func(c *config.Config) {
			c.Listen.GRPC = ":9191"
			c.Listen.TLS = config.ListenTLS{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFiles: []string{p.clientCAFile}}
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serviceConfig(t, w, dir, dir)
			tt.set(&cfg)
			logs := &testlog.Buffer{}
			if _, err := NewService(context.Background(), cfg, ServiceOptions{Logger: slog.New(slog.NewJSONHandler(logs, nil)),
				DecisionLog: NewDecisionLog(io.Discard, 1)}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range logs.Records(t, "") {
				if msg, _ := r["msg"].(string); strings.HasPrefix(msg, "a data listener binds beyond loopback") {
					got = append(got, r["listener"].(string))
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warned listeners (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServiceRefusesDataTLSItCannotUse: a listen.tls whose files cannot
// be read, or whose client CA file or certificate chain is cut short,
// stops the start; so does an admin certificate chain cut short.
func TestServiceRefusesDataTLSItCannotUse(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	p := newProxyPKI(t)
	cut := filepath.Join(t.TempDir(), "cut.pem")
	ca := p.proxyCA.CertPEM()
	mustWrite(t, cut, append(pki.EncodeCertsPEM(p.serverCA.Cert), ca[:len(ca)/2]...))
	// certgate's certificate with its chain, the chain cut short: crypto/tls
	// alone would serve the leaf and drop the rest.
	cutChain := filepath.Join(t.TempDir(), "cut-chain.pem")
	server, err := os.ReadFile(p.certFile)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, cutChain, append(server, ca[:len(ca)-10]...))
	for _, tt := range []struct {
		name string
		tls  config.ListenTLS
		want string
	}{
		{"a missing key", config.ListenTLS{CertFile: p.certFile, KeyFile: filepath.Join(dir, "none"), ClientCAFiles: []string{p.clientCAFile}}, "listen.tls certificate"},
		{"a client CA file cut short", config.ListenTLS{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFiles: []string{cut}}, "cut.pem"},
		{"no client CA", config.ListenTLS{CertFile: p.certFile, KeyFile: p.keyFile}, "listen.tls.client_ca_files"},
		{"a certificate chain cut short", config.ListenTLS{CertFile: cutChain, KeyFile: p.keyFile, ClientCAFiles: []string{p.clientCAFile}}, "cut-chain.pem"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serviceConfig(t, w, dir, dir)
			cfg.Listen.TLS = tt.tls
			_, err := NewService(context.Background(), cfg, ServiceOptions{Logger: slog.New(slog.DiscardHandler), DecisionLog: NewDecisionLog(io.Discard, 1)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewService = %v, want an error naming %q", err, tt.want)
			}
		})
	}
	t.Run("an admin certificate chain cut short", func(t *testing.T) {
		cfg := serviceConfig(t, w, dir, dir)
		cfg.Admin.Listen, cfg.Admin.CertFile, cfg.Admin.KeyFile = "127.0.0.1:0", cutChain, p.keyFile
		_, err := NewService(context.Background(), cfg, ServiceOptions{Logger: slog.New(slog.DiscardHandler), DecisionLog: NewDecisionLog(io.Discard, 1)})
		if err == nil || !strings.Contains(err.Error(), "cut-chain.pem") {
			t.Errorf("NewService = %v, want an error naming cut-chain.pem", err)
		}
	})
}

// TestDataTLSFollowsItsFiles: a rotated server certificate and a new
// proxy CA written over the listen.tls files take effect on the next
// connection without a restart; files that cannot be loaded keep the last
// good configuration, with a warning.
func TestDataTLSFollowsItsFiles(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	p := newProxyPKI(t)
	cfg := serviceConfig(t, w, dir, dir)
	cfg.Listen.TLS.CertFile, cfg.Listen.TLS.KeyFile, cfg.Listen.TLS.ClientCAFiles = p.certFile, p.keyFile, []string{p.clientCAFile}
	logs := &testlog.Buffer{}
	svc, ready := newTestService(t, cfg, logs)
	addrs, _, _ := runService(t, svc, ready)
	get := client.Check{CertPEM: w.ca.Leaf("viewer", pkitest.Orgs("viewers")).CertPEM(), Method: "GET", Target: "/api/v1/vm"}
	// answered says whether a new connection trusting serverCA and
	// presenting cert gets an allow.
	answered := func(serverCA *pkitest.CA, cert *pki.Certificate) bool {
		t.Helper()
		roots := x509.NewCertPool()
		roots.AddCert(serverCA.Cert)
		tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{tlsPair(t, cert)}}
		resp, err := checkGRPCWith(dialGRPC(t, addrs.GRPC, credentials.NewTLS(tc)), get)
		return err == nil && resp.GetOkResponse() != nil
	}
	proxy := p.proxyCA.Leaf("envoy")
	if !answered(p.serverCA, proxy) {
		t.Fatal("the first files: not answered")
	}

	newServerCA := pkitest.New(t, "certgate server CA 2")
	server := newServerCA.Leaf("certgate", pkitest.Usage(pki.ServerAuth),
		pkitest.With(func(o *pki.Options) { o.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)} }))
	key, err := server.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p.keyFile, key)
	mustWrite(t, p.certFile, server.CertPEM())
	if !answered(newServerCA, proxy) || answered(p.serverCA, proxy) {
		t.Error("after the server certificate was rotated, new connections do not get it")
	}

	newProxyCA := pkitest.New(t, "proxy CA 2")
	mustWrite(t, p.clientCAFile, newProxyCA.CertPEM())
	if answered(newServerCA, proxy) {
		t.Error("a proxy certificate of the replaced proxy CA is still answered")
	}
	newProxy := newProxyCA.Leaf("envoy")
	if !answered(newServerCA, newProxy) {
		t.Error("a proxy certificate of the new proxy CA is not answered")
	}

	mustWrite(t, p.certFile, []byte("-----BEGIN CERTIFICATE-----\ncut"))
	if !answered(newServerCA, newProxy) {
		t.Error("a certificate file that cannot be loaded stopped the last good configuration")
	}
	if n := len(logs.Records(t, "listen.tls files changed but cannot be loaded; new connections keep the last good certificate and client CAs")); n != 1 {
		t.Errorf("%d warnings about the unusable files, want 1 (one per change)", n)
	}
}

// TestAProxyCAThatIssuesClientCertificatesIsWarnedAbout: listen.tls admits
// the proxies; a client CA that is also a CA of trust.ca_files would admit
// every client as a proxy, so the start warns of it, and not otherwise.
func TestAProxyCAThatIssuesClientCertificatesIsWarnedAbout(t *testing.T) {
	p := newProxyPKI(t)
	users := filepath.Join(t.TempDir(), "users.pem")
	mustWrite(t, users, pkitest.New(t, "users CA").CertPEM())
	tlsFiles := config.ListenTLS{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFiles: []string{p.clientCAFile}}
	for _, tt := range []struct {
		name  string
		trust config.Trust
		warn  bool
	}{
		{"the proxies' own CA is not warned about", config.Trust{CAFiles: []string{users}}, false},
		{"a proxy CA among trust.ca_files is warned about", config.Trust{CAFiles: []string{users, p.clientCAFile}}, true},
		{"a proxy CA among trust.intermediate_files is warned about", config.Trust{CAFiles: []string{users}, IntermediateFiles: []string{p.clientCAFile}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testlog.Buffer{}
			warnSharedProxyCA(slog.New(slog.NewJSONHandler(logs, nil)), config.Config{Trust: tt.trust, Listen: config.Listen{TLS: tlsFiles}})
			warned := false
			for _, r := range logs.Records(t, "") {
				if msg, _ := r["msg"].(string); strings.HasPrefix(msg, "a CA of listen.tls.client_ca_files also issues") {
					warned = true
				}
			}
			if warned != tt.warn {
				t.Errorf("warned %v, want %v", warned, tt.warn)
			}
		})
	}
}
