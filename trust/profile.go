package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

// Profile says how closely certificates and CRLs must follow what RFC 5280
// asks of a conforming CA. docs/validation.md lists the rules of each.
type Profile string

// The profiles.
const (
	// ProfileCompatible accepts what the common recipes make (a version 1
	// certificate from `openssl x509 -req` without extensions included).
	// The default.
	ProfileCompatible Profile = "compatible"
	// ProfileStrict also refuses what a conforming CA never issues:
	// certificates without key identifiers, CA certificates without
	// critical basicConstraints, CRLs without a number, …
	ProfileStrict Profile = "strict"
)

// Validate reports an unknown profile; "" is ProfileCompatible.
func (p Profile) Validate() error {
	switch p {
	case "", ProfileCompatible, ProfileStrict:
		return nil
	}
	return fmt.Errorf("unknown profile %q (want compatible or strict)", string(p))
}

// The reasons of the strict profile, one per rule.
const (
	// ReasonMissingAKI: a certificate that is not self-signed without an
	// authority key identifier (RFC 5280 §4.2.1.1).
	ReasonMissingAKI Reason = "missing_aki"
	// ReasonMissingSKI: a CA certificate without a subject key identifier
	// (§4.2.1.2).
	ReasonMissingSKI Reason = "missing_ski"
	// ReasonBasicConstraints: a CA certificate whose basicConstraints is
	// absent or not critical (§4.2.1.9).
	ReasonBasicConstraints Reason = "basic_constraints"
	// ReasonCAKeyUsage: a CA certificate without a key usage extension
	// (§4.2.1.3), such as `openssl req -x509` makes with the default
	// configuration.
	ReasonCAKeyUsage Reason = "ca_key_usage"
	// ReasonSANNotCritical: a certificate with an empty subject whose
	// subjectAltName is not critical (§4.2.1.6).
	ReasonSANNotCritical Reason = "san_not_critical"
	// ReasonCertSignNotCA: a leaf with keyCertSign that is not a CA
	// (§4.2.1.3).
	ReasonCertSignNotCA Reason = "cert_sign_not_ca"
	// ReasonEmptyEKU: an extendedKeyUsage extension listing no purpose
	// (§4.2.1.12: SIZE (1..MAX)).
	ReasonEmptyEKU Reason = "empty_eku"
	// ReasonPolicyConstraints: a policyConstraints extension not marked
	// critical (§4.2.1.11).
	ReasonPolicyConstraints Reason = "policy_constraints"
	// ReasonSerialNumber: a serial number longer than 20 octets
	// (§4.1.2.2). A zero one is `invalid` in both profiles.
	ReasonSerialNumber Reason = "serial_number"
	// ReasonMissingCRLNumber: a CRL without a CRL number (§5.2.3),
	// refused when the store is loaded.
	ReasonMissingCRLNumber Reason = "missing_crl_number"
)

var (
	oidBasicConstraints  = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidPolicyConstraints = asn1.ObjectIdentifier{2, 5, 29, 36}
	oidExtKeyUsage       = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// emptyName is the DER of an empty Name (RDNSequence).
var emptyName = []byte{0x30, 0x00}

// maxSerialOctets is the longest serial number RFC 5280 §4.1.2.2 allows.
const maxSerialOctets = 20

// extension returns c's extension id, if present.
func extension(c *x509.Certificate, id asn1.ObjectIdentifier) (critical, present bool) {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(id) {
			return ext.Critical, true
		}
	}
	return false, false
}

// checkRules applies certgate's own path rules to a path that
// crypto/x509 built (leaf first): those of both profiles, then the strict
// profile's.
func (s *Store) checkRules(path []*x509.Certificate) (Reason, *x509.Certificate, string) {
	if r, c, detail := checkDepth(path, s.maxDepth); r != "" {
		return r, c, detail
	}
	if r, c, detail := checkPathLen(path); r != "" {
		return r, c, detail
	}
	if r, c, detail := checkNameConstraints(path); r != "" {
		return r, c, detail
	}
	if s.profile != ProfileStrict {
		return "", nil, ""
	}
	for i, c := range path {
		if r, detail := s.checkStrict(c, i == 0); r != "" {
			return r, c, detail
		}
	}
	return "", nil, ""
}

