package test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

// TestMaxChainDepthCountsLikeNGINXsSSLVerifyDepth: for chains of zero,
// one and two intermediates, NGINX's ssl_verify_depth N and certgate's
// trust.max_chain_depth N accept and refuse the same chains, as
// docs/validation.md says.
func TestMaxChainDepthCountsLikeNGINXsSSLVerifyDepth(t *testing.T) {
	bin := nginxBinary(t)
	prefix := t.TempDir()
	root := pkitest.New(t, "depth root")
	i1 := root.ChildCA("depth inter 1")
	i2 := i1.ChildCA("depth inter 2")
	server := root.Leaf("localhost", pkitest.Usage(pki.ServerAuth), pkitest.With(func(o *pki.Options) { o.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)} }))
	write := func(name string, data []byte) string {
		p := filepath.Join(prefix, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverKey, err := server.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, caFile := write("server.pem", server.CertPEM()), write("server-key.pem", serverKey), write("ca.pem", root.CertPEM())
	depths := []int{0, 1, 2}
	addrs := map[int]string{}
	var listeners []net.Listener
	var servers strings.Builder
	for _, d := range depths {
		lis := listenLocal(t)
		listeners = append(listeners, lis)
		addrs[d] = lis.Addr().String()
		fmt.Fprintf(&servers, `
    server {
        listen %s ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_client_certificate %s;
        ssl_verify_client optional_no_ca;
        ssl_verify_depth %d;
        location / { return 200 "$ssl_client_verify"; }
    }`, addrs[d], certFile, keyFile, caFile, d)
	}
	runNGINX(t, bin, prefix, servers.String(), listeners...)

	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	nginxVerifies := func(t *testing.T, addr string, leaf *pki.Certificate, chain []*x509.Certificate) bool {
		t.Helper()
		cert := tls.Certificate{PrivateKey: leaf.Key}
		for _, c := range chain {
			cert.Certificate = append(cert.Certificate, c.Raw)
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}}}
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return string(body) == "SUCCESS"
	}
	store, err := trust.NewStore([]*x509.Certificate{root.Cert}, nil, nil, trust.CRLModeOff)
	if err != nil {
		t.Fatal(err)
	}
	leaves := map[int]*pki.Certificate{0: root.Leaf("direct"), 1: i1.Leaf("one below"), 2: i2.Leaf("two below")}
	chains := map[int][]*x509.Certificate{0: {leaves[0].Cert}, 1: {leaves[1].Cert, i1.Cert}, 2: {leaves[2].Cert, i2.Cert, i1.Cert}}
	for _, d := range depths {
		limited, err := store.WithMaxChainDepth(d)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(chains) {
			t.Run(fmt.Sprintf("%d intermediates at depth %d", n, d), func(t *testing.T) {
				_, verr := limited.Verify(chains[n], trust.VerifyOptions{})
				ngx := nginxVerifies(t, addrs[d], leaves[n], chains[n])
				if ngx != (verr == nil) || ngx != (n <= d) {
					t.Errorf("NGINX verified %v, certgate %v; want both %v", ngx, verr, n <= d)
				}
			})
		}
	}
}
