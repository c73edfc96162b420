package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"unicode/utf16"
)

// Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b) and (c)) on the forms
// crypto/x509 does not process. It applies DNS, IP, email and URI
// subtrees itself; certgate applies directoryName subtrees to the subject
// and to directoryName alternative names, and, for the forms nobody here
// processes (otherName, x400Address, ediPartyName, registeredID), refuses
// a certificate only when it actually carries a name of that form, as
// §4.2.1.10 allows ("process the constraint or reject the certificate").

var (
	oidNameConstraints = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidSubjectAltName  = asn1.ObjectIdentifier{2, 5, 29, 17}
)

// GeneralName choices (RFC 5280 §4.2.1.6) that certgate handles itself.
const (
	tagDirectoryName = 4
	tagIPAddress     = 7
)

// unprocessedForms are the GeneralName forms whose constraints no one
// applies, by tag.
var unprocessedForms = map[int]string{0: "otherName", 3: "x400Address", 5: "ediPartyName", 8: "registeredID"}

// nameConstraints holds what certgate applies of one certificate's
// nameConstraints extension.
type nameConstraints struct {
	permittedDirs, excludedDirs []distinguishedName
	// forms are the unprocessed name forms the extension constrains.
	forms map[int]bool
}

// distinguishedName is a parsed Name: RDNs in order, each a set of
// attribute type and value pairs.
type distinguishedName [][]attribute

type attribute struct {
	oid   asn1.ObjectIdentifier
	value asn1.RawValue
}

// elements splits the content of a constructed DER value into its
// elements.
func elements(der []byte) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(der) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(der, &v)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		der = rest
	}
	return out, nil
}

// sequence reads der as one SEQUENCE and returns its elements.
func sequence(der []byte) ([]asn1.RawValue, error) {
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 || v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence {
		return nil, errors.New("not one SEQUENCE")
	}
	return elements(v.Bytes)
}

// parseNameConstraints reads c's nameConstraints extension; nil when it
// has none.
func parseNameConstraints(c *x509.Certificate) (*nameConstraints, error) {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oidNameConstraints) {
			return parseNameConstraintsValue(ext.Value)
		}
	}
	return nil, nil
}

func parseNameConstraintsValue(der []byte) (*nameConstraints, error) {
	trees, err := sequence(der)
	if err != nil {
		return nil, fmt.Errorf("nameConstraints: %w", err)
	}
	nc := &nameConstraints{forms: map[int]bool{}}
	for _, t := range trees {
		if t.Class != asn1.ClassContextSpecific || t.Tag > 1 || !t.IsCompound {
			return nil, errors.New("nameConstraints: unexpected element")
		}
		subtrees, err := elements(t.Bytes)
		if err != nil {
			return nil, fmt.Errorf("nameConstraints: %w", err)
		}
		for _, st := range subtrees {
			dn, err := nc.addSubtree(st.FullBytes)
			if err != nil {
				return nil, err
			}
			if dn == nil {
				continue
			}
			if t.Tag == 0 {
				nc.permittedDirs = append(nc.permittedDirs, dn)
			} else {
				nc.excludedDirs = append(nc.excludedDirs, dn)
			}
		}
	}
	return nc, nil
}

// addSubtree reads one GeneralSubtree and returns its base when it is a
// directoryName; other forms are noted in nc.forms or left to crypto/x509.
func (nc *nameConstraints) addSubtree(der []byte) (distinguishedName, error) {
	fields, err := sequence(der)
	if err != nil || len(fields) == 0 {
		return nil, errors.New("nameConstraints: malformed GeneralSubtree")
	}
	base := fields[0]
	if base.Class != asn1.ClassContextSpecific {
		return nil, errors.New("nameConstraints: base is not a GeneralName")
	}
	switch base.Tag {
	case tagDirectoryName:
		dn, err := parseDN(base.Bytes)
		if err != nil {
			return nil, fmt.Errorf("nameConstraints: directoryName: %w", err)
		}
		return dn, nil
	case tagIPAddress:
		if !validIPConstraint(base.Bytes) {
			return nil, errors.New("nameConstraints: iPAddress is not an address and a contiguous mask")
		}
	case 1, 2, 6: // rfc822Name, dNSName, URI: crypto/x509 applies them
	default:
		if _, ok := unprocessedForms[base.Tag]; !ok {
			return nil, fmt.Errorf("nameConstraints: unknown GeneralName [%d]", base.Tag)
		}
		nc.forms[base.Tag] = true
	}
	return nil, nil
}

// validIPConstraint reports whether b is an IPv4 or IPv6 address followed
// by a contiguous mask of the same length (RFC 5280 §4.2.1.10).
func validIPConstraint(b []byte) bool {
	if len(b) != 2*net.IPv4len && len(b) != 2*net.IPv6len {
		return false
	}
	ones, bits := net.IPMask(b[len(b)/2:]).Size()
	return bits != 0 || ones != 0
}

