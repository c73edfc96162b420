package identity

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Limits on what a forwarded certificate may cost.
const (
	// DefaultMaxHeaderBytes is the largest certificate-carrying value
	// accepted when Options.MaxHeaderBytes is zero.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxChainLength is the most certificates in a presented chain
	// when Options.MaxChainLength is zero.
	DefaultMaxChainLength = 10
)

// Options controls which forwarded headers are believed. The zero value trusts none.
type Options struct {
	// TrustForwardedHeaders makes Extract read ssl-client-cert (with
	// ssl-client-verify), x-forwarded-client-cert and the RFC 9440
	// client-cert / client-cert-chain pair. Set it only when the proxy in
	// front overwrites those headers on every request.
	TrustForwardedHeaders bool
	// MaxHeaderBytes is the largest certificate-carrying header value
	// accepted; zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxChainLength is the most certificates in a presented chain, leaf
	// included; zero means DefaultMaxChainLength.
	MaxChainLength int
}

func (o Options) maxHeaderBytes() int {
	if o.MaxHeaderBytes > 0 {
		return o.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

func (o Options) maxChainLength() int {
	if o.MaxChainLength > 0 {
		return o.MaxChainLength
	}
	return DefaultMaxChainLength
}

// Presented is the chain a proxy forwarded, leaf first, with where it came from.
type Presented struct {
	Chain  []*x509.Certificate
	Source Source
}

// Errors a caller branches on.
var (
	// ErrNoCertificate means no client certificate was presented at all.
	ErrNoCertificate = errors.New("no client certificate presented")
	// ErrMalformed is wrapped by every parse failure: a certificate was
	// presented but could not be read.
	ErrMalformed = errors.New("malformed client certificate")
	// ErrProxyVerifyFailed means the proxy forwarded a certificate it did not
	// verify (ssl-client-verify is not SUCCESS).
	ErrProxyVerifyFailed = errors.New("proxy did not verify the client certificate")
)

// ForwardedCertHeaders lists the lower-case names of every header that
// carries a client certificate or a proxy's verdict on one, as NGINX,
// ingress-nginx, Envoy, HAProxy, Traefik, RFC 9440 and cloud load balancers
// name them. The server strips client-sent copies of these before forwarding.
var ForwardedCertHeaders = []string{
	"ssl-client-cert",
	"ssl-client-verify",
	"ssl-client-s-dn",
	"ssl-client-i-dn",
	"ssl-client-subject-dn",
	"ssl-client-issuer-dn",
	"ssl-client-serial",
	"ssl-client-fingerprint",
	"ssl-client-escaped-cert",
	"x-forwarded-client-cert",
	"client-cert",
	"client-cert-chain",
	"x-ssl-client-cert",
	"x-ssl-client-verify",
	"x-ssl-client-dn",
	"x-ssl-client-s-dn",
	"x-ssl-client-i-dn",
	"x-ssl-client-cn",
	"x-ssl-client-serial",
	"x-ssl-client-fingerprint",
	"x-client-cert",
	"x-client-verify",
	"x-forwarded-tls-client-cert",
	"x-forwarded-tls-client-cert-info",
	"x-amzn-mtls-clientcert",
	"x-amzn-mtls-clientcert-leaf",
}

// Extract finds the client certificate of a request.
//
// envoyCert is Envoy's CheckRequest.attributes.source.certificate, the
// URL-encoded PEM of the leaf, or empty. When it is set it wins and must hold
// exactly one certificate. Otherwise, and only when opts.TrustForwardedHeaders
// is set, the headers are read in this order: ssl-client-cert (which needs
// ssl-client-verify to be exactly SUCCESS), x-forwarded-client-cert (the last,
// nearest element), and RFC 9440 client-cert with client-cert-chain. Untrusted
// headers are ignored, not an error.
//
// headers has lower-case names. A certificate header sent twice arrives
// comma-joined and is malformed. The error wraps ErrNoCertificate,
// ErrProxyVerifyFailed or ErrMalformed.
func Extract(envoyCert string, headers map[string]string, opts Options) (Presented, error) {
	if envoyCert != "" {
		chain, err := decodeValue(envoyCert, opts, 1)
		if err != nil {
			return Presented{}, fmt.Errorf("envoy source.certificate: %w", err)
		}
		return Presented{Chain: chain, Source: SourceEnvoy}, nil
	}
	if !opts.TrustForwardedHeaders {
		return Presented{}, ErrNoCertificate
	}
	if v := headers["ssl-client-cert"]; v != "" {
		chain, err := fromSSLClientCert(v, headers, opts)
		if err != nil {
			return Presented{}, err
		}
		return Presented{Chain: chain, Source: SourceHeader}, nil
	}
	if v := headers["x-forwarded-client-cert"]; v != "" {
		chain, err := fromXFCC(v, opts)
		if err != nil {
			return Presented{}, fmt.Errorf("x-forwarded-client-cert: %w", err)
		}
		return Presented{Chain: chain, Source: SourceXFCC}, nil
	}
	if v := headers["client-cert"]; v != "" {
		chain, err := fromRFC9440(v, headers["client-cert-chain"], opts)
		if err != nil {
			return Presented{}, err
		}
		return Presented{Chain: chain, Source: SourceHeader}, nil
	}
	return Presented{}, ErrNoCertificate
}

// fromSSLClientCert reads NGINX's $ssl_client_escaped_cert, believed only
// when NGINX says it verified it.
func fromSSLClientCert(v string, headers map[string]string, opts Options) ([]*x509.Certificate, error) {
	verdict, ok := headers["ssl-client-verify"]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: ssl-client-verify is missing", ErrProxyVerifyFailed)
	case verdict != "SUCCESS":
		return nil, fmt.Errorf("%w: ssl-client-verify is %q", ErrProxyVerifyFailed, truncate(verdict))
	}
	if err := checkSize("ssl-client-cert", v, opts); err != nil {
		return nil, err
	}
	// An escaped PEM has no raw comma: one here is two joined copies.
	if i := strings.IndexByte(v, ','); i >= 0 {
		return nil, fmt.Errorf("%w: ssl-client-cert has a comma at byte %d: the header was sent more than once", ErrMalformed, i)
	}
	chain, err := DecodeEscapedPEM(v, 1)
	if err != nil {
		return nil, fmt.Errorf("ssl-client-cert: %w", err)
	}
	return chain, nil
}

// decodeValue checks the size of a URL-encoded PEM before decoding it.
func decodeValue(v string, opts Options, maxCerts int) ([]*x509.Certificate, error) {
	if err := checkSize("value", v, opts); err != nil {
		return nil, err
	}
	return DecodeEscapedPEM(v, maxCerts)
}

// checkSize refuses a value over the limit before any work is spent on it.
func checkSize(what, v string, opts Options) error {
	if limit := opts.maxHeaderBytes(); len(v) > limit {
		return fmt.Errorf("%w: %s is %d bytes, over the limit of %d", ErrMalformed, what, len(v), limit)
	}
	return nil
}

// echoLimit bounds how much of a client-controlled value an error repeats.
const echoLimit = 40

// truncate shortens s for an error message. It may cut a UTF-8 sequence;
// callers print the result with %q, which escapes the stray bytes.
func truncate(s string) string {
	if len(s) <= echoLimit {
		return s
	}
	return s[:echoLimit] + "…"
}
