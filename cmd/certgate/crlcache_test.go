package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneShotCommandsNeverWriteTheCRLCache: decide and pki inspect --config
// fetch trust.crl_urls as serve would, and decide with what they fetched,
// but leave trust.crl_cache_dir alone: run as root they would otherwise
// leave root-owned entries that serve cannot replace or read.
func TestOneShotCommandsNeverWriteTheCRLCache(t *testing.T) {
	d := demo(t)
	crl, err := os.ReadFile(d.Path("crl.pem"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(crl) }))
	t.Cleanup(srv.Close)
	cache := filepath.Join(t.TempDir(), "crl-cache")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "trust:\n  ca_files: [" + d.Path("ca.pem") + "]\n  crl_urls: [" + srv.URL + "/ca.crl]\n  crl_cache_dir: " + cache + "\nlog:\n  level: error\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout: the fetched CRL was used
	}{
		{"decide", []string{"decide", "--config", cfg, "--cert", d.ClientCert("revoked"), "--path", "/api/v1/vm"}, exitFail, "is listed in the CRL of"},
		{"pki inspect --config", []string{"pki", "inspect", "--config", cfg, d.ClientCert("revoked")}, exitFail, "is listed in the CRL of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.want) {
				t.Errorf("exit %d, want %d and %q in stdout (the fetched CRL used)\nstdout: %s\nstderr: %s", code, tc.code, tc.want, stdout, stderr)
			}
			if _, err := os.Stat(cache); !os.IsNotExist(err) {
				entries, _ := os.ReadDir(cache)
				t.Errorf("%s wrote the CRL cache %s: %v (stat: %v)", tc.name, cache, entries, err)
			}
		})
	}
}
