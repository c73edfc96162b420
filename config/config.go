package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/certgate/certgate/duration"
	"github.com/certgate/certgate/trust"
)

// Config is the whole configuration of `certgate serve`.
type Config struct {
	Listen      Listen      `yaml:"listen"`
	Trust       Trust       `yaml:"trust"`
	Headers     Headers     `yaml:"headers"`
	Policy      Policy      `yaml:"policy"`
	Log         Log         `yaml:"log"`
	DecisionLog DecisionLog `yaml:"decision_log"`
	Reload      Reload      `yaml:"reload"`
	Admin       Admin       `yaml:"admin"`
	Cache       Cache       `yaml:"cache"`
}

// Listen holds the listener addresses.
type Listen struct {
	// GRPC serves Envoy's ext_authz v3 Check and gRPC health (and
	// reflection, with GRPCReflection).
	GRPC string `yaml:"grpc"`
	// HTTP serves the NGINX auth_request endpoint, /healthz and /readyz;
	// empty disables it.
	HTTP string `yaml:"http"`
	// Metrics serves /metrics (and /healthz, /readyz) on a listener of its
	// own, never on the data listeners; empty disables it.
	Metrics string `yaml:"metrics"`
	// GRPCReflection registers gRPC server reflection on the ext_authz
	// listener, where it lists the services to any client; off by default.
	GRPCReflection bool `yaml:"grpc_reflection"`
	// NameMissingPermission makes 403 bodies name the permission the
	// request lacked, which lets any client map the route table; off by
	// default (the decision log names it either way).
	NameMissingPermission bool `yaml:"name_missing_permission"`
	// ShutdownGrace is how long in-flight calls may take to finish after
	// SIGTERM before the listeners are closed hard.
	ShutdownGrace duration.Duration `yaml:"shutdown_grace"`
	// TLS, when set, serves the data listeners over TLS and requires a
	// client certificate of the proxy (listen.go).
	TLS ListenTLS `yaml:"tls"`
	// AllowedPeers are the addresses or CIDR prefixes that may ask the
	// data listeners; another peer's check is denied with 403
	// peer_not_allowed. None allows every peer.
	AllowedPeers []string `yaml:"allowed_peers"`
}

// Trust names the CA, intermediate and CRL files and the CRL mode.
type Trust struct {
	CAFiles           []string      `yaml:"ca_files"`
	IntermediateFiles []string      `yaml:"intermediate_files"`
	CRLFiles          []string      `yaml:"crl_files"`
	CRLMode           trust.CRLMode `yaml:"crl_mode"`
	// OnStaleCRL is what a CRL past its nextUpdate means: deny (401, the
	// default) or warn (keep using it, log and count every such decision).
	OnStaleCRL trust.StaleCRLPolicy `yaml:"on_stale_crl"`
	// CRLWarnBefore is how long before a CRL's nextUpdate certgate starts
	// warning that it needs renewing.
	CRLWarnBefore duration.Duration `yaml:"crl_warn_before"`
	// CABindings limit the users and groups a CA may assert (see
	// CABinding); a CA without one may assert any.
	CABindings []CABinding `yaml:"ca_bindings"`
	// Profile is compatible (the default: what the common openssl
	// recipes make passes) or strict (RFC 5280's MUSTs for conforming
	// CAs too); docs/validation.md lists the rules.
	Profile trust.Profile `yaml:"profile"`
	// MaxChainDepth is the most intermediate CAs between a client
	// certificate and a configured CA, as NGINX's ssl_verify_depth
	// counts them; unset means no limit.
	MaxChainDepth *int `yaml:"max_chain_depth"`
	// CRLFetch: crl_urls, crl_refresh, crl_cache_dir, … (crlfetch.go).
	CRLFetch `yaml:",inline"`
}

// Policy locates the Rego policy and its data.
type Policy struct {
	// Dir holds .rego and data files; empty means the embedded default
	// policy (unless OPA is set).
	Dir string `yaml:"dir"`
	// Shadow is a second policy evaluated beside the serving one, which
	// never changes a decision (docs/architecture.md, Shadow policy).
	Shadow ShadowPolicy `yaml:"shadow"`
	// OPA downloads the policy and data as an OPA bundle instead, in OPA's
	// own configuration schema: services, bundles, keys and
	// persistence_directory (package bundles reads it). Set Dir or OPA,
	// not both.
	OPA map[string]any `yaml:"opa,omitempty"`
}

