package main

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certgate/certgate/pki"
)

// TestToolsRefuseAnAmbiguousSubject: decide, verify and pki inspect
// --config answer as the service does for "CN=mallory, CN=jenkins".
func TestToolsRefuseAnAmbiguousSubject(t *testing.T) {
	d := demo(t)
	ca, _, err := pki.LoadCA(d.Path("ca.pem"), d.Path("ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cn := asn1.ObjectIdentifier{2, 5, 4, 3}
	raw, err := asn1.Marshal(pkix.RDNSequence{{{Type: cn, Value: "mallory"}}, {{Type: cn, Value: "jenkins"}}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.Options{RawSubject: raw})
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(d.Dir, "two-cns.pem")
	cfg := filepath.Join(d.Dir, "config.yaml")
	yaml := "trust:\n  ca_files: [" + d.Path("ca.pem") + "]\n  crl_files: [" + d.Path("crl.pem") + "]\nlog:\n  level: error\n"
	for name, data := range map[string][]byte{certFile: leaf.CertPEM(), cfg: []byte(yaml)} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		// jenkins' user entry grants registry_distribute.
		{"decide refuses it with 401", []string{"decide", "--config", cfg, "--cert", certFile, "--method", "POST", "--path", "/api/v1/registry/vm/distribute"}, 1, `"status": 401`},
		{"verify refuses it", []string{"verify", "--ca", d.Path("ca.pem"), certFile}, 1, "INVALID ambiguous subject: 2 common names"},
		{"pki inspect --config refuses it", []string{"pki", "inspect", "--json", "--config", cfg, certFile}, 1, `"reason": "ambiguous_subject"`},
		{"pki inspect shows it refused", []string{"pki", "inspect", certFile}, 0, "user:          REFUSED: ambiguous subject: 2 common names"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.contains) {
				t.Errorf("exit %d, want %d; stdout should contain %q\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, stdout, stderr)
			}
		})
	}
}
