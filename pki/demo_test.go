package pki_test

import (
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

func TestEnsureDemoCreatesThenReusesThePKI(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	clock := func() time.Time { return now }
	d, err := pki.EnsureDemo(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Created {
		t.Error("first EnsureDemo did not report creating the PKI")
	}
	caPEM, _ := os.ReadFile(d.Path("ca.pem"))
	ca, err := pki.ParseCertsPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca[0])
	crlPEM, _ := os.ReadFile(d.Path("crl.pem"))
	crls, err := trust.ParseCRLs(crlPEM)
	if err != nil {
		t.Fatal(err)
	}
	crl := crls[0]
	if err := crl.CheckSignatureFrom(ca[0]); err != nil {
		t.Fatalf("demo CRL not signed by the demo CA: %v", err)
	}
	revoked := map[string]bool{}
	for _, e := range crl.RevokedCertificateEntries {
		revoked[e.SerialNumber.String()] = true
	}
	for _, c := range pki.DemoClients {
		data, err := os.ReadFile(d.ClientCert(c.Name))
		if err != nil {
			t.Fatal(err)
		}
		certs, err := pki.ParseCertsPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		_, verr := certs[0].Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if wantOK := !c.Expired && !c.Foreign; (verr == nil) != wantOK {
			t.Errorf("client %s verifies = %v, want ok=%v", c.Name, verr, wantOK)
		}
		if revoked[certs[0].SerialNumber.String()] != c.Revoked {
			t.Errorf("client %s in CRL = %v, want %v", c.Name, !c.Revoked, c.Revoked)
		}
		if info, err := os.Stat(d.ClientKey(c.Name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("client %s key mode = %v (%v), want 0600", c.Name, info.Mode().Perm(), err)
		}
	}
	again, err := pki.EnsureDemo(dir, func() time.Time { return now.Add(time.Minute) })
	if err != nil {
		t.Fatal(err)
	}
	if again.Created {
		t.Error("second EnsureDemo created a new PKI instead of reusing it")
	}
	caPEM2, _ := os.ReadFile(d.Path("ca.pem"))
	if string(caPEM2) != string(caPEM) {
		t.Error("second EnsureDemo replaced the CA")
	}
}