// ShadowPolicy locates the shadow policy.
type ShadowPolicy struct {
	// Dir holds the shadow's .rego and data files; empty means none.
	Dir string `yaml:"dir"`
}

// validate refuses two policies at once; package bundles checks the
// opa section itself when certgate starts.
func (p Policy) validate() error {
	if p.Dir != "" && p.OPA != nil {
		return errors.New("policy: set dir (files) or opa (bundles), not both")
	}
	return nil
}

// Log configures the service log and decision log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// DecisionLog configures the one-JSON-line-per-decision log.
type DecisionLog struct {
	// Output is "stdout", "stderr", "off" or a file path (appended to).
	Output string `yaml:"output"`
	// SampleAllowed is the fraction of allowed decisions logged, 0 to 1.
	SampleAllowed float64 `yaml:"sample_allowed"`
	// DenyRate and DenyBurst limit the lines of denied decisions, per
	// cause, to DenyRate a second after a burst of DenyBurst; the rest
	// are counted in certgate_decision_log_dropped_total. A DenyRate of 0
	// logs every denial.
	DenyRate  float64 `yaml:"deny_rate"`
	DenyBurst int     `yaml:"deny_burst"`
	// QueryValues logs the request's query with its values; by default
	// only its keys are logged, since values often carry tokens.
	QueryValues bool `yaml:"query_values"`
}

// Reload configures reloading on file changes.
type Reload struct {
	// Watch reloads when a CA, CRL or policy file changes on disk.
	Watch bool `yaml:"watch"`
	// Debounce waits this long after the last change before reloading, so
	// that a file written in several steps is read once, whole.
	Debounce duration.Duration `yaml:"debounce"`
}

