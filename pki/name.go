package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// SubjectString is c's subject as `openssl x509 -noout -subject` prints
// it (OpenSSL 3's default name options, without "subject="); see FormatName.
func SubjectString(c *x509.Certificate) string { return FormatName(c.RawSubject) }

// IssuerString is c's issuer as `openssl x509 -noout -issuer` prints it.
func IssuerString(c *x509.Certificate) string { return FormatName(c.RawIssuer) }

// FormatName prints a DER-encoded distinguished name as OpenSSL 3 does by
// default: the RDNs in the order they are encoded, separated by ", ", the
// values of a multi-valued RDN by " + ", "type = value" with OpenSSL's short
// names; a value with a character RFC 2253 escapes is quoted, control
// characters and the UTF-8 bytes of non-ASCII ones are \XX. Unlike
// pkix.Name.String, which regroups the parsed attributes (several O values
// print as one multi-valued RDN, "O=admins+O=viewers", in reverse order),
// it shows the name as it is encoded. A name that does not parse prints as
// "#" and its hex.
func FormatName(der []byte) string {
	out, ok := formatName(der)
	if !ok {
		return "#" + hex.EncodeToString(der)
	}
	return out
}

// rawATV is an AttributeTypeAndValue with the value left encoded, so that
// its string type is known.
type rawATV struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rawRDNSET is a RelativeDistinguishedName (the name's suffix makes
// encoding/asn1 read a SET OF).
type rawRDNSET []rawATV

func formatName(der []byte) (string, bool) {
	var seq []rawRDNSET
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 {
		return "", false
	}
	var b strings.Builder
	for i, rdn := range seq {
		if i > 0 {
			b.WriteString(", ")
		}
		for j, atv := range rdn {
			if j > 0 {
				b.WriteString(" + ")
			}
			b.WriteString(attributeName(atv.Type))
			b.WriteString(" = ")
			b.WriteString(formatValue(atv.Value))
		}
	}
	return b.String(), true
}

// formatValue prints one attribute value: a string escaped as OpenSSL
// does, anything else "#" and the hex of its DER.
func formatValue(v asn1.RawValue) string {
	runes, ok := decodeString(v)
	if !ok {
		return "#" + strings.ToUpper(hex.EncodeToString(v.FullBytes))
	}
	return escapeValue(runes)
}

// decodeString returns the characters of an ASN.1 string type, as OpenSSL
// reads them: T61String as Latin-1, BMPString as UCS-2, UniversalString as
// UCS-4.
func decodeString(v asn1.RawValue) ([]rune, bool) {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return nil, false
	}
	b := v.Bytes
	switch v.Tag {
	case asn1.TagUTF8String:
		if !utf8.Valid(b) {
			return nil, false
		}
		return []rune(string(b)), true
	case asn1.TagPrintableString, asn1.TagIA5String, asn1.TagT61String, asn1.TagNumericString, 26 /* VisibleString */ :
		out := make([]rune, len(b))
		for i, c := range b {
			out[i] = rune(c)
		}
		return out, true
	case asn1.TagBMPString:
		if len(b)%2 != 0 {
			return nil, false
		}
		out := make([]rune, 0, len(b)/2)
		for i := 0; i < len(b); i += 2 {
			out = append(out, rune(binary.BigEndian.Uint16(b[i:])))
		}
		return out, true
	case 28: // UniversalString
		if len(b)%4 != 0 {
			return nil, false
		}
		out := make([]rune, 0, len(b)/4)
		for i := 0; i < len(b); i += 4 {
			out = append(out, rune(binary.BigEndian.Uint32(b[i:])))
		}
		return out, true
	}
	return nil, false
}

// escapeValue applies OpenSSL's default escaping (ASN1_STRFLGS_RFC2253
// with ESC_QUOTE): the characters RFC 2253 escapes, a leading space or "#"
// and a trailing space make the value quoted; a double quote and a
// backslash are escaped with a backslash; control characters, DEL and each
// byte of a non-ASCII character in UTF-8 print as \XX.
func escapeValue(runes []rune) string {
	var b strings.Builder
	quote := false
	for i, r := range runes {
		switch {
		case r > 0x7f:
			var buf [utf8.UTFMax]byte
			for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
				fmt.Fprintf(&b, `\%02X`, c)
			}
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case strings.ContainsRune(`,+<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(runes)-1 && r == ' ':
			quote = true
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\%02X`, r)
		default:
			b.WriteRune(r)
		}
	}
	if quote {
		return `"` + b.String() + `"`
	}
	return b.String()
}

// attributeNames are OpenSSL's short names of the attribute types a
// certificate name commonly holds; others print as their dotted OID.
var attributeNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C", "2.5.4.7": "L",
	"2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "title",
	"2.5.4.13": "description", "2.5.4.15": "businessCategory", "2.5.4.17": "postalCode",
	"2.5.4.41": "name", "2.5.4.42": "GN", "2.5.4.43": "initials", "2.5.4.44": "generationQualifier",
	"2.5.4.46": "dnQualifier", "2.5.4.65": "pseudonym", "2.5.4.97": "organizationIdentifier",
	"1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.1": "UID",
	"0.9.2342.19200300.100.1.25": "DC", "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
	"1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST", "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}

func attributeName(oid asn1.ObjectIdentifier) string {
	if n, ok := attributeNames[oid.String()]; ok {
		return n
	}
	return oid.String()
}
