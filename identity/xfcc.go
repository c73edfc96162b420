package identity

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
)

// XFCCElement is one comma-separated element of Envoy's
// x-forwarded-client-cert header: the client certificate details one proxy
// hop saw.
type XFCCElement struct {
	By, Hash, Cert, Chain, Subject string
	URI, DNS                       []string
}

// ParseXFCC parses an x-forwarded-client-cert value. Elements are separated
// by ',', key=value pairs by ';'; keys are case-insensitive; values may be
// double-quoted, and quoted values may contain ',', ';', '=' and \".
// Unknown keys are ignored.
func ParseXFCC(v string) ([]XFCCElement, error) {
	var (
		out  []XFCCElement
		pair strings.Builder
		raw  []string // the pairs of the current element
	)
	flushPair := func() {
		raw = append(raw, pair.String())
		pair.Reset()
	}
	flushElement := func() error {
		flushPair()
		el, err := xfccElement(raw)
		if err != nil {
			return err
		}
		out = append(out, el)
		raw = raw[:0]
		return nil
	}
	inQuotes := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inQuotes && c == '\\' && i+1 < len(v):
			pair.WriteByte(c)
			pair.WriteByte(v[i+1])
			i++
		case c == '"':
			inQuotes = !inQuotes
			pair.WriteByte(c)
		case !inQuotes && c == ';':
			flushPair()
		case !inQuotes && c == ',':
			if err := flushElement(); err != nil {
				return nil, err
			}
		default:
			pair.WriteByte(c)
		}
	}
	if inQuotes {
		return nil, fmt.Errorf("%w: x-forwarded-client-cert has an unterminated quote", ErrMalformed)
	}
	if err := flushElement(); err != nil {
		return nil, err
	}
	return out, nil
}

func xfccElement(pairs []string) (XFCCElement, error) {
	var el XFCCElement
	for _, p := range pairs {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		key, value, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(key) == "" {
			return el, fmt.Errorf("%w: x-forwarded-client-cert pair %q is not key=value", ErrMalformed, truncate(p, 40))
		}
		value, err := unquoteXFCC(strings.TrimSpace(value))
		if err != nil {
			return el, err
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "by":
			el.By = value
		case "hash":
			el.Hash = value
		case "cert":
			el.Cert = value
		case "chain":
			el.Chain = value
		case "subject":
			el.Subject = value
		case "uri":
			el.URI = append(el.URI, value)
		case "dns":
			el.DNS = append(el.DNS, value)
		}
	}
	return el, nil
}

func unquoteXFCC(v string) (string, error) {
	if !strings.HasPrefix(v, `"`) {
		if strings.Contains(v, `"`) {
			return "", fmt.Errorf("%w: x-forwarded-client-cert value %q has a stray quote", ErrMalformed, truncate(v, 40))
		}
		return v, nil
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", fmt.Errorf("%w: x-forwarded-client-cert value %q is not closed by a quote", ErrMalformed, truncate(v, 40))
	}
	return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`), nil
}

// fromXFCC reads the nearest hop's certificate: with Envoy's APPEND_FORWARD
// that is the last element. Chain, when present, is used (leaf first) and
// must start with Cert if both are given.
func fromXFCC(v string, opts Options) ([]*x509.Certificate, error) {
	if err := checkSize(v, opts); err != nil {
		return nil, err
	}
	elements, err := ParseXFCC(v)
	if err != nil {
		return nil, err
	}
	last := elements[len(elements)-1]
	var leaf []*x509.Certificate
	if last.Cert != "" {
		if leaf, err = DecodeEscapedPEM(last.Cert, 1); err != nil {
			return nil, fmt.Errorf("element Cert: %w", err)
		}
	}
	if last.Chain == "" {
		if leaf == nil {
			return nil, ErrNoCertificate
		}
		return leaf, nil
	}
	chain, err := DecodeEscapedPEM(last.Chain, maxChain(opts))
	if err != nil {
		return nil, fmt.Errorf("element Chain: %w", err)
	}
	if leaf != nil && !leaf[0].Equal(chain[0]) {
		return nil, fmt.Errorf("%w: Chain does not start with Cert", ErrMalformed)
	}
	return chain, nil
}

// fromRFC9440 reads the Client-Cert and Client-Cert-Chain headers of RFC
// 9440: structured-field byte sequences (":base64-DER:").
func fromRFC9440(cert, chain string, opts Options) ([]*x509.Certificate, error) {
	if err := checkSize(cert+chain, opts); err != nil {
		return nil, err
	}
	leaf, err := parseSFBinary(strings.TrimSpace(cert))
	if err != nil {
		return nil, fmt.Errorf("client-cert: %w", err)
	}
	out := []*x509.Certificate{leaf}
	if strings.TrimSpace(chain) == "" {
		return out, nil
	}
	for _, item := range strings.Split(chain, ",") {
		if len(out) == maxChain(opts) {
			return nil, fmt.Errorf("%w: client-cert-chain has more than %d certificates", ErrMalformed, maxChain(opts)-1)
		}
		c, err := parseSFBinary(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("client-cert-chain: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseSFBinary(v string) (*x509.Certificate, error) {
	if len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
		return nil, fmt.Errorf("%w: not a structured-field byte sequence (:base64:)", ErrMalformed)
	}
	der, err := base64.StdEncoding.DecodeString(v[1 : len(v)-1])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return c, nil
}
