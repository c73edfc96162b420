package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/trust"
)

func TestLoadReadsTheFileOverTheDefaults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "trust:\n  ca_files: [a.pem, b.pem]\n  crl_mode: leaf\nheaders:\n  http:\n    trusted_proxies: [10.0.0.5]\n  grpc:\n    trust: [xfcc]\n    trusted_proxies: [10.0.0.0/8]\n"
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Trust.CAFiles = []string{filepath.Join(filepath.Dir(p), "a.pem"), filepath.Join(filepath.Dir(p), "b.pem")}
	want.Trust.CRLMode = trust.CRLModeLeaf
	// A list replaces the default's; what the file leaves out keeps it.
	want.Headers.HTTP.TrustedProxies = []string{"10.0.0.5"}
	want.Headers.GRPC = config.ListenerHeaders{Trust: []string{"xfcc"}, TrustedProxies: []string{"10.0.0.0/8"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestParseRejectsUnknownKeysAndSecondDocuments(t *testing.T) {
	for name, yaml := range map[string]string{
		"a misspelt key":         "trust:\n  ca_file: [a.pem]\n",
		"an unknown section":     "tls:\n  x: 1\n",
		"a second YAML document": "log:\n  level: info\n---\nlog:\n  level: debug\n",
		"a wrong type":           "headers:\n  http:\n    trust: maybe\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			if err := config.Parse([]byte(yaml), &cfg); err == nil {
				t.Fatal("Parse accepted it")
			}
		})
	}
	cfg := config.Default()
	if err := config.Parse(nil, &cfg); err != nil {
		t.Errorf("an empty file: %v", err)
	}
}

