package trust

import (
	"bytes"
	"crypto/x509"
	"fmt"
)

// ReasonChainDepth is a path with more intermediate CAs than
// Config.MaxChainDepth allows.
const ReasonChainDepth Reason = "chain_depth"

// selfIssued reports whether c's subject and issuer are the same name
// (RFC 5280 §6.1): a CA re-keying, or a self-signed certificate.
func selfIssued(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer)
}

// checkPathLen applies pathLenConstraint as RFC 5280 §6.1.4 (l) and (m)
// do, and as OpenSSL does: every CA of path (leaf first, trust anchor
// last) that carries one bounds the number of CAs below it, not counting
// the leaf nor self-issued intermediates. crypto/x509 counts the latter
// and is not asked (see goView).
func checkPathLen(path []*x509.Certificate) (Reason, *x509.Certificate, string) {
	below := 0
	for k := 1; k < len(path); k++ {
		c := path[k]
		if c.BasicConstraintsValid && c.MaxPathLen >= 0 && below > c.MaxPathLen {
			return ReasonInvalid, c, fmt.Sprintf("pathLenConstraint %d, but %d CAs that are not self-issued below it", c.MaxPathLen, below)
		}
		if !selfIssued(c) {
			below++
		}
	}
	return "", nil, ""
}

// checkDepth refuses a path with more than limit intermediate CAs between
// its leaf and its trust anchor; limit < 0 means no limit. Every
// intermediate counts, self-issued ones too, as in OpenSSL's
// -verify_depth.
func checkDepth(path []*x509.Certificate, limit int) (Reason, *x509.Certificate, string) {
	if limit < 0 || len(path) <= 2 {
		return "", nil, ""
	}
	if n := len(path) - 2; n > limit {
		return ReasonChainDepth, path[0], fmt.Sprintf("%d intermediate CAs between the leaf and the trust anchor, more than max_chain_depth %d", n, limit)
	}
	return "", nil, ""
}
