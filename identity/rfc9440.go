package identity

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
)

// fromRFC9440 reads the Client-Cert and Client-Cert-Chain headers of RFC
// 9440: the leaf as one structured-field byte sequence (":base64-DER:") and
// the intermediates as a list of them. Parameters on the items are refused:
// RFC 9440 defines none, and ignoring unknown input is how smuggling starts.
func fromRFC9440(cert, chain string, opts Options) ([]*x509.Certificate, error) {
	if err := checkSize("client-cert", cert, opts); err != nil {
		return nil, err
	}
	if err := checkSize("client-cert-chain", chain, opts); err != nil {
		return nil, err
	}
	cert = strings.Trim(cert, " \t")
	// A byte sequence has no comma: one here is two joined copies.
	if i := strings.IndexByte(cert, ','); i >= 0 {
		return nil, fmt.Errorf("%w: client-cert has a comma at byte %d: the header was sent more than once", ErrMalformed, i)
	}
	leaf, err := parseSFCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("client-cert: %w", err)
	}
	limit := opts.maxChainLength()
	out := []*x509.Certificate{leaf}
	if strings.Trim(chain, " \t") == "" {
		return out, nil
	}
	for n := 1; ; n++ {
		item, rest, more := strings.Cut(chain, ",")
		if len(out) == limit {
			return nil, fmt.Errorf("%w: client-cert-chain: more than %d certificates with the leaf", ErrMalformed, limit)
		}
		c, err := parseSFCertificate(strings.Trim(item, " \t"))
		if err != nil {
			return nil, fmt.Errorf("client-cert-chain item %d: %w", n, err)
		}
		out = append(out, c)
		if !more {
			return out, nil
		}
		chain = rest
	}
}

// parseSFCertificate parses one structured-field byte sequence (RFC 8941
// section 3.3.5) holding a DER certificate. Like RFC 8941 asks of parsers, it
// accepts base64 without its '=' padding.
func parseSFCertificate(v string) (*x509.Certificate, error) {
	if len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
		return nil, fmt.Errorf("%w: %q is not a structured-field byte sequence (:base64:)", ErrMalformed, truncate(v))
	}
	b64 := v[1 : len(v)-1]
	if b64 == "" {
		return nil, fmt.Errorf("%w: empty byte sequence", ErrMalformed)
	}
	if i := strings.IndexByte(b64, ':'); i >= 0 {
		return nil, fmt.Errorf("%w: unexpected ':' at byte %d of a byte sequence", ErrMalformed, i+1)
	}
	enc := base64.RawStdEncoding
	if strings.HasSuffix(b64, "=") {
		enc = base64.StdEncoding // padded: then the padding must be right
	}
	der, err := enc.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: byte sequence is not base64: %w", ErrMalformed, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return c, nil
}
