package pki_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// csrPEM makes a CSR for key the way a client host would.
func csrPEM(t *testing.T, key crypto.Signer, tmpl x509.CertificateRequest) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newP256(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestSign(t *testing.T) {
	key := newP256(t)
	tests := []struct {
		name    string
		csr     x509.CertificateRequest
		req     pki.IssueRequest
		subject string
		sans    []string
		eku     x509.ExtKeyUsage
	}{
		{"the CN and the Os of the CSR make user and groups",
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "jenkins", Organization: []string{"ci", "builders"}, Country: []string{"DE"}}},
			pki.IssueRequest{}, "CN=jenkins,O=ci+O=builders", nil, x509.ExtKeyUsageClientAuth},
		{"flags override the CN and the Os",
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "root", Organization: []string{"admins"}, OrganizationalUnit: []string{"ops"}}},
			pki.IssueRequest{CommonName: "jenkins", Organizations: []string{"ci"}}, "CN=jenkins,OU=ops,O=ci", nil, x509.ExtKeyUsageClientAuth},
		{"a server CSR keeps its SANs and gets its CN among them",
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}},
			pki.IssueRequest{Server: true}, "CN=localhost", []string{"DNS:localhost", "IP:127.0.0.1"}, x509.ExtKeyUsageServerAuth},
		{"SAN flags replace the SANs of the CSR",
			x509.CertificateRequest{Subject: pkix.Name{CommonName: "api"}, DNSNames: []string{"evil.example.com"}},
			pki.IssueRequest{Server: true, DNSNames: []string{"api.example.com"}}, "CN=api", []string{"DNS:api", "DNS:api.example.com"}, x509.ExtKeyUsageServerAuth},
	}
	a := newAuthority(t, "ca")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csr, err := pki.ParseCSR(csrPEM(t, key, tt.csr))
			if err != nil {
				t.Fatal(err)
			}
			tt.req.OutDir = t.TempDir()
			iss, err := a.Sign(context.Background(), csr, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			c := iss.Cert
			got := []any{c.Subject.String(), pki.SANs(c), c.ExtKeyUsage, c.IsCA}
			want := []any{tt.subject, tt.sans, []x509.ExtKeyUsage{tt.eku}, false}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("subject, SANs, EKU, CA (-want +got):\n%s", diff)
			}
			if !key.PublicKey.Equal(c.PublicKey) || iss.Key != nil || iss.KeyPath != "" {
				t.Errorf("the certificate is not for the CSR's key, or a key was made (%s)", iss.KeyPath)
			}
			if err := c.CheckSignatureFrom(a.CA.Cert); err != nil {
				t.Errorf("not signed by the CA: %v", err)
			}
			files, _ := os.ReadDir(tt.req.OutDir)
			if len(files) != 1 || files[0].Name() != c.Subject.CommonName+".pem" {
				t.Errorf("files written: %v, want the certificate only", files)
			}
			st := readState(t, a.Dir)
			if len(st.Issued) != i+1 || st.Issued[i].Serial != pki.FormatSerial(c.SerialNumber) || st.Issued[i].Subject != tt.subject {
				t.Errorf("state records %+v", st.Issued)
			}
		})
	}
}

func TestParseCSRRefuses(t *testing.T) {
	key := newP256(t)
	bc, _ := asn1.Marshal(struct {
		IsCA bool `asn1:"optional"`
	}{true})
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tampered := csrPEM(t, key, x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}})
	block, _ := pem.Decode(tampered)
	block.Bytes[len(block.Bytes)-3] ^= 0xff // inside the signature
	tests := []struct {
		name     string
		pem      []byte
		contains string
	}{
		{"a CSR whose signature does not verify", pem.EncodeToMemory(block), "signature does not verify"},
		{"a CSR asking for CA:TRUE",
			csrPEM(t, key, x509.CertificateRequest{Subject: pkix.Name{CommonName: "sub-ca"}, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc}}}),
			"CA:TRUE"},
		{"a CSR with an unknown critical extension",
			csrPEM(t, key, x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}}),
			"unknown critical extension 1.3.6.1.4.1.99999.1"},
		{"an RSA key below 2048 bits", csrPEM(t, weak, x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}), "RSA key of 1024 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pki.ParseCSR(tt.pem)
			if !errors.Is(err, pki.ErrCSRRefused) || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("ParseCSR: %v, want %v mentioning %q", err, pki.ErrCSRRefused, tt.contains)
			}
		})
	}
	a := newAuthority(t, "ca")
	if _, err := pki.ParseCSR(a.CA.CertPEM()); err == nil || !strings.Contains(err.Error(), `"CERTIFICATE"`) {
		t.Errorf("ParseCSR of a certificate: %v", err)
	}
	ok := csrPEM(t, key, x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}, ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: []byte{5, 0}}}})
	if _, err := pki.ParseCSR(ok); err != nil {
		t.Errorf("a non-critical unknown extension is ignored, yet: %v", err)
	}
}

func TestParseCSRReadsPEMOldPEMAndDER(t *testing.T) {
	block, _ := pem.Decode(csrPEM(t, newP256(t), x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}}))
	for name, data := range map[string][]byte{
		"PEM":                               pem.EncodeToMemory(block),
		"openssl's NEW CERTIFICATE REQUEST": pem.EncodeToMemory(&pem.Block{Type: "NEW CERTIFICATE REQUEST", Bytes: block.Bytes}),
		"DER":                               block.Bytes,
	} {
		t.Run(name, func(t *testing.T) {
			csr, err := pki.ParseCSR(data)
			if err != nil || csr.Subject.CommonName != "alice" {
				t.Errorf("ParseCSR: %v, %v", csr, err)
			}
		})
	}
}

func TestSignReadsAnOpenSSLCSR(t *testing.T) {
	bin := pkitest.NeedOpenSSL(t)
	dir := t.TempDir()
	pkitest.MustOpenSSL(t, bin, dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", "jenkins-key.pem", "-subj", "/O=ci/OU=build/O=builders/CN=jenkins", "-out", "jenkins.csr")
	data, err := os.ReadFile(filepath.Join(dir, "jenkins.csr"))
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.ParseCSR(data)
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthority(t, "ca")
	iss, err := a.Sign(context.Background(), csr, pki.IssueRequest{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := iss.Cert.Subject; got.CommonName != "jenkins" || !cmp.Equal(got.Organization, []string{"ci", "builders"}) || !cmp.Equal(got.OrganizationalUnit, []string{"build"}) {
		t.Errorf("subject %s, want user jenkins in groups ci, builders", got)
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, a.CA.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	out := pkitest.MustOpenSSL(t, bin, dir, "verify", "-purpose", "sslclient", "-CAfile", ca, iss.CertPath)
	if !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify: %s", out)
	}
	// The certificate and the key that never left the client's host belong together.
	certMod := pkitest.MustOpenSSL(t, bin, dir, "x509", "-noout", "-pubkey", "-in", iss.CertPath)
	keyMod := pkitest.MustOpenSSL(t, bin, dir, "pkey", "-pubout", "-in", "jenkins-key.pem")
	if certMod != keyMod {
		t.Errorf("the signed certificate's key is not the openssl key:\n%s\n%s", certMod, keyMod)
	}
}
