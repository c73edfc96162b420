package identity

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// XFCCElement is one comma-separated element of Envoy's
// x-forwarded-client-cert header: what one proxy hop knew about its client.
// Values are as sent, unquoted: Cert and Chain are still URL-encoded PEM (see
// DecodeEscapedPEM). URI and DNS hold every occurrence of their key, in order.
type XFCCElement struct {
	By, Hash, Cert, Chain, Subject string
	URI, DNS                       []string
}

// ParseXFCC parses an x-forwarded-client-cert value into its elements, in
// header order; with Envoy's APPEND_FORWARD the last one is the nearest hop.
//
// Elements are separated by ',' and key=value pairs by ';'. Keys are
// case-insensitive; By, Hash, Cert, Chain and Subject may appear once per
// element, URI and DNS any number of times, and unknown keys are ignored. A
// value may be double-quoted, and a quoted value may hold ',', ';', '=' and
// \" (a literal quote). Whitespace around separators is allowed, and so is an
// empty value (Envoy sends URI= for a certificate without one). An empty
// element or pair, an empty key, a stray or unterminated quote and a repeated
// key are malformed; errors wrap ErrMalformed.
func ParseXFCC(v string) ([]XFCCElement, error) {
	if strings.TrimLeft(v, " \t") == "" {
		return nil, fmt.Errorf("%w: x-forwarded-client-cert is empty", ErrMalformed)
	}
	var (
		out  = make([]XFCCElement, 0, 1)
		el   XFCCElement
		seen uint8 // xfccBy… bits of the keys el already has
		i    int
	)
	for {
		n := len(out) + 1
		key, next, err := xfccKey(v, skipOWS(v, i), n)
		if err != nil {
			return nil, err
		}
		value, next, err := xfccValue(v, next, n, key)
		if err != nil {
			return nil, err
		}
		if err := el.set(key, value, &seen); err != nil {
			return nil, fmt.Errorf("%w: x-forwarded-client-cert element %d: %w", ErrMalformed, n, err)
		}
		i = skipOWS(v, next)
		if i == len(v) {
			return append(out, el), nil
		}
		switch v[i] {
		case ';':
		case ',':
			out = append(out, el)
			el, seen = XFCCElement{}, 0
		default:
			return nil, fmt.Errorf("%w: x-forwarded-client-cert element %d: want ';' or ',' after the value of %q at byte %d, found %s", ErrMalformed, n, truncate(key), i, describeAt(v, i))
		}
		i++
	}
}

// xfccKey reads the key of a pair of element n at i, and the '=' after
// it; next is where the value begins.
func xfccKey(v string, i, n int) (key string, next int, err error) {
	start := i
	for i < len(v) && isTokenChar(v[i]) {
		i++
	}
	key = v[start:i]
	if key == "" {
		return "", 0, fmt.Errorf("%w: x-forwarded-client-cert element %d: want a key at byte %d, found %s", ErrMalformed, n, i, describeAt(v, i))
	}
	i = skipOWS(v, i)
	if i >= len(v) || v[i] != '=' {
		return "", 0, fmt.Errorf("%w: x-forwarded-client-cert element %d: key %q at byte %d has no '='", ErrMalformed, n, truncate(key), start)
	}
	return key, skipOWS(v, i+1), nil
}

// xfccValue reads the value of key at i, quoted or not, in element n;
// next is the byte after it.
func xfccValue(v string, i, n int, key string) (value string, next int, err error) {
	if i < len(v) && v[i] == '"' {
		return xfccQuoted(v, i, n)
	}
	start := i
	for i < len(v) && v[i] != ',' && v[i] != ';' {
		if v[i] == '"' {
			return "", 0, fmt.Errorf("%w: x-forwarded-client-cert element %d: stray quote at byte %d in the value of %q", ErrMalformed, n, i, truncate(key))
		}
		i++
	}
	return strings.TrimRight(v[start:i], " \t"), i, nil
}

