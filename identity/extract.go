package identity

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Limits on what a forwarded certificate may cost.
const (
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxChainLength = 10
)

// Options controls which forwarded headers are believed. The zero value trusts none.
type Options struct {
	TrustForwardedHeaders bool
	MaxHeaderBytes        int
	MaxChainLength        int
}

// Presented is the chain a proxy forwarded, leaf first, with where it came from.
type Presented struct {
	Chain  []*x509.Certificate
	Source Source
}

// Errors a caller branches on; every parse failure wraps ErrMalformed.
var (
	ErrNoCertificate     = errors.New("no client certificate presented")
	ErrMalformed         = errors.New("malformed client certificate")
	ErrProxyVerifyFailed = errors.New("proxy did not verify the client certificate")
)

// ForwardedCertHeaders lists the lower-case names of every header that
// carries a client certificate or a proxy's verdict on one.
var ForwardedCertHeaders = []string{
	"ssl-client-cert", "ssl-client-verify", "ssl-client-s-dn", "ssl-client-i-dn",
	"ssl-client-serial", "ssl-client-fingerprint", "x-forwarded-client-cert",
	"client-cert", "client-cert-chain", "x-ssl-client-cert",
}

// Extract finds the client certificate of a request: Envoy's peer
// certificate first; then, only when forwarded headers are trusted,
// ssl-client-cert (with ssl-client-verify: SUCCESS), x-forwarded-client-cert
// (the nearest hop) and the RFC 9440 client-cert / client-cert-chain pair, in
// that order. Untrusted headers are ignored, not an error.
func Extract(envoyCert string, headers map[string]string, opts Options) (Presented, error) {
	if envoyCert != "" {
		chain, err := decodeLimited(envoyCert, opts, 1)
		if err != nil {
			return Presented{}, fmt.Errorf("envoy peer certificate: %w", err)
		}
		return Presented{Chain: chain, Source: SourceEnvoy}, nil
	}
	if !opts.TrustForwardedHeaders {
		return Presented{}, ErrNoCertificate
	}
	if v, ok := headers["ssl-client-cert"]; ok && v != "" {
		if verdict := headers["ssl-client-verify"]; verdict != "SUCCESS" {
			return Presented{}, fmt.Errorf("%w: ssl-client-verify is %q", ErrProxyVerifyFailed, truncate(verdict, 40))
		}
		chain, err := decodeLimited(v, opts, 1)
		if err != nil {
			return Presented{}, fmt.Errorf("ssl-client-cert: %w", err)
		}
		return Presented{Chain: chain, Source: SourceHeader}, nil
	}
	if v, ok := headers["x-forwarded-client-cert"]; ok && v != "" {
		chain, err := fromXFCC(v, opts)
		if err != nil {
			return Presented{}, fmt.Errorf("x-forwarded-client-cert: %w", err)
		}
		return Presented{Chain: chain, Source: SourceXFCC}, nil
	}
	if v, ok := headers["client-cert"]; ok && v != "" {
		chain, err := fromRFC9440(v, headers["client-cert-chain"], opts)
		if err != nil {
			return Presented{}, err
		}
		return Presented{Chain: chain, Source: SourceHeader}, nil
	}
	return Presented{}, ErrNoCertificate
}

func checkSize(v string, opts Options) error {
	limit := opts.MaxHeaderBytes
	if limit == 0 {
		limit = DefaultMaxHeaderBytes
	}
	if len(v) > limit {
		return fmt.Errorf("%w: %d bytes, more than the limit of %d", ErrMalformed, len(v), limit)
	}
	return nil
}

func maxChain(opts Options) int {
	if opts.MaxChainLength > 0 {
		return opts.MaxChainLength
	}
	return DefaultMaxChainLength
}

func decodeLimited(v string, opts Options, maxCerts int) ([]*x509.Certificate, error) {
	if err := checkSize(v, opts); err != nil {
		return nil, err
	}
	return DecodeEscapedPEM(v, maxCerts)
}

// DecodeEscapedPEM decodes a URL-encoded PEM document into certificates.
// Percent-decoding happens exactly once and as a path component: '+' stays '+'.
func DecodeEscapedPEM(s string, maxCerts int) ([]*x509.Certificate, error) {
	raw, err := unescape(s)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	rest := raw
	for {
		trimmed := strings.TrimSpace(string(rest))
		if trimmed == "" {
			break
		}
		if !strings.HasPrefix(trimmed, "-----BEGIN ") {
			return nil, fmt.Errorf("%w: not PEM (data outside a PEM block)", ErrMalformed)
		}
		var block *pem.Block
		block, rest = pem.Decode([]byte(trimmed))
		if block == nil {
			return nil, fmt.Errorf("%w: unterminated or corrupt PEM block", ErrMalformed)
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("%w: a private key was sent instead of a certificate", ErrMalformed)
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: PEM block %q, want CERTIFICATE", ErrMalformed, block.Type)
		}
		if len(certs) == maxCerts {
			return nil, fmt.Errorf("%w: more than %d certificate(s)", ErrMalformed, maxCerts)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate", ErrMalformed)
	}
	return certs, nil
}

func unescape(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return nil, fmt.Errorf("%w: bad percent-escape at byte %d", ErrMalformed, i)
		}
		out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return out, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// New builds the Identity of a parsed certificate.
func New(cert *x509.Certificate, src Source) Identity {
	sum := sha256.Sum256(cert.Raw)
	id := Identity{
		User:              cert.Subject.CommonName,
		Groups:            nonNil(cert.Subject.Organization),
		OrgUnits:          nonNil(cert.Subject.OrganizationalUnit),
		Subject:           cert.Subject.String(),
		Issuer:            cert.Issuer.String(),
		FingerprintSHA256: hex.EncodeToString(sum[:]),
		SANs:              SANs{DNS: nonNil(cert.DNSNames), Email: nonNil(cert.EmailAddresses), IP: []string{}, URI: []string{}},
		NotBefore:         cert.NotBefore,
		NotAfter:          cert.NotAfter,
		Source:            src,
	}
	if cert.SerialNumber != nil {
		id.Serial = cert.SerialNumber.Text(16)
	}
	for _, ip := range cert.IPAddresses {
		id.SANs.IP = append(id.SANs.IP, ip.String())
	}
	for _, u := range cert.URIs {
		id.SANs.URI = append(id.SANs.URI, u.String())
		if id.SPIFFEID == "" && u.Scheme == "spiffe" {
			id.SPIFFEID = u.String()
		}
	}
	return id
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