// Admin configures the admin API (status, reload, explain).
type Admin struct {
	// Listen is "unix:PATH" (the default), a "host:port" with CertFile and
	// KeyFile, or empty to disable the admin API.
	Listen string `yaml:"listen"`
	// CertFile and KeyFile turn on TLS on a TCP admin listener, which needs
	// them, and require a client certificate that the policy's admin rule
	// (data.certgate.admin.allow) allows.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// DefaultMetricsListen is where /metrics is served unless told otherwise.
const DefaultMetricsListen = "127.0.0.1:9193"

// Default returns the configuration used when nothing else is said.
func Default() Config {
	return Config{
		Listen: Listen{GRPC: "127.0.0.1:9191", HTTP: "127.0.0.1:9192", Metrics: DefaultMetricsListen, ShutdownGrace: duration.Duration(10 * time.Second)},
		Trust:  Trust{OnStaleCRL: trust.StaleCRLDeny, CRLWarnBefore: duration.Duration(duration.Day), CRLFetch: defaultCRLFetch()},
		// The check endpoint reads nothing but Ssl-Client-Cert: it believes
		// it from a proxy on this host, the one the default 127.0.0.1
		// listener can be reached from. gRPC believes no header.
		Headers: Headers{
			HTTP: ListenerHeaders{Trust: []string{"ssl_client_cert"}, TrustedProxies: []string{"127.0.0.1/32", "::1/128"}},
			GRPC: ListenerHeaders{Trust: []string{}, TrustedProxies: []string{}},
		},
		Log:         Log{Level: "info", Format: "json"},
		DecisionLog: DecisionLog{Output: "stdout", SampleAllowed: 1, DenyRate: 50, DenyBurst: 100},
		Reload:      Reload{Watch: true, Debounce: duration.Duration(500 * time.Millisecond)},
		Admin:       Admin{Listen: adminListen()},
	}
}

// Load reads a YAML file over the defaults; unknown keys are errors, and
// relative paths are relative to the file's directory (ResolvePaths).
func Load(path string) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	if err := Parse(data, &cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.ResolvePaths(filepath.Dir(path))
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
	EnvGRPCListen    = "CERTGATE_GRPC_LISTEN"
	EnvHTTPListen    = "CERTGATE_HTTP_LISTEN"
	EnvMetricsListen = "CERTGATE_METRICS_LISTEN"
	EnvCAFiles       = "CERTGATE_CA_FILES"
	EnvIntermediates = "CERTGATE_INTERMEDIATE_FILES"
	EnvCRLFiles      = "CERTGATE_CRL_FILES"
	EnvCRLURLs       = "CERTGATE_CRL_URLS"
	EnvCRLMode       = "CERTGATE_CRL_MODE"
	EnvPolicyDir     = "CERTGATE_POLICY_DIR"
	EnvHTTPTrust     = "CERTGATE_HTTP_TRUST"
	EnvHTTPProxies   = "CERTGATE_HTTP_TRUSTED_PROXIES"
	EnvGRPCTrust     = "CERTGATE_GRPC_TRUST"
	EnvGRPCProxies   = "CERTGATE_GRPC_TRUSTED_PROXIES"
	// EnvTrustForwarded was removed with headers.trust_forwarded; setting
	// it is an error naming the variables that replace it.
	EnvTrustForwarded = "CERTGATE_TRUST_FORWARDED_HEADERS"
	EnvLogLevel       = "CERTGATE_LOG_LEVEL"
	EnvLogFormat      = "CERTGATE_LOG_FORMAT"
	EnvOnStaleCRL     = "CERTGATE_ON_STALE_CRL"
	EnvDecisionLog    = "CERTGATE_DECISION_LOG"
	EnvAdminListen    = "CERTGATE_ADMIN_LISTEN"
	// EnvListenTLSCert, EnvListenTLSKey and EnvListenTLSClientCAs are
	// listen.tls's cert_file, key_file and client_ca_files.
	EnvListenTLSCert      = "CERTGATE_LISTEN_TLS_CERT_FILE"
	EnvListenTLSKey       = "CERTGATE_LISTEN_TLS_KEY_FILE"
	EnvListenTLSClientCAs = "CERTGATE_LISTEN_TLS_CLIENT_CA_FILES"
	EnvAllowedPeers       = "CERTGATE_ALLOWED_PEERS"
	EnvPolicyShadowDir    = "CERTGATE_POLICY_SHADOW_DIR"
)

// ApplyEnv overrides cfg with the CERTGATE_* variables that lookup finds
// (pass os.LookupEnv). A set but empty list variable clears the list.
func ApplyEnv(cfg *Config, lookup func(string) (string, bool)) error {
	str := map[string]*string{
		EnvGRPCListen:      &cfg.Listen.GRPC,
		EnvHTTPListen:      &cfg.Listen.HTTP,
		EnvMetricsListen:   &cfg.Listen.Metrics,
		EnvPolicyDir:       &cfg.Policy.Dir,
		EnvLogLevel:        &cfg.Log.Level,
		EnvLogFormat:       &cfg.Log.Format,
		EnvDecisionLog:     &cfg.DecisionLog.Output,
		EnvAdminListen:     &cfg.Admin.Listen,
		EnvListenTLSCert:   &cfg.Listen.TLS.CertFile,
		EnvListenTLSKey:    &cfg.Listen.TLS.KeyFile,
		EnvPolicyShadowDir: &cfg.Policy.Shadow.Dir,
	}
	for name, dst := range str {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	lists := map[string]*[]string{
		EnvCAFiles:            &cfg.Trust.CAFiles,
		EnvIntermediates:      &cfg.Trust.IntermediateFiles,
		EnvCRLFiles:           &cfg.Trust.CRLFiles,
		EnvCRLURLs:            &cfg.Trust.URLs,
		EnvHTTPTrust:          &cfg.Headers.HTTP.Trust,
		EnvHTTPProxies:        &cfg.Headers.HTTP.TrustedProxies,
		EnvGRPCTrust:          &cfg.Headers.GRPC.Trust,
		EnvGRPCProxies:        &cfg.Headers.GRPC.TrustedProxies,
		EnvListenTLSClientCAs: &cfg.Listen.TLS.ClientCAFiles,
		EnvAllowedPeers:       &cfg.Listen.AllowedPeers,
	}
	for name, dst := range lists {
		if v, ok := lookup(name); ok {
			*dst = SplitList(v)
		}
	}
	if _, ok := lookup(EnvPolicyDir); ok {
		cfg.Policy.OPA = nil // the variable replaces the file's policy, a bundle's too
	}
	if v, ok := lookup(EnvCRLMode); ok {
		cfg.Trust.CRLMode = trust.CRLMode(v)
	}
	if v, ok := lookup(EnvOnStaleCRL); ok {
		cfg.Trust.OnStaleCRL = trust.StaleCRLPolicy(v)
	}
	if _, ok := lookup(EnvTrustForwarded); ok {
		return fmt.Errorf("%s was removed: set %s and %s (NGINX: ssl_client_cert, and its addresses), or %s and %s (Envoy with SANITIZE_SET: xfcc); see SECURITY.md",
			EnvTrustForwarded, EnvHTTPTrust, EnvHTTPProxies, EnvGRPCTrust, EnvGRPCProxies)
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
	for name, addr := range map[string]string{"listen.grpc": c.Listen.GRPC, "listen.http": c.Listen.HTTP, "listen.metrics": c.Listen.Metrics} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, addr, err))
		}
	}
	if m := c.Listen.Metrics; m != "" && !strings.HasSuffix(m, ":0") && (m == c.Listen.HTTP || m == c.Listen.GRPC) {
		errs = append(errs, fmt.Errorf("listen.metrics %q: must differ from listen.grpc and listen.http (metrics have a listener of their own)", m))
	}
	if len(c.Trust.CAFiles) == 0 {
		errs = append(errs, errors.New("trust.ca_files: at least one CA file is required"))
	}
	if c.Trust.CRLMode != "" {
		if err := c.Trust.CRLMode.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("trust.crl_mode: %w", err))
		}
	}
	if err := c.Trust.OnStaleCRL.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("trust.on_stale_crl: %w", err))
	}
	errs = append(errs, c.Trust.validateBindings()...)
	if err := c.Trust.Profile.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("trust.profile: %w", err))
	}
	if d := c.Trust.MaxChainDepth; d != nil && *d < 0 {
		errs = append(errs, fmt.Errorf("trust.max_chain_depth %d: must not be negative", *d))
	}
	errs = append(errs, c.Trust.validateFetch()...)
	if c.Trust.CRLWarnBefore < 0 {
		errs = append(errs, errors.New("trust.crl_warn_before: must not be negative"))
	}
	errs = append(errs, c.Listen.validateDataAccess()...)
	if c.Listen.ShutdownGrace < 0 {
		errs = append(errs, errors.New("listen.shutdown_grace: must not be negative"))
	}
	if c.DecisionLog.SampleAllowed < 0 || c.DecisionLog.SampleAllowed > 1 {
		errs = append(errs, fmt.Errorf("decision_log.sample_allowed %v: want a fraction from 0 to 1", c.DecisionLog.SampleAllowed))
	}
	if c.DecisionLog.DenyRate < 0 {
		errs = append(errs, fmt.Errorf("decision_log.deny_rate %v: want lines per second, or 0 for no limit", c.DecisionLog.DenyRate))
	}
	if c.DecisionLog.DenyRate > 0 && c.DecisionLog.DenyBurst < 1 {
		errs = append(errs, fmt.Errorf("decision_log.deny_burst %d: want at least 1 with a deny_rate", c.DecisionLog.DenyBurst))
	}
	if c.DecisionLog.Output == "" {
		errs = append(errs, errors.New(`decision_log.output: want stdout, stderr, off or a file path`))
	}
	errs = append(errs, c.Policy.validate()) // errors.Join drops a nil
	if c.Reload.Debounce < 0 {
		errs = append(errs, errors.New("reload.debounce: must not be negative"))
	}
	if err := c.Admin.validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Headers.validate()...)
	errs = append(errs, c.Cache.Verdicts.validate()...)
	errs = append(errs, c.Cache.Decisions.validate()...)
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
		OnStaleCRL:        c.Trust.OnStaleCRL,
		Bindings:          c.Trust.bindings(),
		Profile:           c.Trust.Profile,
		MaxChainDepth:     c.Trust.MaxChainDepth,
		FetchesCRLs:       c.Trust.Fetches(),
	}
}

