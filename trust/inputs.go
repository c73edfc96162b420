package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/certgate/certgate/pki"
)

// CA, intermediate and CRL files that certgate cannot use fail the load
// (the old snapshot keeps serving). crypto/x509 refuses most such inputs
// while parsing, with a message that names neither the file nor the RFC
// rule; inputError reads the DER again to name both.

var (
	oidAuthorityKeyID = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidSubjectKeyID   = asn1.ObjectIdentifier{2, 5, 29, 14}
)

// tbsFields returns the fields of the TBSCertificate or TBSCertList of a
// DER certificate or CRL, and its extensions, found under the
// context-specific tag extTag.
func tbsFields(der []byte, extTag int) ([]asn1.RawValue, []pkix.Extension) {
	outer, err := sequence(der)
	if err != nil || len(outer) == 0 {
		return nil, nil
	}
	fields, err := elements(outer[0].Bytes)
	if err != nil {
		return nil, nil
	}
	var exts []pkix.Extension
	for _, f := range fields {
		if f.Class == asn1.ClassContextSpecific && f.Tag == extTag && f.IsCompound {
			if _, err := asn1.Unmarshal(f.Bytes, &exts); err != nil {
				return fields, nil
			}
		}
	}
	return fields, exts
}

// certificateRule names the RFC 5280 rule that the DER certificate der
// breaks in a way that makes it unusable, or returns "".
func certificateRule(der []byte) string {
	fields, exts := tbsFields(der, 3)
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific {
		fields = fields[1:] // version
	}
	var serial *big.Int
	if len(fields) > 0 {
		if _, err := asn1.Unmarshal(fields[0].FullBytes, &serial); err == nil && serial.Sign() < 0 {
			return "RFC 5280 4.1.2.2: the serial number is negative"
		}
	}
	return extensionsRule(exts)
}

// extensionsRule names the rule an extension list breaks, or "".
func extensionsRule(exts []pkix.Extension) string {
	for _, e := range exts {
		switch {
		case e.Id.Equal(oidAuthorityKeyID) && e.Critical:
			return "RFC 5280 4.2.1.1: the authority key identifier is marked critical"
		case e.Id.Equal(oidSubjectKeyID) && e.Critical:
			return "RFC 5280 4.2.1.2: the subject key identifier is marked critical"
		case e.Id.Equal(oidNameConstraints):
			if _, err := parseNameConstraintsValue(e.Value); err != nil {
				return "RFC 5280 4.2.1.10: malformed name constraints (" + err.Error() + ")"
			}
		}
	}
	return ""
}

// crlRule names the rule the DER CRL der breaks, or "".
func crlRule(der []byte) string {
	_, exts := tbsFields(der, 0)
	return extensionsRule(exts)
}

// CertificateRule names the RFC 5280 rule broken by the first certificate
// of a PEM document that crypto/x509 refuses for such a reason (a negative
// serial, a critical key identifier, a malformed name constraint), or
// returns "": for messages about a file that does not parse.
func CertificateRule(pemData []byte) string {
	blocks, err := pki.DecodePEMBlocks(pemData)
	if err != nil {
		return ""
	}
	for i, b := range blocks {
		if rule := certificateRule(b.Bytes); rule != "" {
			return fmt.Sprintf("certificate %d: %s", i+1, rule)
		}
	}
	return ""
}

// certFileError explains why the certificates of file (a CA or
// intermediate file holding data) cannot be read.
func certFileError(kind, file string, data []byte, err error) error {
	if rule := CertificateRule(data); rule != "" {
		return fmt.Errorf("%s %s: %s: %w", kind, file, rule, err)
	}
	return fmt.Errorf("%s %s: %w", kind, file, err)
}

// checkCAFileCert says why a certificate of a CA or intermediate file
// cannot be used as a CA, or returns nil.
func checkCAFileCert(kind, file string, c *x509.Certificate) error {
	rule := ""
	switch {
	case !c.BasicConstraintsValid:
		rule = "RFC 5280 4.2.1.9: no basicConstraints extension, so it is not a CA (a version 1 CA certificate?)"
	case !c.IsCA:
		rule = "RFC 5280 4.2.1.9: basicConstraints says CA:FALSE"
	default:
		rule = extensionsRule(c.Extensions)
	}
	if rule == "" {
		return nil
	}
	return fmt.Errorf("%s %s: %q is not a CA certificate certgate can use: %s", kind, file, c.Subject, rule)
}

// crlError explains why the CRLs of a file holding data cannot be read.
func crlError(data []byte, err error) error {
	ders := [][]byte{data}
	if blocks, derr := pki.DecodePEMBlocks(data); derr == nil && len(blocks) > 0 {
		ders = ders[:0]
		for _, b := range blocks {
			ders = append(ders, b.Bytes)
		}
	}
	for i, der := range ders {
		if rule := crlRule(der); rule != "" {
			return fmt.Errorf("CRL %d: %s: %w", i+1, rule, err)
		}
	}
	return err
}
