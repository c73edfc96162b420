package test

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// tlsExample matches the commented lines of nginx/certgate.conf's
// listen.tls example ("    #     proxy_ssl_… …;").
var tlsExample = regexp.MustCompile(`(?m)^\s*#\s{5}(proxy_\S+\s+.*;)$`)

// certgateConfOverTLS is nginx/certgate.conf with its listen.tls example in
// place of the plain proxy_pass, the example's /etc/nginx/ files in dir.
func certgateConfOverTLS(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "nginx", "certgate.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range tlsExample.FindAllStringSubmatch(string(data), -1) {
		lines = append(lines, "    "+strings.ReplaceAll(m[1], "/etc/nginx/", dir+"/"))
	}
	example := strings.Join(lines, "\n")
	if !strings.Contains(example, "proxy_pass https://certgate/v1/check;") || !strings.Contains(example, "proxy_ssl_certificate ") || !strings.Contains(example, "proxy_ssl_verify on;") {
		t.Fatalf("nginx/certgate.conf has no complete listen.tls example:\n%s", example)
	}
	const plain = "    proxy_pass http://certgate/v1/check;"
	if !strings.Contains(string(data), plain+"\n") {
		t.Fatal("nginx/certgate.conf has no plain proxy_pass to replace")
	}
	conf := filepath.Join(dir, "certgate-tls.conf")
	if err := os.WriteFile(conf, []byte(strings.Replace(string(data), plain, example, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}

// TestNGINXAsksCertgateOverTLSWithItsOwnCertificate: certgate's data
// listener with listen.tls, and a real NGINX running nginx/certgate.conf's
// listen.tls example: the decisions are the ones made over plain HTTP;
// the same NGINX without the example's client certificate gets none (a
// deny, never an allow).
func TestNGINXAsksCertgateOverTLSWithItsOwnCertificate(t *testing.T) {
	w, keys, root, clientCA := newWorldWithKeys(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverCA, proxyCA := pkitest.New(t, "certgate server CA"), pkitest.New(t, "proxy CA")
	server := serverCA.Leaf("certgate", pkitest.Usage(pki.ServerAuth), pkitest.With(func(o *pki.Options) {
		o.DNSNames, o.IPAddresses = []string{"certgate.internal"}, []net.IP{net.IPv4(127, 0, 0, 1)}
	}))
	nginxClient := proxyCA.Leaf("nginx")
	for name, c := range map[string]*pki.Certificate{"certgate": server, "certgate-client": nginxClient} {
		key, err := c.KeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		write(name+".pem", c.CertPEM())
		write(name+".key", key)
	}
	write("certgate-server-ca.pem", serverCA.CertPEM())
	cfg := w.config(trustDev)
	cfg.Listen.TLS.CertFile, cfg.Listen.TLS.KeyFile = filepath.Join(dir, "certgate.pem"), filepath.Join(dir, "certgate.key")
	cfg.Listen.TLS.ClientCAFiles = []string{write("proxy-ca.pem", proxyCA.CertPEM())}
	r := startCertgateConfig(t, cfg)

	t.Run("with the example's client certificate NGINX gets the decisions", func(t *testing.T) {
		n := startNGINXWith(t, w, r.httpAddr, keys, root, clientCA, certgateConfOverTLS(t, dir))
		for _, tc := range decisionCases[:7] { // allows and a 403
			status, saw := n.do(t, tc.client, tc.method, tc.target, nil)
			if status != tc.status {
				t.Errorf("%s %s as %s: %d, want %d", tc.method, tc.target, tc.client, status, tc.status)
			}
			if status == http.StatusOK && strings.Join(saw["X-Certgate-User"], "") != tc.client {
				t.Errorf("%s %s: the app saw user %v, want %s", tc.method, tc.target, saw["X-Certgate-User"], tc.client)
			}
		}
	})
	t.Run("without it every request is denied", func(t *testing.T) {
		n := startNGINX(t, w, r.httpAddr, keys, root, clientCA)
		before, _ := n.upstream.seen()
		if status, _ := n.do(t, "admin", "GET", "/api/v1/vm", nil); status != http.StatusInternalServerError {
			t.Errorf("GET /api/v1/vm as admin through NGINX speaking plain HTTP to a TLS certgate: %d, want 500", status)
		}
		if after, last := n.upstream.seen(); after != before {
			t.Errorf("the request reached the app: %s", last)
		}
	})
}
