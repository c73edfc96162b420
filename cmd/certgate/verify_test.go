package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

// TestVerifyProfileAndDepth: --profile and --max-chain-depth reach the
// trust store, and their failures are named.
func TestVerifyProfileAndDepth(t *testing.T) {
	d := demo(t)
	certPEM, err := os.ReadFile(d.Path("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(d.Path("ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.ParseCA(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A client certificate without an authority key identifier, as
	// `openssl x509 -req` without -extfile makes them.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parent := *root.Cert
	parent.SubjectKeyId = nil
	serial, err := pki.RandomSerial()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "legacy"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}, &parent, key.Public(), root.Key)
	if err != nil {
		t.Fatal(err)
	}
	legacy := write("legacy.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "issuing"}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.Issue(pki.Options{Subject: pkix.Name{CommonName: "deep"}})
	if err != nil {
		t.Fatal(err)
	}
	chain := write("chain.pem", pki.EncodeCertsPEM(leaf.Cert, inter.Cert))
	ca := d.Path("ca.pem")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"a certificate without AKI is valid by default", []string{"--ca", ca, legacy}, 0, `"user": "legacy"`},
		{"a certificate without AKI is refused by the strict profile", []string{"--ca", ca, "--profile", "strict", legacy}, 1, "missing_aki"},
		{"a certificate of a conforming CA is valid in the strict profile", []string{"--ca", ca, "--profile", "strict", d.ClientCert("viewer")}, 0, `"user": "viewer"`},
		{"an unknown profile is a usage error", []string{"--ca", ca, "--profile", "lax", legacy}, 2, "--profile"},
		{"one intermediate is allowed by --max-chain-depth 1", []string{"--ca", ca, "--max-chain-depth", "1", chain}, 0, `"user": "deep"`},
		{"one intermediate is too deep for --max-chain-depth 0", []string{"--ca", ca, "--max-chain-depth", "0", chain}, 1, "chain_depth"},
		{"a certificate of the CA itself passes --max-chain-depth 0", []string{"--ca", ca, "--max-chain-depth", "0", d.ClientCert("viewer")}, 0, `"user": "viewer"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"verify"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.contains) {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, stdout, stderr)
			}
		})
	}
}
