package trust_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// TestLoadRefusesAnyFileWithATrailingBlockCutShort: a CA, intermediate or
// CRL file whose last block was cut short (a partial write) fails the
// load with an error naming the file; it never loads as the blocks before
// the cut. A reload keeps the serving snapshot instead.
func TestLoadRefusesAnyFileWithATrailingBlockCutShort(t *testing.T) {
	h := newHierarchy(t)
	other := newHierarchy(t)
	caPEM := pki.EncodeCertsPEM(h.root.Cert)
	interPEM := pki.EncodeCertsPEM(h.inter.Cert)
	crlPEM := pki.EncodeCRLPEM(h.inter.CRL().Raw)
	otherCRL := pki.EncodeCRLPEM(other.inter.CRL().Raw)
	cuts := map[string]func([]byte) []byte{
		"in its body":       func(b []byte) []byte { return b[:len(b)/2] },
		"in its END line":   func(b []byte) []byte { return b[:len(b)-8] },
		"in its BEGIN line": func(b []byte) []byte { return b[:6] },
	}
	for _, file := range []struct {
		name       string
		good, next []byte
		set        func(*trust.Config, string)
	}{
		{"ca.pem", caPEM, pki.EncodeCertsPEM(other.root.Cert), func(c *trust.Config, f string) { c.CAFiles = []string{f} }},
		{"inter.pem", interPEM, pki.EncodeCertsPEM(other.inter.Cert), func(c *trust.Config, f string) { c.IntermediateFiles = []string{f} }},
		{"crl.pem", crlPEM, otherCRL, func(c *trust.Config, f string) { c.CRLFiles = []string{f} }},
	} {
		for cut, shorten := range cuts {
			t.Run(file.name+" with a block cut "+cut, func(t *testing.T) {
				dir := t.TempDir()
				write := func(name string, data []byte) string {
					p := filepath.Join(dir, name)
					if err := os.WriteFile(p, data, 0o600); err != nil {
						t.Fatal(err)
					}
					return p
				}
				cfg := trust.Config{CAFiles: []string{write("whole-ca.pem", caPEM)}, IntermediateFiles: []string{write("whole-inter.pem", interPEM)},
					CRLFiles: []string{write("whole-crl.pem", crlPEM)}, CRLMode: trust.CRLModeLeaf}
				if _, err := trust.Load(cfg); err != nil {
					t.Fatalf("the whole files: %v", err)
				}
				file.set(&cfg, write(file.name, append(append([]byte{}, file.good...), shorten(file.next)...)))
				_, err := trust.Load(cfg)
				if err == nil {
					t.Fatal("Load accepted a file cut short")
				}
				if !strings.Contains(err.Error(), file.name) {
					t.Errorf("Load error %q does not name %s", err, file.name)
				}
			})
		}
	}
}