// AdminAddress splits Admin.Listen into a network ("unix" or "tcp") and an
// address.
func (a Admin) AdminAddress() (network, address string) {
	if path, ok := strings.CutPrefix(a.Listen, "unix:"); ok {
		return "unix", path
	}
	return "tcp", a.Listen
}

// validate refuses an admin API that anyone who can connect may use: a
// TCP address, loopback included (every local user can reach it), needs
// TLS with client certificates; a Unix socket is guarded by its file
// permissions.
func (a Admin) validate() error {
	if a.Listen == "" {
		return nil
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		return errors.New("admin: set both cert_file and key_file, or neither")
	}
	network, addr := a.AdminAddress()
	if network == "unix" {
		if addr == "" {
			return errors.New("admin.listen: unix: needs a socket path")
		}
		if a.CertFile != "" {
			return errors.New("admin: cert_file needs a TCP admin.listen; a Unix socket is protected by its file permissions")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("admin.listen %q: want unix:PATH or host:port: %w", a.Listen, err)
	}
	if a.CertFile == "" {
		return fmt.Errorf("admin.listen %q: a TCP admin listener needs cert_file and key_file (TLS, and client certificates the policy's data.certgate.admin.allow admits), even on loopback, where every local user could reach it; use unix:PATH otherwise", a.Listen)
	}
	return nil
}