func TestApplyEnvOverridesTheFile(t *testing.T) {
	env := map[string]string{
		config.EnvCAFiles:            "x.pem, y.pem",
		config.EnvCRLMode:            "off",
		config.EnvGRPCListen:         "127.0.0.1:1",
		config.EnvHTTPTrust:          "ssl_client_cert, client_cert",
		config.EnvHTTPProxies:        "10.0.0.5",
		config.EnvGRPCTrust:          "xfcc",
		config.EnvGRPCProxies:        "10.1.0.0/16,10.2.0.0/16",
		config.EnvListenTLSCert:      "server.pem",
		config.EnvListenTLSKey:       "server.key",
		config.EnvListenTLSClientCAs: "proxy-ca.pem, other-ca.pem",
		config.EnvAllowedPeers:       "10.0.0.5, 10.3.0.0/16",
		config.EnvPolicyShadowDir:    "shadow",
	}
	cfg := config.Default()
	if err := config.ApplyEnv(&cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(cfg.Trust.CAFiles, []string{"x.pem", "y.pem"}) || cfg.Trust.CRLMode != trust.CRLModeOff || cfg.Listen.GRPC != "127.0.0.1:1" {
		t.Errorf("ApplyEnv gave %+v", cfg)
	}
	wantHeaders := config.Headers{
		HTTP: config.ListenerHeaders{Trust: []string{"ssl_client_cert", "client_cert"}, TrustedProxies: []string{"10.0.0.5"}},
		GRPC: config.ListenerHeaders{Trust: []string{"xfcc"}, TrustedProxies: []string{"10.1.0.0/16", "10.2.0.0/16"}},
	}
	if diff := cmp.Diff(wantHeaders, cfg.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	wantTLS := config.ListenTLS{CertFile: "server.pem", KeyFile: "server.key", ClientCAFiles: []string{"proxy-ca.pem", "other-ca.pem"}}
	if diff := cmp.Diff(wantTLS, cfg.Listen.TLS); diff != "" {
		t.Errorf("listen.tls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"10.0.0.5", "10.3.0.0/16"}, cfg.Listen.AllowedPeers); diff != "" {
		t.Errorf("listen.allowed_peers (-want +got):\n%s", diff)
	}
	if cfg.Policy.Shadow.Dir != "shadow" {
		t.Errorf("policy.shadow.dir %q, want shadow", cfg.Policy.Shadow.Dir)
	}
	removed := func(k string) (string, bool) { return "true", k == config.EnvTrustForwarded }
	err := config.ApplyEnv(&cfg, removed)
	if err == nil || !strings.Contains(err.Error(), "was removed") || !strings.Contains(err.Error(), config.EnvHTTPTrust) || !strings.Contains(err.Error(), config.EnvGRPCTrust) {
		t.Errorf("the removed %s: error %v, want one naming what replaces it", config.EnvTrustForwarded, err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := config.Default()
	cfg.Listen.GRPC = "no-port"
	cfg.Trust.CRLMode = "sometimes"
	cfg.Log.Level = "loud"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted it")
	}
	for _, want := range []string{"listen.grpc", "ca_files", "crl_mode", "log.level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	cfg = config.Default()
	cfg.Trust.CAFiles = []string{"ca.pem"}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the defaults plus a CA: %v", err)
	}
}

// TestValidateRefusesATCPAdminListenerWithoutTLS: a TCP admin listener,
// loopback included (every local user could reload), needs TLS with
// client certificates; the Unix socket, guarded by its file permissions,
// needs none.
func TestValidateRefusesATCPAdminListenerWithoutTLS(t *testing.T) {
	for _, tt := range []struct {
		name    string
		admin   config.Admin
		wantErr string
	}{
		{"the default socket", config.Admin{Listen: config.DefaultAdminSocket}, ""},
		{"disabled", config.Admin{}, ""},
		{"loopback TCP without TLS", config.Admin{Listen: "127.0.0.1:9194"}, "needs cert_file and key_file"},
		{"localhost TCP without TLS", config.Admin{Listen: "localhost:9194"}, "needs cert_file and key_file"},
		{"IPv6 loopback without TLS", config.Admin{Listen: "[::1]:9194"}, "needs cert_file and key_file"},
		{"any address without TLS", config.Admin{Listen: "0.0.0.0:9194"}, "needs cert_file and key_file"},
		{"TCP with TLS", config.Admin{Listen: "0.0.0.0:9194", CertFile: "c.pem", KeyFile: "k.pem"}, ""},
		{"a certificate without its key", config.Admin{Listen: "127.0.0.1:9194", CertFile: "c.pem"}, "both cert_file and key_file"},
		{"TLS on the socket", config.Admin{Listen: config.DefaultAdminSocket, CertFile: "c.pem", KeyFile: "k.pem"}, "needs a TCP admin.listen"},
		{"no port", config.Admin{Listen: "127.0.0.1"}, "want unix:PATH or host:port"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			cfg.Admin = tt.admin
			err := cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestExposureDefaults: metrics have a listener of their own on loopback,
// reflection is off and 403 bodies name no permission.
func TestExposureDefaults(t *testing.T) {
	d := config.Default().Listen
	if d.Metrics != "127.0.0.1:9193" || d.GRPCReflection || d.NameMissingPermission {
		t.Errorf("listen defaults %+v, want metrics 127.0.0.1:9193, no reflection, no permission in 403 bodies", d)
	}
	cfg := config.Default()
	cfg.Trust.CAFiles = []string{"ca.pem"}
	if err := config.Parse([]byte("listen:\n  metrics: \"\"\n  grpc_reflection: true\n  name_missing_permission: true\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen.Metrics != "" || !cfg.Listen.GRPCReflection || !cfg.Listen.NameMissingPermission {
		t.Errorf("parsed %+v", cfg.Listen)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("metrics off: %v", err)
	}
	for _, metrics := range []string{cfg.Listen.GRPC, cfg.Listen.HTTP} {
		cfg.Listen.Metrics = metrics
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "listen.metrics") {
			t.Errorf("metrics on a data listener's address %s: %v, want refused", metrics, err)
		}
	}
	cfg.Listen.Metrics = "no-port"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "listen.metrics") {
		t.Errorf("metrics without a port: %v, want refused", err)
	}
	env := map[string]string{config.EnvMetricsListen: "127.0.0.1:1"}
	if err := config.ApplyEnv(&cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil || cfg.Listen.Metrics != "127.0.0.1:1" {
		t.Errorf("%s: %v, metrics %q", config.EnvMetricsListen, err, cfg.Listen.Metrics)
	}
}

func TestTheDefaultsBelieveOnlySslClientCertFromThisHostOnHTTP(t *testing.T) {
	cfg := config.Default()
	http, httpProxies, err := cfg.Headers.HTTP.Parse()
	if err != nil {
		t.Fatal(err)
	}
	grpc, grpcProxies, err := cfg.Headers.GRPC.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if http != identity.SSLClientCert || fmt.Sprint(httpProxies) != "[127.0.0.1/32 ::1/128]" {
		t.Errorf("HTTP believes %v from %v, want ssl_client_cert from loopback", http, httpProxies)
	}
	if grpc != 0 || len(grpcProxies) != 0 {
		t.Errorf("gRPC believes %v from %v, want nothing", grpc, grpcProxies)
	}
}

func TestValidateChecksHeaderTrust(t *testing.T) {
	yes := true
	for name, tc := range map[string]struct {
		headers config.Headers
		want    []string
	}{
		"an unknown family": {
			config.Headers{HTTP: config.ListenerHeaders{Trust: []string{"ssl-client-cert"}, TrustedProxies: []string{"127.0.0.1"}}},
			[]string{`headers.http.trust: unknown header family "ssl-client-cert": want ssl_client_cert, xfcc, client_cert`},
		},
		"a bad proxy address": {
			config.Headers{GRPC: config.ListenerHeaders{Trust: []string{"xfcc"}, TrustedProxies: []string{"10.0.0.0/33"}}},
			[]string{`headers.grpc.trusted_proxies: "10.0.0.0/33" is not an address or a CIDR prefix`},
		},
		"a host name for a proxy": {
			config.Headers{HTTP: config.ListenerHeaders{Trust: []string{"ssl_client_cert"}, TrustedProxies: []string{"nginx.internal"}}},
			[]string{`headers.http.trusted_proxies: "nginx.internal" is not an address`},
		},
		"a family without proxies": {
			config.Headers{GRPC: config.ListenerHeaders{Trust: []string{"xfcc"}}},
			[]string{"headers.grpc.trust believes xfcc but headers.grpc.trusted_proxies is empty", "0.0.0.0/0 and ::/0"},
		},
		"the removed trust_forwarded": {
			config.Headers{TrustForwarded: &yes},
			[]string{"headers.trust_forwarded was removed", "headers.http.trust: [ssl_client_cert]", "headers.grpc.trust: [xfcc]", "SANITIZE_SET"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			cfg.Headers = tc.headers
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	t.Run("proxies without a family are fine", func(t *testing.T) {
		cfg := config.Default()
		cfg.Trust.CAFiles = []string{"ca.pem"}
		cfg.Headers.GRPC.TrustedProxies = []string{"::1", "10.0.0.0/8"}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTheRemovedTrustForwardedKeyIsRefusedWithTheNewKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte("trust:\n  ca_files: [ca.pem]\nheaders:\n  trust_forwarded: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "headers.trust_forwarded was removed") {
		t.Errorf("Validate: %v", err)
	}
}
