package pki_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certgate/certgate/pki"
)

func TestExportPKCS12RoundTrips(t *testing.T) {
	a := newAuthority(t, "ca")
	iss, err := a.Issue(context.Background(), pki.IssueRequest{CommonName: "alice", Organizations: []string{"admins"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     pki.ExportOptions
		password string
	}{
		{"modern encryption with a password", pki.ExportOptions{Password: "s3cret"}, "s3cret"},
		{"legacy encryption with a password", pki.ExportOptions{Password: "s3cret", Legacy: true}, "s3cret"},
		{"no password when asked for explicitly", pki.ExportOptions{NoPassword: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pfx, err := pki.ExportPKCS12(iss.Cert, iss.Key, []*x509.Certificate{a.CA.Cert}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			key, cert, chain, err := pkcs12.DecodeChain(pfx, tt.password)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !cert.Equal(iss.Cert) || len(chain) != 1 || !chain[0].Equal(a.CA.Cert) {
				t.Errorf("decoded %v with %d chain certificates", cert.Subject, len(chain))
			}
			if k, ok := key.(interface{ Equal(crypto.PrivateKey) bool }); !ok || !k.Equal(iss.Key) {
				t.Error("decoded key differs")
			}
			if tt.password != "" {
				if _, _, _, err := pkcs12.DecodeChain(pfx, "wrong"); err == nil {
					t.Error("decoded with the wrong password")
				}
			}
		})
	}
	if _, err := pki.ExportPKCS12(iss.Cert, iss.Key, nil, pki.ExportOptions{}); !errors.Is(err, pki.ErrEmptyPassword) {
		t.Errorf("empty password: %v, want ErrEmptyPassword", err)
	}
	if _, err := pki.ExportPKCS12(iss.Cert, a.CA.Key, nil, pki.ExportOptions{Password: "x"}); err == nil {
		t.Error("exported a certificate with somebody else's key")
	}
}