// checkStrict applies the strict profile's rules to one certificate of a
// path; leaf says whether it is the end-entity certificate.
func (s *Store) checkStrict(c *x509.Certificate, leaf bool) (Reason, string) {
	ca := !leaf || c.IsCA
	if c.SerialNumber.Sign() > 0 && (c.SerialNumber.BitLen()+8)/8 > maxSerialOctets {
		return ReasonSerialNumber, fmt.Sprintf("serial number of %d octets, more than %d (RFC 5280 4.1.2.2)", (c.SerialNumber.BitLen()+8)/8, maxSerialOctets)
	}
	if len(c.AuthorityKeyId) == 0 && !s.selfSigned(c) {
		return ReasonMissingAKI, "no authority key identifier in a certificate that is not self-signed (RFC 5280 4.2.1.1)"
	}
	if ca && len(c.SubjectKeyId) == 0 {
		return ReasonMissingSKI, "no subject key identifier in a CA certificate (RFC 5280 4.2.1.2)"
	}
	if critical, _ := extension(c, oidBasicConstraints); ca && !critical {
		return ReasonBasicConstraints, "a CA certificate without critical basicConstraints (RFC 5280 4.2.1.9)"
	}
	if ca && !hasKeyUsage(c) {
		return ReasonCAKeyUsage, "a CA certificate without a key usage extension (RFC 5280 4.2.1.3)"
	}
	if critical, present := extension(c, oidSubjectAltName); present && !critical && bytes.Equal(c.RawSubject, emptyName) {
		return ReasonSANNotCritical, "an empty subject with a subjectAltName not marked critical (RFC 5280 4.2.1.6)"
	}
	if leaf && !c.IsCA && c.KeyUsage&x509.KeyUsageCertSign != 0 {
		return ReasonCertSignNotCA, "keyCertSign in a certificate that is not a CA (RFC 5280 4.2.1.3)"
	}
	if _, present := extension(c, oidExtKeyUsage); present && len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return ReasonEmptyEKU, "an extendedKeyUsage extension with no purpose (RFC 5280 4.2.1.12)"
	}
	if critical, present := extension(c, oidPolicyConstraints); present && !critical {
		return ReasonPolicyConstraints, "policyConstraints not marked critical (RFC 5280 4.2.1.11)"
	}
	return "", ""
}

// selfSigned reports whether c is self-issued and signed with its own key.
// Configured CAs are known from load; others are checked.
func (s *Store) selfSigned(c *x509.Certificate) bool {
	if !selfIssued(c) {
		return false
	}
	if known, ok := s.signedBySelf[c]; ok {
		return known
	}
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// checkCRLNumbers refuses, in the strict profile, a CRL without a CRL
// number.
func (s *Store) checkCRLNumbers() error {
	if s.profile != ProfileStrict {
		return nil
	}
	for _, e := range s.all {
		if e.crl.Number == nil {
			err := &Error{Reason: ReasonMissingCRLNumber, Subject: e.crl.Issuer.String(), Detail: "a CRL without a CRL number (RFC 5280 5.2.3), refused by profile strict"}
			if e.file != "" {
				return fmt.Errorf("CRL %s: %w", e.file, err)
			}
			return err
		}
	}
	return nil
}

// WithProfile returns a copy of s that applies profile p.
func (s *Store) WithProfile(p Profile) (*Store, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := *s
	c.profile = p
	if err := c.checkCRLNumbers(); err != nil {
		return nil, err
	}
	return &c, nil
}

// WithMaxChainDepth returns a copy of s that allows at most n intermediate
// CAs between a leaf and its trust anchor.
func (s *Store) WithMaxChainDepth(n int) (*Store, error) {
	if n < 0 {
		return nil, fmt.Errorf("max chain depth %d: must not be negative", n)
	}
	c := *s
	c.maxDepth = n
	return &c, nil
}

// applyPathConfig sets the profile and chain depth of a store being loaded.
func (s *Store) applyPathConfig(cfg Config) (*Store, error) {
	out, err := s.WithProfile(cfg.Profile)
	if err != nil || cfg.MaxChainDepth == nil {
		return out, err
	}
	return out.WithMaxChainDepth(*cfg.MaxChainDepth)
}