// parseDN reads a DER Name (RDNSequence).
func parseDN(der []byte) (distinguishedName, error) {
	rdns, err := sequence(der)
	if err != nil {
		return nil, err
	}
	dn := make(distinguishedName, 0, len(rdns))
	for _, set := range rdns {
		if set.Tag != asn1.TagSet {
			return nil, errors.New("RDN is not a SET")
		}
		atvs, err := elements(set.Bytes)
		if err != nil {
			return nil, err
		}
		var rdn []attribute
		for _, atv := range atvs {
			var a struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}
			if rest, err := asn1.Unmarshal(atv.FullBytes, &a); err != nil || len(rest) > 0 {
				return nil, errors.New("malformed attribute")
			}
			rdn = append(rdn, attribute{a.Type, a.Value})
		}
		dn = append(dn, rdn)
	}
	return dn, nil
}

// within reports whether dn is base or below it (base is a prefix).
func (dn distinguishedName) within(base distinguishedName) bool {
	if len(base) > len(dn) {
		return false
	}
	for i, rdn := range base {
		if !sameRDN(rdn, dn[i]) {
			return false
		}
	}
	return true
}

func sameRDN(a, b []attribute) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y attribute) bool { return sameAttribute(x, y) }) {
			return false
		}
	}
	return true
}

// sameAttribute compares two attribute values the way RFC 5280 §7.1 asks
// at least: strings ignoring case and runs of spaces, anything else as DER.
func sameAttribute(a, b attribute) bool {
	if !a.oid.Equal(b.oid) {
		return false
	}
	sa, okA := directoryString(a.value)
	sb, okB := directoryString(b.value)
	if okA && okB {
		return sa == sb
	}
	return bytes.Equal(a.value.FullBytes, b.value.FullBytes)
}

// directoryString returns v as a normalized string, if it is one.
func directoryString(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal {
		return "", false
	}
	var s string
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, asn1.TagT61String, 26: // 26: VisibleString
		s = string(v.Bytes)
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		s = string(utf16.Decode(u))
	default:
		return "", false
	}
	return strings.ToLower(strings.Join(strings.Fields(s), " ")), true
}

// altNames returns c's directoryName alternative names and the set of
// GeneralName forms its subjectAltName holds.
func altNames(c *x509.Certificate) ([]distinguishedName, map[int]bool, error) {
	forms := map[int]bool{}
	var dirs []distinguishedName
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		names, err := sequence(ext.Value)
		if err != nil {
			return nil, nil, err
		}
		for _, n := range names {
			forms[n.Tag] = true
			if n.Tag == tagDirectoryName {
				dn, err := parseDN(n.Bytes)
				if err != nil {
					return nil, nil, err
				}
				dirs = append(dirs, dn)
			}
		}
	}
	return dirs, forms, nil
}

// unhandledCritical returns c's critical extensions that nobody processes:
// crypto/x509's list, less nameConstraints when certgate can read it (and
// applies it), and less subjectAltName when it is well-formed (certgate
// needs no alternative name of its own; name constraints read it).
func unhandledCritical(c *x509.Certificate) []asn1.ObjectIdentifier {
	out := c.UnhandledCriticalExtensions
	for _, id := range []asn1.ObjectIdentifier{oidNameConstraints, oidSubjectAltName} {
		i := slices.IndexFunc(out, func(u asn1.ObjectIdentifier) bool { return u.Equal(id) })
		if i < 0 || !readable(c, id) {
			continue
		}
		out = slices.Delete(slices.Clone(out), i, i+1)
	}
	return out
}

// readable reports whether certgate parses c's extension id.
func readable(c *x509.Certificate, id asn1.ObjectIdentifier) bool {
	if id.Equal(oidNameConstraints) {
		_, err := parseNameConstraints(c)
		return err == nil
	}
	_, _, err := altNames(c)
	return err == nil
}

// checkNameConstraints applies the nameConstraints of every CA in path
// (leaf first) to the certificates below it, self-issued intermediates
// excepted (RFC 5280 §6.1.3 (b)).
func checkNameConstraints(path []*x509.Certificate) (Reason, *x509.Certificate, string) {
	for k := 1; k < len(path); k++ {
		nc, err := parseNameConstraints(path[k])
		if err != nil {
			return ReasonInvalid, path[k], err.Error()
		}
		if nc == nil {
			continue
		}
		for j := range k {
			if j > 0 && selfIssued(path[j]) {
				continue
			}
			if detail := nc.check(path[j]); detail != "" {
				return ReasonInvalid, path[j], fmt.Sprintf("%s, under the name constraints of %q", detail, path[k].Subject)
			}
		}
	}
	return "", nil, ""
}

// check returns why c breaks nc, or "".
func (nc *nameConstraints) check(c *x509.Certificate) string {
	dirs, forms, err := altNames(c)
	if err != nil {
		return "subjectAltName: " + err.Error()
	}
	for tag := range forms {
		if nc.forms[tag] {
			return fmt.Sprintf("it has an %s alternative name, a form whose constraints certgate does not process", unprocessedForms[tag])
		}
	}
	if len(nc.permittedDirs) == 0 && len(nc.excludedDirs) == 0 {
		return ""
	}
	subject, err := parseDN(c.RawSubject)
	if err != nil {
		return "subject: " + err.Error()
	}
	if len(subject) > 0 {
		dirs = append(dirs, subject)
	}
	for _, dn := range dirs {
		if len(nc.permittedDirs) > 0 && !slices.ContainsFunc(nc.permittedDirs, dn.within) {
			return "a directory name outside the permitted subtrees"
		}
		if slices.ContainsFunc(nc.excludedDirs, dn.within) {
			return "a directory name in an excluded subtree"
		}
	}
	return ""
}
