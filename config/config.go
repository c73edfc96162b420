package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/certgate/certgate/trust"
)

// Config is the whole configuration of `certgate serve`.
type Config struct {
	Listen  Listen  `yaml:"listen"`
	Trust   Trust   `yaml:"trust"`
	Headers Headers `yaml:"headers"`
	Policy  Policy  `yaml:"policy"`
	Log     Log     `yaml:"log"`
}

// Listen holds the listener addresses.
type Listen struct {
	// GRPC serves Envoy's ext_authz v3 Check, gRPC health and reflection.
	GRPC string `yaml:"grpc"`
	// HTTP serves the NGINX auth_request endpoint, /healthz and /readyz; empty disables it.
	HTTP string `yaml:"http"`
}

// Trust names the CA, intermediate and CRL files and the CRL mode.
type Trust struct {
	CAFiles           []string      `yaml:"ca_files"`
	IntermediateFiles []string      `yaml:"intermediate_files"`
	CRLFiles          []string      `yaml:"crl_files"`
	CRLMode           trust.CRLMode `yaml:"crl_mode"`
}

// Headers says whether forwarded certificate headers are believed.
type Headers struct {
	// TrustForwarded makes certgate read ssl-client-cert (with
	// ssl-client-verify), x-forwarded-client-cert and client-cert. Only safe when
	// the proxy in front overwrites those headers on every request.
	TrustForwarded bool `yaml:"trust_forwarded"`
}

// Policy locates the Rego policy and its data.
type Policy struct {
	// Dir holds .rego and data files; empty means the embedded default policy.
	Dir string `yaml:"dir"`
}

// Log configures the service log and decision log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Default returns the configuration used when nothing else is said.
func Default() Config {
	return Config{
		Listen: Listen{GRPC: "127.0.0.1:9191", HTTP: "127.0.0.1:9192"},
		Log:    Log{Level: "info", Format: "json"},
	}
}

// Load reads a YAML file over the defaults; unknown keys are errors.
func Load(path string) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	if err := Parse(data, &cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML into cfg, rejecting unknown keys and trailing documents.
func Parse(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file keeps the defaults
		}
		return err
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return errors.New("more than one YAML document")
	}
	return nil
}

// The environment variables ApplyEnv reads. List values are comma-separated.
const (
	EnvGRPCListen     = "CERTGATE_GRPC_LISTEN"
	EnvHTTPListen     = "CERTGATE_HTTP_LISTEN"
	EnvCAFiles        = "CERTGATE_CA_FILES"
	EnvIntermediates  = "CERTGATE_INTERMEDIATE_FILES"
	EnvCRLFiles       = "CERTGATE_CRL_FILES"
	EnvCRLMode        = "CERTGATE_CRL_MODE"
	EnvPolicyDir      = "CERTGATE_POLICY_DIR"
	EnvTrustForwarded = "CERTGATE_TRUST_FORWARDED_HEADERS"
	EnvLogLevel       = "CERTGATE_LOG_LEVEL"
	EnvLogFormat      = "CERTGATE_LOG_FORMAT"
)

// ApplyEnv overrides cfg with the CERTGATE_* variables that lookup finds
// (pass os.LookupEnv). A set but empty list variable clears the list.
func ApplyEnv(cfg *Config, lookup func(string) (string, bool)) error {
	str := map[string]*string{
		EnvGRPCListen: &cfg.Listen.GRPC,
		EnvHTTPListen: &cfg.Listen.HTTP,
		EnvPolicyDir:  &cfg.Policy.Dir,
		EnvLogLevel:   &cfg.Log.Level,
		EnvLogFormat:  &cfg.Log.Format,
	}
	for name, dst := range str {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	lists := map[string]*[]string{
		EnvCAFiles:       &cfg.Trust.CAFiles,
		EnvIntermediates: &cfg.Trust.IntermediateFiles,
		EnvCRLFiles:      &cfg.Trust.CRLFiles,
	}
	for name, dst := range lists {
		if v, ok := lookup(name); ok {
			*dst = SplitList(v)
		}
	}
	if v, ok := lookup(EnvCRLMode); ok {
		cfg.Trust.CRLMode = trust.CRLMode(v)
	}
	if v, ok := lookup(EnvTrustForwarded); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want true or false", EnvTrustForwarded, v)
		}
		cfg.Headers.TrustForwarded = b
	}
	return nil
}

// SplitList splits a comma-separated list, dropping empty items.
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Validate reports every problem of cfg at once.
func (c Config) Validate() error {
	var errs []error
	if c.Listen.GRPC == "" && c.Listen.HTTP == "" {
		errs = append(errs, errors.New("listen: set grpc, http or both"))
	}
	for name, addr := range map[string]string{"listen.grpc": c.Listen.GRPC, "listen.http": c.Listen.HTTP} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, addr, err))
		}
	}
	if len(c.Trust.CAFiles) == 0 {
		errs = append(errs, errors.New("trust.ca_files: at least one CA file is required"))
	}
	if c.Trust.CRLMode != "" {
		if err := c.Trust.CRLMode.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("trust.crl_mode: %w", err))
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log.format %q: want json or text", c.Log.Format))
	}
	return errors.Join(errs...)
}

// TrustConfig is the trust.Config the Trust section describes.
func (c Config) TrustConfig() trust.Config {
	return trust.Config{
		CAFiles:           c.Trust.CAFiles,
		IntermediateFiles: c.Trust.IntermediateFiles,
		CRLFiles:          c.Trust.CRLFiles,
		CRLMode:           c.Trust.CRLMode,
	}
}
