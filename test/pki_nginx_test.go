package test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

// TestNGINXAcceptsWhatCertgatePKIIssues runs NGINX the way the vendor
// guides configure it — NGINX itself verifying clients with
// ssl_client_certificate and ssl_crl, no certgate — on a CA, server
// certificate, client certificates and CRL made by `certgate pki`.
func TestNGINXAcceptsWhatCertgatePKIIssues(t *testing.T) {
	bin := nginxBinary(t)
	ctx := context.Background()
	prefix := t.TempDir()
	a, err := pki.Init(ctx, filepath.Join(prefix, "pki"), pki.InitOptions{Subject: pkix.Name{CommonName: "NGINX test CA"}})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(req pki.IssueRequest) *pki.Issued {
		iss, err := a.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return iss
	}
	server := issue(pki.IssueRequest{CommonName: "localhost", Server: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	alice := issue(pki.IssueRequest{CommonName: "alice", Organizations: []string{"admins"}})
	bob := issue(pki.IssueRequest{CommonName: "bob", Organizations: []string{"ci"}})
	if _, err := a.Revoke(ctx, pki.RevokeRequest{Cert: bob.Cert, Reason: pki.ReasonKeyCompromise}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PublishCRL(ctx, pki.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	lis := listenLocal(t)
	addr := lis.Addr().String()
	runNGINX(t, bin, prefix, fmt.Sprintf(`
    server {
        listen %[1]s ssl;
        ssl_certificate %[2]s;
        ssl_certificate_key %[3]s;
        ssl_client_certificate %[4]s;
        ssl_crl %[5]s;
        ssl_verify_client on;
        location / { return 200 "hello $ssl_client_s_dn\n"; }
    }`, addr, server.CertPath, server.KeyPath, filepath.Join(a.Dir, pki.CACertFile), filepath.Join(a.Dir, pki.CRLFile)), lis)
	roots := x509.NewCertPool()
	roots.AddCert(a.CA.Cert)
	get := func(t *testing.T, client *pki.Issued) int {
		cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12} // verifies the server's IP SAN
		if client != nil {
			pair, err := tls.LoadX509KeyPair(client.CertPath, client.KeyPath)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name   string
		client *pki.Issued
		want   int
	}{
		{"a valid client certificate is accepted", alice, http.StatusOK},
		{"a revoked client certificate gets 400", bob, http.StatusBadRequest},
		{"no client certificate gets 400", nil, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(t, tt.client); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}
