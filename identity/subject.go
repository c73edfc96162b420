package identity

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
)

// ErrAmbiguousSubject is returned, wrapped with the detail, by New for a
// certificate that names more than one holder: more than one common name
// (crypto/x509 keeps only the last, so "CN=mallory, CN=jenkins" would be
// jenkins), a common name sharing a multi-valued RDN with another attribute
// ("CN=mallory+CN=jenkins", "CN=mallory+O=admins", which tools flatten
// differently), or more than one spiffe:// URI SAN (an X.509-SVID has
// exactly one). certgate refuses such a certificate (401,
// ambiguous_subject) rather than pick one of its names.
//
// Several O attributes are not ambiguous: each one is a group.
var ErrAmbiguousSubject = errors.New("ambiguous subject")

// oidCommonName is id-at-commonName (2.5.4.3).
var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// attribute is one AttributeTypeAndValue with its value left undecoded:
// only its type and its place in the RDN sequence matter here, and
// crypto/x509 has already read (and vetted) every value.
type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rdnSET is one RelativeDistinguishedName, a SET OF attributes (the SET
// suffix tells encoding/asn1 to expect a SET).
type rdnSET []attribute

// checkUnambiguous returns an error wrapping ErrAmbiguousSubject when cert
// names more than one user or SPIFFE ID.
func checkUnambiguous(cert *x509.Certificate) error {
	if err := checkCommonNames(cert); err != nil {
		return err
	}
	spiffe := 0
	for _, u := range cert.URIs {
		if u != nil && strings.EqualFold(u.Scheme, "spiffe") {
			spiffe++
		}
	}
	if spiffe > 1 {
		return fmt.Errorf("%w: %d spiffe URI SANs", ErrAmbiguousSubject, spiffe)
	}
	return nil
}

// checkCommonNames reads the subject's RDN sequence from its DER, where the
// RDN boundaries that pkix.Name forgets are still visible.
func checkCommonNames(cert *x509.Certificate) error {
	if len(cert.RawSubject) == 0 {
		// Built in memory rather than parsed: only the attributes are known.
		n := 0
		for _, a := range cert.Subject.Names {
			if a.Type.Equal(oidCommonName) {
				n++
			}
		}
		return commonNameCount(n)
	}
	var rdns []rdnSET
	rest, err := asn1.Unmarshal(cert.RawSubject, &rdns)
	if err != nil || len(rest) > 0 {
		// crypto/x509 read it, so this does not happen; if it does, what
		// the subject says is not known for sure.
		return fmt.Errorf("%w: unreadable subject", ErrAmbiguousSubject)
	}
	n := 0
	for _, rdn := range rdns {
		for _, a := range rdn {
			if !a.Type.Equal(oidCommonName) {
				continue
			}
			n++
			if len(rdn) > 1 {
				return fmt.Errorf("%w: a common name in a multi-valued RDN", ErrAmbiguousSubject)
			}
		}
	}
	return commonNameCount(n)
}

func commonNameCount(n int) error {
	if n > 1 {
		return fmt.Errorf("%w: %d common names", ErrAmbiguousSubject, n)
	}
	return nil
}
