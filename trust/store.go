package trust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/certgate/certgate/pki"
)

// MaxChainLength is the most certificates Verify accepts in a presented
// chain, leaf included; longer chains are refused before any signature is
// checked. It matches identity.DefaultMaxChainLength.
const MaxChainLength = 10

// Store is an immutable set of CAs and CRLs.
type Store struct {
	roots, inters *x509.CertPool
	configured    []*x509.Certificate
	rootCerts     []*x509.Certificate
	interCerts    []*x509.Certificate
	crls          map[string][]*crlEntry // by raw issuer, newest first
	all           []*crlEntry            // in the order of the files
	// newest is the newest usable CRL of each issuer key (groupKey), and
	// groupOrder those keys in the order of the files: what CheckSuccessor
	// compares.
	newest     map[string]*crlEntry
	groupOrder []string
	// issued holds, by public key, the configured CA certificates that
	// another configured CA issued: the twins checkTwins looks up.
	issued  map[string][]issuedCA
	mode    CRLMode
	onStale StaleCRLPolicy
	// bindings are the Bindings by the key they bind (see keyID).
	bindings map[string][]boundKey
	// Path rules (paths.go, profile.go): the views crypto/x509 sees of
	// the configured CAs, which of those are self-signed, the profile and
	// the most intermediates allowed (-1: no limit).
	views        views
	signedBySelf map[*x509.Certificate]bool
	// anchors are the intermediates whose way up was verified at load
	// (anchors.go); nil when none is.
	anchors *anchoring
	// configuredRaw holds the DER of every configured CA.
	configuredRaw map[string]bool
	profile       Profile
	maxDepth      int
}

// Load reads the configured files and builds a Store.
func Load(cfg Config) (*Store, error) {
	roots, err := loadCerts(cfg.CAFiles)
	if err != nil {
		return nil, err
	}
	inters, err := loadCerts(cfg.IntermediateFiles)
	if err != nil {
		return nil, err
	}
	var crls []*x509.RevocationList
	var files []string
	for _, f := range cfg.CRLFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CRL: %w", err)
		}
		list, err := ParseCRLs(data)
		if err != nil {
			return nil, fmt.Errorf("CRL %s: %w", f, err)
		}
		for _, c := range list {
			crls = append(crls, c)
			files = append(files, f)
		}
	}
	for _, d := range cfg.CRLDocuments {
		list, err := ParseCRLs(d.Data)
		if err != nil {
			return nil, fmt.Errorf("CRL %s: %w", d.Name, err)
		}
		for _, c := range list {
			crls = append(crls, c)
			files = append(files, d.Name)
		}
	}
	mode := cfg.CRLMode
	if mode == "" {
		mode = CRLModeOff
		if len(crls) > 0 || cfg.FetchesCRLs {
			mode = CRLModeFullChain
		}
	}
	s, err := newStore(roots, inters, crls, files, mode, cfg.FetchesCRLs)
	if err != nil {
		return nil, err
	}
	if err := cfg.OnStaleCRL.Validate(); err != nil {
		return nil, err
	}
	s.onStale = cfg.OnStaleCRL
	if s.bindings, err = resolveBindings(cfg.Bindings, s.configured); err != nil {
		return nil, err
	}
	return s.applyPathConfig(cfg)
}

// WithBindings returns a copy of s that applies bindings (replacing any).
func (s *Store) WithBindings(bindings []Binding) (*Store, error) {
	resolved, err := resolveBindings(bindings, s.configured)
	if err != nil {
		return nil, err
	}
	c := *s
	c.bindings = resolved
	return &c, nil
}

// BindingFiles are the CA files named by the Bindings, which a reload
// watches too.
func (c Config) BindingFiles() []string {
	var out []string
	for _, b := range c.Bindings {
		if b.CAFile != "" {
			out = append(out, b.CAFile)
		}
	}
	return out
}

// WithStaleCRLPolicy returns a copy of s that applies p to stale CRLs.
func (s *Store) WithStaleCRLPolicy(p StaleCRLPolicy) (*Store, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := *s
	c.onStale = p
	return &c, nil
}

// NewStore builds a Store from parsed values.
func NewStore(roots, intermediates []*x509.Certificate, crls []*x509.RevocationList, mode CRLMode) (*Store, error) {
	return newStore(roots, intermediates, crls, make([]string, len(crls)), mode, false)
}

// newStore builds a Store; fetched says CRLs may still be on their way, so
// that a CRL mode without any CRL yet is no error.
func newStore(roots, inters []*x509.Certificate, crls []*x509.RevocationList, files []string, mode CRLMode, fetched bool) (*Store, error) {
	if err := mode.Validate(); err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return nil, errors.New("no CA certificate configured")
	}
	if mode != CRLModeOff && len(crls) == 0 && !fetched {
		return nil, fmt.Errorf("crl_mode %s needs at least one CRL file", mode)
	}
	s := &Store{roots: x509.NewCertPool(), inters: x509.NewCertPool(), crls: map[string][]*crlEntry{}, mode: mode, rootCerts: roots, interCerts: inters}
	s.index(roots, inters)
	s.anchors = s.anchor(roots, inters)
	s.configured = append(append([]*x509.Certificate{}, roots...), inters...)
	s.configuredRaw = make(map[string]bool, len(s.configured))
	for _, c := range s.configured {
		s.configuredRaw[string(c.Raw)] = true
	}
	for i, crl := range crls {
		e := &crlEntry{crl: crl, revoked: make(map[string]struct{}, len(crl.RevokedCertificateEntries)), file: files[i], unsupported: crlUnsupported(crl)}
		var named *x509.Certificate
		var err error
		if e.signers, named, err = crlSigners(crl, s.configured); err != nil {
			return nil, fmt.Errorf("CRL %s: signature does not verify with CA %q: %w", files[i], named.Subject, err)
		}
		var buf [33]byte
		for _, r := range crl.RevokedCertificateEntries {
			e.revoked[string(serialKey(r.SerialNumber, &buf))] = struct{}{}
		}
		s.crls[string(crl.RawIssuer)] = append(s.crls[string(crl.RawIssuer)], e)
		s.all = append(s.all, e)
	}
	if err := s.orderCRLs(); err != nil {
		return nil, err
	}
	s.issued = issuedCAs(s.configured)
	return s, nil
}

func loadCerts(files []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		certs, err := pki.ParseCertsPEM(data)
		if err != nil {
			return nil, certFileError("CA file", f, data, err)
		}
		for _, c := range certs {
			if err := checkCAFileCert("CA file", f, c); err != nil {
				return nil, err
			}
		}
		out = append(out, certs...)
	}
	return out, nil
}

// isConfigured reports whether c is one of the configured CAs, byte for
// byte.
func (s *Store) isConfigured(c *x509.Certificate) bool {
	return s.configuredRaw[string(c.Raw)]
}
