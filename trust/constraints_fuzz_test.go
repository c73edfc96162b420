package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

// FuzzNameConstraints feeds arbitrary bytes to the name constraints and
// name parsers that certgate applies itself: no panic, and a parsed name
// is within itself.
func FuzzNameConstraints(f *testing.F) {
	org := func(o string) []byte {
		der, _ := asn1.Marshal(pkix.RDNSequence{{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: o}}})
		return der
	}
	dir, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: org("ci")})
	subtree, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: dir})
	permitted, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: subtree})
	nc, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: permitted})
	ip, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: []byte{10, 0, 0, 0, 255, 0, 0, 0}})
	f.Add(nc)
	f.Add(org("ci"))
	f.Add(ip)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		if c, err := parseNameConstraintsValue(der); err == nil {
			leaf := &x509.Certificate{RawSubject: der, Extensions: []pkix.Extension{{Id: oidSubjectAltName, Value: der}}}
			_ = c.check(leaf)
		}
		if dn, err := parseDN(der); err == nil && !dn.within(dn) {
			t.Errorf("a name is not within itself: %x", der)
		}
		_ = certificateRule(der)
		_ = crlRule(der)
	})
}
