package trust_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// TestUnusableInputsFailTheLoadNamingFileAndRule: CA, intermediate and CRL
// files that certgate cannot use keep failing closed at load, and the
// message says which file and which RFC 5280 rule.
func TestUnusableInputsFailTheLoadNamingFileAndRule(t *testing.T) {
	h := newHierarchy(t)
	root := h.root
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caTemplate := func(cn string, exts ...pkix.Extension) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtraExtensions: exts}
	}
	noSKI := func(p *x509.Certificate) { p.SubjectKeyId = nil }
	criticalAKI := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 35}, Critical: true, Value: seq(t, mustMarshal(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: root.Cert.SubjectKeyId}))}
	criticalSKI := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 14}, Critical: true, Value: mustMarshal(t, []byte{1, 2, 3, 4})}
	badMask := mustMarshal(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: []byte{10, 0, 0, 0, 255, 0, 255, 0}})

	negative := root.WithSerial(&root.ChildCA("negative").Certificate, big.NewInt(-7))
	akiCritical := rawCert(t, root.CA, caTemplate("critical aki", criticalAKI), noSKI)
	skiCritical := rawCert(t, root.CA, caTemplate("critical ski", criticalSKI), nil)
	ipMask := rawCert(t, root.CA, caTemplate("bad ip mask", nameConstraints(t, [][]byte{badMask}, nil)), nil)
	v1Like := rawCert(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "no basic constraints"}, KeyUsage: x509.KeyUsageCertSign}, nil)

	akiCRL := crlWithExtensions(t, root, root.CRL(), []pkix.Extension{criticalAKI})

	ca := write("ca.pem", root.CertPEM())
	tests := []struct {
		name string
		cfg  trust.Config
		want []string
	}{
		{"an intermediate with a negative serial", trust.Config{CAFiles: []string{ca}, IntermediateFiles: []string{write("negative.pem", pki.EncodeCertsPEM(negative.Cert))}}, []string{"negative.pem", "4.1.2.2", "negative"}},
		{"a CA with a critical authority key identifier", trust.Config{CAFiles: []string{ca, write("aki.pem", pki.EncodeCertsPEM(akiCritical.Cert))}}, []string{"aki.pem", "4.2.1.1", "critical"}},
		{"a CA with a critical subject key identifier", trust.Config{CAFiles: []string{ca}, IntermediateFiles: []string{write("ski.pem", pki.EncodeCertsPEM(skiCritical.Cert))}}, []string{"ski.pem", "4.2.1.2", "critical"}},
		{"a CA with a malformed iPAddress name constraint", trust.Config{CAFiles: []string{ca}, IntermediateFiles: []string{write("ipmask.pem", pki.EncodeCertsPEM(ipMask.Cert))}}, []string{"ipmask.pem", "4.2.1.10", "iPAddress"}},
		{"a CA without basicConstraints", trust.Config{CAFiles: []string{write("v1.pem", pki.EncodeCertsPEM(v1Like.Cert))}}, []string{"v1.pem", "4.2.1.9", "no basicConstraints"}},
		{"a CRL with a critical authority key identifier", trust.Config{CAFiles: []string{ca}, CRLFiles: []string{write("aki.crl", pki.EncodeCRLPEM(akiCRL.Raw))}}, []string{"aki.crl", "4.2.1.1", "critical"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trust.Load(tt.cfg)
			if err == nil {
				t.Fatal("Load accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load error %q does not say %q", err, w)
				}
			}
		})
	}
}
