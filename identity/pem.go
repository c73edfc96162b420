package identity

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

const pemBegin = "-----BEGIN "

// pemSpace is what may separate, precede and follow PEM blocks.
const pemSpace = " \t\r\n"

// DecodeEscapedPEM decodes a URL-encoded PEM document ($ssl_client_escaped_cert,
// Envoy's source.certificate, an XFCC Cert or Chain) into certificates, in
// document order. Percent-decoding happens exactly once and as a path
// component: a literal '+' stays '+', and "%2541" becomes "%41", not "A".
//
// The document must be one or more CERTIFICATE blocks and whitespace, with at
// most maxCerts blocks (DefaultMaxChainLength when maxCerts <= 0). Errors wrap
// ErrMalformed.
func DecodeEscapedPEM(s string, maxCerts int) ([]*x509.Certificate, error) {
	if maxCerts <= 0 {
		maxCerts = DefaultMaxChainLength
	}
	if s == "" {
		return nil, fmt.Errorf("%w: empty value", ErrMalformed)
	}
	raw, err := unescape(s)
	if err != nil {
		return nil, err
	}
	return decodeCertsPEM(raw, maxCerts)
}

// DecodePEM is DecodeEscapedPEM for a PEM document that is not URL-encoded
// (a file, an admin API request's certificate_pem).
func DecodePEM(raw []byte, maxCerts int) ([]*x509.Certificate, error) {
	if maxCerts <= 0 {
		maxCerts = DefaultMaxChainLength
	}
	return decodeCertsPEM(raw, maxCerts)
}

// decodeCertsPEM is strict where pem.Decode is lenient: pem.Decode skips
// text before a block and skips a corrupt block to reach the next one, and
// both would let a client smuggle anything past us.
func decodeCertsPEM(raw []byte, maxCerts int) ([]*x509.Certificate, error) {
	certs := make([]*x509.Certificate, 0, min(maxCerts, 4))
	rest := bytes.TrimLeft(raw, pemSpace)
	if len(rest) == 0 {
		return nil, fmt.Errorf("%w: only whitespace, no certificate", ErrMalformed)
	}
	for n := 1; len(rest) > 0; n++ {
		at := len(raw) - len(rest)
		if !bytes.HasPrefix(rest, []byte(pemBegin)) {
			if n == 1 {
				return nil, fmt.Errorf("%w: not PEM: %q at byte %d is not a BEGIN line", ErrMalformed, truncateBytes(rest), at)
			}
			return nil, fmt.Errorf("%w: data after PEM block %d at byte %d: %q", ErrMalformed, n-1, at, truncateBytes(rest))
		}
		block, next := pem.Decode(rest)
		if block == nil || bytes.Count(rest[:len(rest)-len(next)], []byte(pemBegin)) != 1 {
			return nil, fmt.Errorf("%w: PEM block %d at byte %d is corrupt or has no matching END line", ErrMalformed, n, at)
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("%w: PEM block %d is a private key (%q), not a certificate: the client sent its key", ErrMalformed, n, truncate(block.Type))
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: PEM block %d is %q, want CERTIFICATE", ErrMalformed, n, truncate(block.Type))
		}
		if len(block.Headers) > 0 {
			return nil, fmt.Errorf("%w: PEM block %d has headers, which a certificate never has", ErrMalformed, n)
		}
		if len(certs) == maxCerts {
			return nil, fmt.Errorf("%w: more than %d certificate(s)", ErrMalformed, maxCerts)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrMalformed, n, err)
		}
		certs = append(certs, c)
		rest = bytes.TrimLeft(next, pemSpace)
	}
	return certs, nil
}

// unescape percent-decodes s once, as a path component: '+' is literal and
// every '%' must start a valid two-digit hex escape.
func unescape(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return nil, fmt.Errorf("%w: invalid percent-escape %q at byte %d", ErrMalformed, s[i:min(i+3, len(s))], i)
		}
		out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return out, nil
}

// truncateBytes is truncate for a byte slice, copying only what it keeps.
func truncateBytes(b []byte) string {
	return truncate(string(b[:min(len(b), echoLimit+1)]))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unhex assumes isHex(c).
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