// Bits for the keys an element may hold only once.
const (
	xfccBy uint8 = 1 << iota
	xfccHash
	xfccCert
	xfccChain
	xfccSubject
)

// set stores one pair. A second Cert (or By, …) in one element would leave
// it to chance which one a reader believes, so it is refused.
func (el *XFCCElement) set(key, value string, seen *uint8) error {
	var (
		bit uint8
		dst *string
	)
	switch {
	case strings.EqualFold(key, "By"):
		bit, dst = xfccBy, &el.By
	case strings.EqualFold(key, "Hash"):
		bit, dst = xfccHash, &el.Hash
	case strings.EqualFold(key, "Cert"):
		bit, dst = xfccCert, &el.Cert
	case strings.EqualFold(key, "Chain"):
		bit, dst = xfccChain, &el.Chain
	case strings.EqualFold(key, "Subject"):
		bit, dst = xfccSubject, &el.Subject
	case strings.EqualFold(key, "URI"):
		el.URI = append(el.URI, value)
		return nil
	case strings.EqualFold(key, "DNS"):
		el.DNS = append(el.DNS, value)
		return nil
	default:
		return nil
	}
	if *seen&bit != 0 {
		return fmt.Errorf("key %q appears twice", truncate(key))
	}
	*seen |= bit
	*dst = value
	return nil
}

// xfccQuoted reads the quoted value that starts at v[i] == '"' and returns it
// unquoted, with the index just past the closing quote. A backslash takes the
// next byte with it; only \" is unescaped, because Envoy escapes nothing else
// (a backslash in a Subject stays as RFC 4514 wrote it).
func xfccQuoted(v string, i, n int) (string, int, error) {
	start := i + 1
	escapedQuote := false
	for j := start; j < len(v); j++ {
		switch v[j] {
		case '\\':
			if j+1 < len(v) && v[j+1] == '"' {
				escapedQuote = true
			}
			j++
		case '"':
			s := v[start:j]
			if escapedQuote {
				s = strings.ReplaceAll(s, `\"`, `"`)
			}
			return s, j + 1, nil
		}
	}
	return "", 0, fmt.Errorf("%w: x-forwarded-client-cert element %d: the quote at byte %d is never closed", ErrMalformed, n, i)
}

// describeAt names what is at v[i] for an error message.
func describeAt(v string, i int) string {
	if i >= len(v) {
		return "the end of the header"
	}
	return fmt.Sprintf("%q", v[i:i+1])
}

func skipOWS(v string, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	return i
}

// isTokenChar reports whether c may appear in an HTTP token (RFC 9110).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// fromXFCC reads the nearest hop's certificate: with Envoy's APPEND_FORWARD
// that is the last element. Chain, when present, is the whole chain leaf
// first and must start with Cert when both are given.
func fromXFCC(v string, opts Options) ([]*x509.Certificate, error) {
	if err := checkSize("value", v, opts); err != nil {
		return nil, err
	}
	elements, err := ParseXFCC(v)
	if err != nil {
		return nil, err
	}
	n := len(elements)
	last := elements[n-1]
	if last.Cert == "" && last.Chain == "" {
		return nil, fmt.Errorf("nearest hop (element %d) has no Cert or Chain: %w", n, ErrNoCertificate)
	}
	var leaf []*x509.Certificate
	if last.Cert != "" {
		if leaf, err = DecodeEscapedPEM(last.Cert, 1); err != nil {
			return nil, fmt.Errorf("element %d Cert: %w", n, err)
		}
		if last.Chain == "" {
			return leaf, nil
		}
	}
	chain, err := DecodeEscapedPEM(last.Chain, opts.maxChainLength())
	if err != nil {
		return nil, fmt.Errorf("element %d Chain: %w", n, err)
	}
	if leaf != nil && !leaf[0].Equal(chain[0]) {
		return nil, fmt.Errorf("%w: element %d: Chain does not start with Cert", ErrMalformed, n)
	}
	return chain, nil
}
