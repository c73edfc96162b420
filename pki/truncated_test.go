package pki_test

import (
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
)

// cutShort are ways a file holding good followed by next ends while being
// written: inside next's body, inside its END line, inside its BEGIN line.
func cutShort(good, next []byte) map[string][]byte {
	join := func(tail []byte) []byte { return append(append([]byte{}, good...), tail...) }
	return map[string][]byte{
		"a good block, then one cut in its body":       join(next[:len(next)/2]),
		"a good block, then one cut in its END line":   join(next[:len(next)-8]),
		"a good block, then one cut in its BEGIN line": join(next[:7]),
	}
}

func testCA(t *testing.T) (*pki.CA, *pki.CA) {
	t.Helper()
	root, err := pki.NewRootCA(pki.Options{Subject: pkix.Name{CommonName: "root"}})
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "inter"}})
	if err != nil {
		t.Fatal(err)
	}
	return root, inter
}

// TestReadContentsRefusesATrailingBlockCutShort: `certgate pki inspect`
// of a bundle or CRL file caught mid-write fails instead of showing the
// blocks before the cut as if they were the whole file.
func TestReadContentsRefusesATrailingBlockCutShort(t *testing.T) {
	root, inter := testCA(t)
	certs := pki.EncodeCertsPEM(root.Cert)
	crl, err := root.CRL(pki.CRLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	crls := pki.EncodeCRLPEM(crl)
	for what, pair := range map[string][2][]byte{
		"certificates":       {certs, pki.EncodeCertsPEM(inter.Cert)},
		"CRLs":               {crls, crls},
		"a CRL after a cert": {certs, crls},
	} {
		for name, data := range cutShort(pair[0], pair[1]) {
			t.Run(what+": "+name, func(t *testing.T) {
				c, err := pki.ReadContents(data)
				if err == nil {
					t.Fatalf("ReadContents read %d certificate(s) and %d CRL(s) and no error", len(c.Certs), len(c.CRLs))
				}
				if !strings.Contains(err.Error(), "cut short") {
					t.Errorf("error %q does not say the file may be cut short", err)
				}
			})
		}
	}
	t.Run("whole files still read", func(t *testing.T) {
		c, err := pki.ReadContents(append(append([]byte("subject=CN=root\n"), certs...), crls...))
		if err != nil || len(c.Certs) != 1 || len(c.CRLs) != 1 {
			t.Errorf("ReadContents = %+v, %v; want 1 certificate and 1 CRL", c, err)
		}
	})
}

func TestParseCertsPEMRefusesABlockCutInItsBeginLine(t *testing.T) {
	root, inter := testCA(t)
	for name, data := range cutShort(pki.EncodeCertsPEM(root.Cert), pki.EncodeCertsPEM(inter.Cert)) {
		t.Run(name, func(t *testing.T) {
			if certs, err := pki.ParseCertsPEM(data); err == nil {
				t.Errorf("ParseCertsPEM read %d certificate(s) and no error", len(certs))
			}
		})
	}
}

// TestParseKeyPEMRefusesAFileCutShort: a key file with a block cut short
// after the key (a combined key and chain file) is an error too.
func TestParseKeyPEMRefusesAFileCutShort(t *testing.T) {
	root, inter := testCA(t)
	key, err := pki.EncodeKeyPEM(root.Key)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range cutShort(key, pki.EncodeCertsPEM(inter.Cert)) {
		t.Run(name, func(t *testing.T) {
			if _, err := pki.ParseKeyPEM(data); err == nil {
				t.Error("ParseKeyPEM read a key and no error")
			}
		})
	}
	if _, err := pki.ParseKeyPEM(append(append([]byte{}, key...), pki.EncodeCertsPEM(inter.Cert)...)); err != nil {
		t.Errorf("ParseKeyPEM of a whole key and certificate: %v", err)
	}
}
