package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/config"
)

func TestListenTLSAndAllowedPeersAreValidated(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*config.Listen)
		want string // "" is valid
	}{
		{"TLS with certificate, key and client CA is valid", func(l *config.Listen) {
			l.TLS = config.ListenTLS{CertFile: "s.pem", KeyFile: "s.key", ClientCAFiles: []string{"proxy-ca.pem"}}
		}, ""},
		{"TLS without a client CA is refused", func(l *config.Listen) {
			l.TLS = config.ListenTLS{CertFile: "s.pem", KeyFile: "s.key"}
		}, "listen.tls.client_ca_files"},
		{"TLS without a key is refused", func(l *config.Listen) {
			l.TLS = config.ListenTLS{CertFile: "s.pem", ClientCAFiles: []string{"proxy-ca.pem"}}
		}, "listen.tls: set both cert_file and key_file"},
		{"a client CA alone is refused", func(l *config.Listen) {
			l.TLS = config.ListenTLS{ClientCAFiles: []string{"proxy-ca.pem"}}
		}, "listen.tls: set both cert_file and key_file"},
		{"addresses and prefixes are allowed peers", func(l *config.Listen) { l.AllowedPeers = []string{"10.0.0.5", "fd00::/8"} }, ""},
		{"a host name is not an allowed peer", func(l *config.Listen) { l.AllowedPeers = []string{"envoy.local"} }, "listen.allowed_peers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Trust.CAFiles = []string{"ca.pem"}
			tt.set(&cfg.Listen)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestOpenDataListenersAreTheOnesAnyHostCanAsk(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*config.Listen)
		want []string
	}{
		{"the loopback defaults are not open", func(*config.Listen) {}, nil},
		{"localhost and ::1 are not open", func(l *config.Listen) { l.GRPC, l.HTTP = "localhost:1", "[::1]:2" }, nil},
		{"an empty host binds every address", func(l *config.Listen) { l.GRPC = ":9191" }, []string{"listen.grpc"}},
		{"0.0.0.0 and a LAN address are open", func(l *config.Listen) { l.GRPC, l.HTTP = "0.0.0.0:1", "10.1.2.3:2" }, []string{"listen.grpc", "listen.http"}},
		{"a host name may resolve anywhere", func(l *config.Listen) { l.HTTP = "certgate.internal:9192" }, []string{"listen.http"}},
		{"a listener that is off is not open", func(l *config.Listen) { l.GRPC, l.HTTP = "", ":9192" }, []string{"listen.http"}},
		{"allowed_peers closes them", func(l *config.Listen) { l.GRPC, l.AllowedPeers = ":9191", []string{"10.0.0.0/8"} }, nil},
		{"TLS closes them", func(l *config.Listen) {
			l.GRPC, l.TLS = ":9191", config.ListenTLS{CertFile: "s.pem", KeyFile: "s.key", ClientCAFiles: []string{"ca.pem"}}
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := config.Default().Listen
			tt.set(&l)
			if diff := cmp.Diff(tt.want, l.OpenDataListeners()); diff != "" {
				t.Errorf("OpenDataListeners (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListenTLSPathsAreRelativeToTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	yaml := "trust:\n  ca_files: [ca.pem]\nlisten:\n  allowed_peers: [10.0.0.5]\n  tls:\n    cert_file: tls/s.pem\n    key_file: tls/s.key\n    client_ca_files: [tls/proxy-ca.pem]\n"
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := config.ListenTLS{CertFile: filepath.Join(dir, "tls/s.pem"), KeyFile: filepath.Join(dir, "tls/s.key"), ClientCAFiles: []string{filepath.Join(dir, "tls/proxy-ca.pem")}}
	if diff := cmp.Diff(want, cfg.Listen.TLS); diff != "" {
		t.Errorf("listen.tls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"10.0.0.5"}, cfg.Listen.AllowedPeers); diff != "" {
		t.Errorf("listen.allowed_peers (-want +got):\n%s", diff)
	}
}
