package server

import "strings"

// Every header value certgate sends (the identity headers and the policy's
// headers upstream, the policy's response_headers to a denied client) is
// percent-encoded the same way, so that it is a valid field value whatever
// the certificate or the policy data holds, and decodes back to exactly the
// string the policy saw:
//
//   - every byte outside visible ASCII and space (0x00–0x1F, 0x7F–0xFF:
//     CR, LF, NUL, tab and each byte of a UTF-8 sequence) becomes %XX,
//     upper-case hex, so "José" is sent as "Jos%C3%A9";
//   - '%' becomes %25, so a value never decodes to something it did not say;
//   - a space that begins or ends the value becomes %20, because HTTP trims
//     it: "admin " would otherwise reach the upstream as "admin".
//
// x-certgate-groups also encodes ',' as %2C inside each group (and the
// leading or trailing space of each group), so that it splits on commas
// into exactly the certificate's O values.

const hexDigits = "0123456789ABCDEF"

// headerValue returns s encoded for a header value; s itself, without
// allocating, when it needs no encoding.
func headerValue(s string) string {
	return encodeHeaderValue(s, 0)
}

// encodeHeaderValue is headerValue that also encodes sep (0 for none: NUL
// is encoded anyway).
func encodeHeaderValue(s string, sep byte) string {
	if plainHeaderValue(s, sep) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	writeHeaderValue(&b, s, sep)
	return b.String()
}

// plainHeaderValue reports whether s is sent as it is.
func plainHeaderValue(s string, sep byte) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '%' || c == sep {
			return false
		}
	}
	return true
}

func writeHeaderValue(b *strings.Builder, s string, sep byte) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' || c == sep || (c == ' ' && (i == 0 || i == len(s)-1)) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
}

// joinGroups is the value of x-certgate-groups: the groups in order, each
// encoded with ',' as well, joined with ",".
func joinGroups(groups []string) string {
	plain := true
	for _, g := range groups {
		if !plainHeaderValue(g, ',') {
			plain = false
			break
		}
	}
	if plain {
		return strings.Join(groups, ",")
	}
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteByte(',')
		}
		writeHeaderValue(&b, g, ',')
	}
	return b.String()
}
