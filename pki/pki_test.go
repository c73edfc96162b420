package pki_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/certgate/certgate/pki"
)

func TestIssuedChainVerifiesForClientAuth(t *testing.T) {
	root, err := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "root"}})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "inter"}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.Issue(pki.Options{Subject: pkix.Name{CommonName: "alice", Organization: []string{"DevOps", "iOS DEV"}}})
	if err != nil {
		t.Fatal(err)
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.Cert)
	inters.AddCert(inter.Cert)
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("verify client chain: %v", err)
	}
	if got := leaf.Cert.Subject.Organization; len(got) != 2 || got[1] != "iOS DEV" {
		t.Errorf("organizations = %q, want [DevOps iOS DEV]", got)
	}
	if leaf.Cert.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %s has too few random bits", leaf.Cert.SerialNumber)
	}
}

func TestCRLListsRevokedSerialsAndIsSignedByTheCA(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ca, err := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "root"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	der, err := ca.CRL(pki.CRLOptions{Number: big.NewInt(7), Revoked: []pki.Revocation{{Serial: big.NewInt(42), Reason: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca.Cert); err != nil {
		t.Errorf("CRL signature: %v", err)
	}
	if crl.Number.Int64() != 7 || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Int64() != 42 {
		t.Errorf("CRL number %v entries %v, want number 7 revoking 42", crl.Number, crl.RevokedCertificateEntries)
	}
	if want := now.Add(-5 * time.Minute).Add(pki.DefaultCRLValidity); !crl.NextUpdate.Equal(want) {
		t.Errorf("nextUpdate = %v, want %v", crl.NextUpdate, want)
	}
}

func TestParseCARejectsAMismatchedKey(t *testing.T) {
	a, _ := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "a"}})
	b, _ := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "b"}})
	keyB, _ := b.KeyPEM()
	if _, err := pki.ParseCA(a.CertPEM(), keyB); err == nil {
		t.Fatal("ParseCA accepted the key of another CA")
	}
	keyA, _ := a.KeyPEM()
	if _, err := pki.ParseCA(a.CertPEM(), keyA); err != nil {
		t.Fatalf("ParseCA with the right key: %v", err)
	}
}

func TestValidityThatEndsBeforeItStartsIsRefused(t *testing.T) {
	now := time.Now()
	_, err := pki.NewRootCA(pki.Options{NotBefore: now, NotAfter: now.Add(-time.Hour)})
	if err == nil {
		t.Fatal("NewRootCA accepted NotAfter before NotBefore")
	}
}

func TestParseCertsPEMRefusesABlockCutShortOrCorrupt(t *testing.T) {
	root, err := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "root"}})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "inter"}})
	if err != nil {
		t.Fatal(err)
	}
	one, two := pki.EncodeCertsPEM(root.Cert), pki.EncodeCertsPEM(inter.Cert)
	corrupt := []byte("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
	for name, data := range map[string][]byte{
		"the second certificate cut short":     append(append([]byte{}, one...), two[:len(two)/2]...),
		"the only certificate cut short":       one[:len(one)*3/4],
		"a corrupt block before a good one":    append(append([]byte{}, corrupt...), two...),
		"a corrupt block after a good one":     append(append([]byte{}, one...), corrupt...),
		"a BEGIN line with no END line at all": append(append([]byte{}, one...), "-----BEGIN CERTIFICATE-----\n"...),
	} {
		t.Run(name, func(t *testing.T) {
			if certs, err := pki.ParseCertsPEM(data); err == nil {
				t.Errorf("ParseCertsPEM read %d certificate(s) and no error; a file caught mid-write must not load", len(certs))
			}
		})
	}
	t.Run("text around the blocks is fine", func(t *testing.T) {
		data := append(append([]byte("subject=CN=root\n"), one...), append([]byte("\nsubject=CN=inter\n"), two...)...)
		certs, err := pki.ParseCertsPEM(data)
		if err != nil || len(certs) != 2 {
			t.Errorf("ParseCertsPEM = %d certificates, %v; want 2, nil", len(certs), err)
		}
	})
}
