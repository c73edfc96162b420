package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certgate/certgate/config"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// adminFlags locate and authenticate to a running certgate's admin API.
type adminFlags struct {
	address, configFile string
	cert, key, ca       string
	timeout             time.Duration
	json                bool
}

func (f *adminFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.address, "admin", "", "admin API `address`: unix:PATH or host:port (default: $"+config.EnvAdminListen+
		", the config's admin.listen, .certgate-dev/admin.sock when it exists, else serve's default: "+
		config.DefaultAdminSocket+" for root, $"+config.EnvXDGRuntimeDir+"/certgate/admin.sock for others; here "+config.Default().Admin.Listen+")")
	fs.StringVar(&f.configFile, "config", "", "read admin.listen (and its TLS files) from this config `file`")
	fs.StringVar(&f.cert, "admin-cert", "", "client certificate `file` for a TLS admin listener")
	fs.StringVar(&f.key, "admin-key", "", "client key `file` for a TLS admin listener")
	fs.StringVar(&f.ca, "admin-ca", "", "CA `file` that signed the admin listener's server certificate")
	durationVar(fs, &f.timeout, "timeout", 10*time.Second, "how long to wait for an answer")
	fs.BoolVar(&f.json, "json", false, "print the response as JSON")
}

// target resolves the admin address to dial.
func (f *adminFlags) target() (string, error) {
	if f.address != "" {
		return f.address, nil
	}
	if v, ok := os.LookupEnv(config.EnvAdminListen); ok && v != "" {
		return v, nil
	}
	if f.configFile != "" {
		cfg, err := config.Load(f.configFile)
		if err != nil {
			return "", err
		}
		if cfg.Admin.Listen == "" {
			return "", errors.New("the admin API is disabled in " + f.configFile)
		}
		return cfg.Admin.Listen, nil
	}
	dev := filepath.Join(".certgate-dev", "admin.sock")
	if fi, err := os.Stat(dev); err == nil && fi.Mode()&os.ModeSocket != 0 {
		return "unix:" + dev, nil
	}
	return config.Default().Admin.Listen, nil
}

// dial connects to the admin API.
func (f *adminFlags) dial() (adminv1.AdminServiceClient, func(), error) {
	target, err := f.target()
	if err != nil {
		return nil, nil, err
	}
	creds := insecure.NewCredentials()
	if f.cert != "" || f.key != "" || f.ca != "" {
		tc, err := f.tlsConfig()
		if err != nil {
			return nil, nil, err
		}
		creds = credentials.NewTLS(tc)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if path, ok := strings.CutPrefix(target, "unix:"); ok {
		opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}))
		target = "passthrough:///certgate-admin"
	} else {
		target = "passthrough:///" + target
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("admin API at %s: %w", target, err)
	}
	return adminv1.NewAdminServiceClient(conn), func() { _ = conn.Close() }, nil
}

func (f *adminFlags) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.cert != "" {
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("admin client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if f.ca != "" {
		pemData, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("admin CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("admin CA: no certificate in %s", f.ca)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// describeAdminError turns a dial or RPC failure into advice.
func describeAdminError(target string, err error) string {
	msg := err.Error()
	if strings.Contains(msg, "no such file") || strings.Contains(msg, "connection refused") {
		return fmt.Sprintf("cannot reach the admin API at %s (is certgate running? pass --admin or --config): %v", target, err)
	}
	return msg
}
