package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
)

// TestPKICRLCheckFailsWhatServeCannotUse checks CRL files that certgate
// serve refuses to load, or loads and never uses: `pki crl --check` must
// not call them OK, or the cron alert stays silent while every client of
// the CA fails with crl_unavailable.
func TestPKICRLCheckFailsWhatServeCannotUse(t *testing.T) {
	now := time.Now()
	ca := pkitest.New(t, "Test CA")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, pki.CACertFile), ca.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	good := pki.EncodeCRLPEM(ca.CRL().Raw)
	signed := func(exts []pkix.Extension, entries []x509.RevocationListEntry) []byte {
		return pki.EncodeCRLPEM(ca.SignCRL(&x509.RevocationList{
			Number: big.NewInt(2), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(7 * 24 * time.Hour),
			ExtraExtensions: exts, RevokedCertificateEntries: entries,
		}).Raw)
	}
	critical := func(oid ...int) []pkix.Extension {
		return []pkix.Extension{{Id: oid, Critical: true, Value: []byte{0x30, 0x00}}}
	}
	tests := []struct {
		name   string
		data   []byte
		code   int
		output string // in stdout on exit 0 or 1 with a verdict, else in stderr
	}{
		{"a current CRL of the CA passes", good, 0, "OK "},
		{"two current CRLs in one file pass", append(append([]byte{}, good...), good...), 0, "OK "},
		{"a good CRL followed by a PEM block cut short fails", append(append([]byte{}, good...), good[:len(good)/2]...), 1, "cut short"},
		{"a block of another type after the CRL fails", append(append([]byte{}, good...), ca.CertPEM()...), 1, `"CERTIFICATE", want X509 CRL`},
		{"a delta CRL fails", signed([]pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: []byte{0x02, 0x01, 0x01}}}, nil), 1, "delta CRL"},
		{"a CRL with an issuing distribution point fails", signed(critical(2, 5, 29, 28), nil), 1, "issuing distribution point"},
		{"a CRL with an unsupported critical extension fails", signed(critical(1, 2, 3, 4), nil), 1, "unsupported critical CRL extension"},
		{"a CRL with a critical entry extension fails", signed(nil, []x509.RevocationListEntry{{
			SerialNumber: big.NewInt(7), RevocationTime: now.Add(-time.Hour),
			ExtraExtensions: critical(1, 2, 3, 4),
		}}), 1, "unsupported critical CRL entry extension"},
		{"a CRL without nextUpdate fails", pki.EncodeCRLPEM(ca.CRLWithoutNextUpdate(pki.CRLOptions{}).Raw), 1, "without nextUpdate"},
		{"a CRL not yet valid fails", pki.EncodeCRLPEM(ca.CRLWith(pki.CRLOptions{ThisUpdate: now.Add(time.Hour)}).Raw), 1, "not valid before its thisUpdate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "crl.pem")
			if err := os.WriteFile(file, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCLI("pki", "crl", "--check", "--dir", dir, "--file", file, "--min", "1h")
			out := stdout
			if !strings.HasPrefix(stdout, "OK") && !strings.HasPrefix(stdout, "FAIL") {
				out = stderr
			}
			if code != tt.code || !strings.Contains(out, tt.output) {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tt.code, tt.output, stdout, stderr)
			}
			if tt.code != 0 && strings.Contains(stdout, "OK ") {
				t.Errorf("a CRL serve cannot use is reported OK:\n%s", stdout)
			}
		})
	}
}
