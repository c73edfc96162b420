package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/config"
)

// TestServeFlagsSetWhoMayAskTheDataListeners: listen.tls and
// listen.allowed_peers come from the file, then CERTGATE_* variables, then
// serve's flags, like the other listen keys.
func TestServeFlagsSetWhoMayAskTheDataListeners(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	yaml := "trust:\n  ca_files: [ca.pem]\nlisten:\n  tls:\n    cert_file: file.pem\n    key_file: file.key\n    client_ca_files: [file-ca.pem]\n  allowed_peers: [10.9.9.9]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	load := func(t *testing.T, args ...string) config.Config {
		t.Helper()
		var f configFlags
		fs := newFlagSet("serve", "serve", "", io.Discard)
		f.register(fs)
		f.registerServe(fs)
		if err := fs.Parse(append([]string{"--config", file}, args...)); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.load(fs, config.Default())
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantTLS   config.ListenTLS
		wantPeers []string
	}{
		{"the file alone", nil, nil,
			config.ListenTLS{CertFile: filepath.Join(dir, "file.pem"), KeyFile: filepath.Join(dir, "file.key"), ClientCAFiles: []string{filepath.Join(dir, "file-ca.pem")}}, []string{"10.9.9.9"}},
		{"variables over the file",
			map[string]string{config.EnvListenTLSCert: "env.pem", config.EnvListenTLSKey: "env.key", config.EnvListenTLSClientCAs: "env-ca.pem,env-ca2.pem", config.EnvAllowedPeers: "10.1.0.0/16"}, nil,
			config.ListenTLS{CertFile: "env.pem", KeyFile: "env.key", ClientCAFiles: []string{"env-ca.pem", "env-ca2.pem"}}, []string{"10.1.0.0/16"}},
		{"flags over both",
			map[string]string{config.EnvListenTLSCert: "env.pem", config.EnvAllowedPeers: "10.1.0.0/16"},
			[]string{"--listen-tls-cert", "flag.pem", "--listen-tls-key", "flag.key", "--listen-tls-client-ca", "a.pem", "--listen-tls-client-ca", "b.pem", "--allowed-peers", "127.0.0.1,::1"},
			config.ListenTLS{CertFile: "flag.pem", KeyFile: "flag.key", ClientCAFiles: []string{"a.pem", "b.pem"}}, []string{"127.0.0.1", "::1"}},
		{"an empty --allowed-peers answers every peer", nil, []string{"--allowed-peers", ""},
			config.ListenTLS{CertFile: filepath.Join(dir, "file.pem"), KeyFile: filepath.Join(dir, "file.key"), ClientCAFiles: []string{filepath.Join(dir, "file-ca.pem")}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg := load(t, tc.args...)
			if diff := cmp.Diff(tc.wantTLS, cfg.Listen.TLS); diff != "" {
				t.Errorf("listen.tls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPeers, cfg.Listen.AllowedPeers); diff != "" {
				t.Errorf("listen.allowed_peers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServeRefusesHalfATLSSetUpFromFlags: a certificate without the
// proxies' CA is no access control, whichever way it is given.
func TestServeRefusesHalfATLSSetUpFromFlags(t *testing.T) {
	code, _, stderr := runCLI("serve", "--ca", "ca.pem", "--listen-tls-cert", "s.pem", "--listen-tls-key", "s.key", "--admin-listen", "off")
	if code != exitUsage || !strings.Contains(stderr, "listen.tls.client_ca_files") {
		t.Errorf("exit %d, want %d and an error naming listen.tls.client_ca_files:\n%s", code, exitUsage, stderr)
	}
}
