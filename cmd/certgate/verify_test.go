package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
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
	// A client certificate with a negative serial: crypto/x509 does not
	// parse it, and the message names the rule.
	negative := rewriteSerial(t, inter, leaf.Cert, big.NewInt(-5))
	negativeFile := write("negative.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: negative}))
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
		{"a certificate with a negative serial fails naming the rule", []string{"--ca", ca, negativeFile}, 1, "RFC 5280 4.1.2.2"},
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

// rewriteSerial returns cert's DER with serial n, signed again by ca (an
// ECDSA CA, as pki makes by default).
func rewriteSerial(t *testing.T, ca *pki.CA, cert *x509.Certificate, n *big.Int) []byte {
	t.Helper()
	var outer struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.Raw, &outer); err != nil {
		t.Fatal(err)
	}
	var fields []asn1.RawValue
	for rest := outer.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			t.Fatal(err)
		}
		fields = append(fields, f)
	}
	serial, err := asn1.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	fields[1] = asn1.RawValue{FullBytes: serial} // fields[0] is the version
	var body []byte
	for _, f := range fields {
		body = append(body, f.FullBytes...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tbs)
	sig, err := ca.Key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, asn1.RawValue{FullBytes: outer.SigAlg.FullBytes}, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}
