package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/trust"
)

// listFlag is a repeatable flag that also accepts comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Type is the value's name in help, for a flag whose usage names none.
func (l *listFlag) Type() string { return "strings" }
func (l *listFlag) Set(v string) error {
	*l = append(*l, config.SplitList(v)...)
	return nil
}

// configFlags are the flags that override the config file and environment.
type configFlags struct {
	file           string
	grpcListen     string
	httpListen     string
	metricsListen  string
	cas            listFlag
	intermediates  listFlag
	crls           listFlag
	crlMode        string
	policyDir      string
	httpTrust      listFlag
	httpProxies    listFlag
	grpcTrust      listFlag
	grpcProxies    listFlag
	trustForwarded bool // removed: refused with what replaces it
	logLevel       string
	logFormat      string
	adminListen    string // serve only: see registerServe
	tlsCert        string // serve only
	tlsKey         string // serve only
	tlsClientCAs   listFlag
	allowedPeers   listFlag
	shadowDir      string // serve only
}

func (f *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "config", "", "YAML config `file`")
	fs.StringVar(&f.grpcListen, "grpc-listen", "", "ext_authz gRPC listen `address`")
	fs.StringVar(&f.httpListen, "http-listen", "", "HTTP check listen `address` (\"off\" disables it)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "metrics listen `address` (\"off\" disables it; default "+config.DefaultMetricsListen+")")
	fs.Var(&f.cas, "ca", "CA certificate `file` (repeatable)")
	fs.Var(&f.intermediates, "intermediate", "intermediate CA certificate `file` (repeatable)")
	fs.Var(&f.crls, "crl", "CRL `file`, PEM or DER (repeatable)")
	fs.StringVar(&f.crlMode, "crl-mode", "", "revocation checking: full_chain, leaf or off")
	fs.StringVar(&f.policyDir, "policy-dir", "", "`dir`ectory of .rego and data files (default: the embedded policy)")
	fs.Var(&f.httpTrust, "http-trust", "certificate header `families` the HTTP listener believes: ssl_client_cert, xfcc, client_cert (\"\" for none)")
	fs.Var(&f.httpProxies, "http-trusted-proxies", "`addresses` or CIDRs the HTTP listener believes certificate headers from")
	fs.Var(&f.grpcTrust, "grpc-trust", "certificate header `families` the gRPC listener believes (xfcc only behind Envoy's SANITIZE_SET)")
	fs.Var(&f.grpcProxies, "grpc-trusted-proxies", "`addresses` or CIDRs the gRPC listener believes certificate headers from")
	fs.BoolVar(&f.trustForwarded, "trust-forwarded-headers", false, "removed: use --http-trust and --grpc-trust")
	fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "", "json or text")
}

// load builds the configuration: defaults, then the file, then CERTGATE_*
// variables, then the flags that were set; then validates it.
func (f *configFlags) load(fs *flag.FlagSet, base config.Config) (config.Config, error) {
	cfg := base
	if f.file != "" {
		var err error
		if cfg, err = config.Load(f.file); err != nil {
			return cfg, err
		}
	}
	if err := config.ApplyEnv(&cfg, os.LookupEnv); err != nil {
		return cfg, err
	}
	var removed error
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "grpc-listen":
			cfg.Listen.GRPC = f.grpcListen
		case "http-listen":
			cfg.Listen.HTTP = f.httpListen
			if f.httpListen == "off" {
				cfg.Listen.HTTP = ""
			}
		case "metrics-listen":
			cfg.Listen.Metrics = f.metricsListen
			if f.metricsListen == "off" {
				cfg.Listen.Metrics = ""
			}
		case "ca":
			cfg.Trust.CAFiles = f.cas
		case "intermediate":
			cfg.Trust.IntermediateFiles = f.intermediates
		case "crl":
			cfg.Trust.CRLFiles = f.crls
		case "crl-mode":
			cfg.Trust.CRLMode = trust.CRLMode(f.crlMode)
		case "policy-dir":
			// The flag replaces the file's policy, a bundle's too.
			cfg.Policy.Dir, cfg.Policy.OPA = f.policyDir, nil
		case "http-trust":
			cfg.Headers.HTTP.Trust = f.httpTrust
		case "http-trusted-proxies":
			cfg.Headers.HTTP.TrustedProxies = f.httpProxies
		case "grpc-trust":
			cfg.Headers.GRPC.Trust = f.grpcTrust
		case "grpc-trusted-proxies":
			cfg.Headers.GRPC.TrustedProxies = f.grpcProxies
		case "trust-forwarded-headers":
			removed = errors.New("--trust-forwarded-headers was removed: header trust is set per listener, " +
				"--http-trust ssl_client_cert --http-trusted-proxies ADDR behind NGINX, --grpc-trust xfcc --grpc-trusted-proxies ADDR only behind an Envoy with SANITIZE_SET; see SECURITY.md")
		case "log-level":
			cfg.Log.Level = f.logLevel
		case "log-format":
			cfg.Log.Format = f.logFormat
		case "listen-tls-cert":
			cfg.Listen.TLS.CertFile = f.tlsCert
		case "listen-tls-key":
			cfg.Listen.TLS.KeyFile = f.tlsKey
		case "listen-tls-client-ca":
			cfg.Listen.TLS.ClientCAFiles = f.tlsClientCAs
		case "allowed-peers":
			cfg.Listen.AllowedPeers = f.allowedPeers
		case "policy-shadow-dir":
			cfg.Policy.Shadow.Dir = f.shadowDir
		case "admin-listen":
			cfg.Admin.Listen = f.adminListen
			if f.adminListen == "off" {
				cfg.Admin.Listen = ""
			}
		}
	})
	if removed != nil {
		return cfg, removed
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// newFlagSet returns a flag set that reports errors instead of exiting.
// Its usage, printed after a usage error the command finds itself, is the
// synopsis and where the full help is; cobra prints the help (cli.go).
// Run with a *flagProbe as stderr, it records the set, synopsis and
// examples in it.
func newFlagSet(name, synopsis, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: certgate %s\nRun 'certgate %s --help' for the flags and examples.\n", synopsis, name)
	}
	if p, ok := stderr.(*flagProbe); ok {
		p.fs, p.synopsis, p.examples = fs, synopsis, examples
	}
	return fs
}

// parseFlags parses args and maps -h to exit 0 and other errors to exit 2;
// ok is false when the caller should return code. Under a *flagProbe it
// parses nothing and returns ok false: the command ends there.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if _, probing := fs.Output().(*flagProbe); probing {
		return exitOK, false
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return exitOK, true
}

func quote(s string) string { return strconv.Quote(s) }
