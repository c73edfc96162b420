package trust

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

// The RFC 5280 checks that crypto/x509's Verify leaves to its callers.
// x509.Verify already checks signatures, validity, name chaining, basic
// constraints, DNS/IP/email/URI name constraints and extended key usage;
// path length and the other name constraints are certgate's (paths.go).
// docs/validation.md lists what is checked where and what is not.

// MinRSABits is the smallest RSA modulus certgate accepts anywhere in a
// chain: 1024-bit RSA is within reach of a well-funded attacker, and
// crypto/x509 still verifies it.
const MinRSABits = 2048

// ReasonWeakKey is a certificate whose public key is too small.
const ReasonWeakKey Reason = "weak_key"

var (
	oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}
	// A CRL with one of these is scoped or incremental: read as a complete
	// CRL it would call certificates outside its scope unrevoked. RFC 5280
	// makes them critical, but a non-conforming issuer might not.
	oidDeltaCRLIndicator         = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistributionPoint  = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidCertificateIssuerCRLEntry = asn1.ObjectIdentifier{2, 5, 29, 29}
)

// hasKeyUsage reports whether c carries a key usage extension at all: an
// absent extension allows every usage, while one present with no bit set
// allows none, and crypto/x509 shows both as KeyUsage 0.
func hasKeyUsage(c *x509.Certificate) bool {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oidKeyUsage) {
			return true
		}
	}
	return false
}

// checkLeaf applies what RFC 5280 and the TLS client role ask of the
// end-entity certificate before any path is built.
func checkLeaf(leaf *x509.Certificate, purpose Purpose) (Reason, string) {
	if u := unhandledCritical(leaf); len(u) > 0 {
		return ReasonInvalid, fmt.Sprintf("unknown critical extension %v", u[0])
	}
	if leaf.IsCA && purpose != PurposeAny {
		return ReasonKeyUsage, "a CA certificate (basicConstraints CA:TRUE) is not an end-entity certificate"
	}
	if !hasKeyUsage(leaf) {
		return "", ""
	}
	switch purpose {
	case PurposeClient:
		if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			return ReasonKeyUsage, "key usage lacks digitalSignature, which a TLS client needs"
		}
	case PurposeServer:
		if leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
			return ReasonKeyUsage, "key usage allows no TLS server key exchange"
		}
	}
	return "", ""
}

// checkPath checks a path that x509.Verify built (leaf first, trust anchor
// last) for what Verify does not: unknown critical extensions on every
// certificate, keyCertSign on every issuer that has a key usage extension,
// positive serial numbers and key sizes.
func checkPath(path []*x509.Certificate) (Reason, *x509.Certificate, string) {
	for i, c := range path {
		if u := unhandledCritical(c); len(u) > 0 {
			return ReasonInvalid, c, fmt.Sprintf("unknown critical extension %v", u[0])
		}
		if c.SerialNumber == nil || c.SerialNumber.Sign() <= 0 {
			// RFC 5280 §4.1.2.2: the serial is a positive integer. A
			// zero or negative one breaks CRL lookups and is refused.
			return ReasonInvalid, c, "serial number is not positive"
		}
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.N.BitLen() < MinRSABits {
			return ReasonWeakKey, c, fmt.Sprintf("RSA key of %d bits, fewer than %d", pub.N.BitLen(), MinRSABits)
		}
		if i > 0 && hasKeyUsage(c) && c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return ReasonKeyUsage, c, "issuer's key usage lacks keyCertSign"
		}
	}
	return "", nil, ""
}

// crlUsable reports why a CRL signed by issuer must not be used, or "" if
// it may. certgate implements no critical CRL or CRL entry extension
// (issuing distribution point, delta CRL indicator, certificate issuer of
// an indirect CRL, …): such a CRL may mean less than it seems to, so it is
// not used, and the certificates it covers fail closed with
// crl_unavailable.
//
// crlUnsupported holds the part that depends on the CRL alone, computed
// once at load: it reads every entry, and a check per request would cost
// time in proportion to the size of the CRL.
func crlUsable(e *crlEntry, issuer *x509.Certificate) string {
	if e.unsupported != "" {
		return e.unsupported
	}
	if hasKeyUsage(issuer) && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return "the issuer's key usage lacks cRLSign"
	}
	return ""
}

// crlUnsupported names what makes crl unusable whoever signed it (a
// feature certgate does not implement, or no nextUpdate), or returns "".
func crlUnsupported(crl *x509.RevocationList) string {
	for _, ext := range crl.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRLIndicator):
			return "a delta CRL (delta CRLs are not supported)"
		case ext.Id.Equal(oidIssuingDistributionPoint):
			return "a CRL with an issuing distribution point (partitioned and indirect CRLs are not supported)"
		case ext.Critical:
			return fmt.Sprintf("unsupported critical CRL extension %v", ext.Id)
		}
	}
	for _, entry := range crl.RevokedCertificateEntries {
		for _, ext := range entry.Extensions {
			switch {
			case ext.Id.Equal(oidCertificateIssuerCRLEntry):
				return "an indirect CRL entry (certificateIssuer is not supported)"
			case ext.Critical:
				return fmt.Sprintf("unsupported critical CRL entry extension %v", ext.Id)
			}
		}
	}
	if crl.NextUpdate.IsZero() {
		return "a CRL without nextUpdate (it could never go stale)"
	}
	return ""
}
