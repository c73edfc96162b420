package identity

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	// Trust is the set of forwarded-header families Extract reads when no
	// Envoy peer certificate is presented. Set a family only for a listener
	// whose proxy overwrites those headers on every request, and only for
	// requests that come from that proxy.
	Trust Families
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
// exactly one certificate: a request that carries a peer certificate never
// takes its identity from a header. Otherwise the headers of the families in
// opts.Trust are read in this order: ssl-client-cert (which needs
// ssl-client-verify to be exactly SUCCESS), x-forwarded-client-cert (the
// last, nearest element), and RFC 9440 client-cert with client-cert-chain.
// Headers of other families are ignored, not an error.
//
// headers has lower-case names. A certificate header sent twice arrives
// comma-joined and is malformed. The error wraps ErrNoCertificate,
// ErrProxyVerifyFailed or ErrMalformed. Presented.Source is set on failure
// too, to what SourceOf says: the source that failed, or SourceNone or
// SourceUntrustedHeader when nothing was read.
func Extract(envoyCert string, headers map[string]string, opts Options) (Presented, error) {
	r := read(envoyCert, headers, opts.Trust)
	src := r.source(headers, opts.Trust)
	var chain []*x509.Certificate
	var err error
	switch r.from {
	case readEnvoy:
		if chain, err = decodeValue(r.value, opts, 1); err != nil {
			err = fmt.Errorf("envoy source.certificate: %w", err)
		}
	case readSSLClientCert:
		chain, err = fromSSLClientCert(r.value, r.second, r.secondSet, opts)
	case readXFCC:
		if chain, err = fromXFCC(r.value, opts); err != nil {
			err = fmt.Errorf("x-forwarded-client-cert: %w", err)
		}
	case readClientCert:
		chain, err = fromRFC9440(r.value, r.second, opts)
	default:
		err = ErrNoCertificate
	}
	if err != nil {
		return Presented{Source: src}, err
	}
	return Presented{Chain: chain, Source: src}, nil
}

// SourceOf names where Extract takes the certificate of a request from
// under trust, without decoding anything: SourceEnvoy, SourceHeader or
// SourceXFCC for the value it reads, SourceUntrustedHeader when it reads
// none but the request carries a forwarded certificate header that trust
// does not believe, SourceNone otherwise.
func SourceOf(envoyCert string, headers map[string]string, trust Families) Source {
	return read(envoyCert, headers, trust).source(headers, trust)
}

// source is SourceOf of the request r was read from.
func (r reading) source(headers map[string]string, trust Families) Source {
	switch r.from {
	case readEnvoy:
		return SourceEnvoy
	case readSSLClientCert, readClientCert:
		return SourceHeader
	case readXFCC:
		return SourceXFCC
	}
	for _, name := range ForwardedCertHeaders {
		if _, sent := headers[name]; sent && !trust.Believes(name) {
			return SourceUntrustedHeader
		}
	}
	return SourceNone
}

// Where read found the certificate.
const (
	readNothing byte = iota
	readEnvoy
	readSSLClientCert
	readXFCC
	readClientCert
)

// reading is everything Extract looks at of one request: where it takes the
// certificate from and the raw values there. Extract decodes it and
// PresentedDigest hashes it; both get it from read, so that a verdict cached
// under a digest is always the verdict of the bytes that decided it.
type reading struct {
	from  byte
	value string
	// second is ssl-client-verify (secondSet: it was sent at all) or
	// client-cert-chain.
	second    string
	secondSet bool
}

// read picks the one source Extract reads for this request.
func read(envoyCert string, headers map[string]string, trust Families) reading {
	switch {
	case envoyCert != "":
		return reading{from: readEnvoy, value: envoyCert}
	case trust.Has(SSLClientCert) && headers["ssl-client-cert"] != "":
		verify, ok := headers["ssl-client-verify"]
		return reading{from: readSSLClientCert, value: headers["ssl-client-cert"], second: verify, secondSet: ok}
	case trust.Has(XFCC) && headers["x-forwarded-client-cert"] != "":
		return reading{from: readXFCC, value: headers["x-forwarded-client-cert"]}
	case trust.Has(ClientCert) && headers["client-cert"] != "":
		return reading{from: readClientCert, value: headers["client-cert"], second: headers["client-cert-chain"]}
	}
	return reading{}
}

// Digest is the SHA-256 digest PresentedDigest returns.
type Digest [sha256.Size]byte

// digestBuffers recycle the buffers PresentedDigest hashes: a forwarded
// certificate would otherwise be copied into a fresh allocation each time.
var digestBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledDigestBuffer keeps a buffer that grew for an unusually large
// value out of the pool.
const maxPooledDigestBuffer = 128 << 10

// PresentedDigest is a SHA-256 digest of exactly what Extract reads of a
// request under opts, and of the options that decided what it reads (the
// trusted families and both limits). Two requests with one digest get the
// same answer from Extract; a header Extract ignores (another family, an
// untrusted one, one behind a peer certificate) does not change it. A value
// over opts' size limit is refused by Extract from its length alone, so
// only its length is hashed.
//
// It is the key under which a verdict may be cached: fixed in size, whatever
// the client sends, and never the client's bytes themselves.
func PresentedDigest(envoyCert string, headers map[string]string, opts Options) Digest {
	r := read(envoyCert, headers, opts.Trust)
	limit := opts.maxHeaderBytes()
	bp := digestBuffers.Get().(*[]byte)
	b := append((*bp)[:0], "certgate presented v1\x00"...)
	b = append(b, byte(opts.Trust), r.from)
	b = binary.AppendUvarint(b, uint64(limit))
	b = binary.AppendUvarint(b, uint64(opts.maxChainLength()))
	b = appendValue(b, r.value, limit)
	switch r.from {
	case readSSLClientCert:
		// ssl-client-verify is compared and echoed, never size-checked.
		if r.secondSet {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = appendValue(b, r.second, len(r.second))
	case readClientCert:
		b = appendValue(b, r.second, limit)
	}
	d := Digest(sha256.Sum256(b))
	if cap(b) <= maxPooledDigestBuffer {
		*bp = b
		digestBuffers.Put(bp)
	}
	return d
}

// appendValue appends the length of v and, when it is within limit, v.
func appendValue(b []byte, v string, limit int) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	if len(v) > limit {
		return b
	}
	return append(b, v...)
}

// fromSSLClientCert reads NGINX's $ssl_client_escaped_cert, believed only
// when NGINX says it verified it.
func fromSSLClientCert(v, verdict string, verdictSent bool, opts Options) ([]*x509.Certificate, error) {
	switch {
	case !verdictSent:
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
