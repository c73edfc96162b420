package server

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrAmbiguousPath marks a request path that cannot be normalized to one
// meaning that every upstream would agree on; such requests are denied with 400.
var ErrAmbiguousPath = errors.New("ambiguous request path")

// maxPathBytes bounds the work spent on one path; longer paths are refused.
const maxPathBytes = 8 << 10

// NormalizedPath is a request target split into its normalized path, the
// path as sent, and the query.
type NormalizedPath struct {
	Path     string
	RawPath  string
	RawQuery string
}

// NormalizePath normalizes an origin-form request target ("/a/b?x=1", as
// Envoy's :path and NGINX's $request_uri carry it): it splits off the query,
// decodes percent-encoded unreserved characters, merges repeated slashes and
// removes "." and ".." segments. Targets that stay ambiguous — a "#", a ";"
// or "%3B" in the path, an encoded "/" or "\", a backslash, a NUL or other
// control byte, a bad escape, ".." climbing above the root — are rejected
// with ErrAmbiguousPath, because an upstream could read them differently
// from the policy. SECURITY.md ("Path rules") says why for each.
func NormalizePath(target string) (NormalizedPath, error) {
	if len(target) > maxPathBytes {
		return NormalizedPath{}, fmt.Errorf("%w: longer than %d bytes", ErrAmbiguousPath, maxPathBytes)
	}
	// A fragment never belongs on the wire. NGINX ($uri, location, a
	// proxy_pass with a URI) ends the path, and the query, at '#'; Go's
	// net/http keeps the '#' as a byte of the path: two readings of one
	// target.
	if i := strings.IndexByte(target, '#'); i >= 0 {
		return NormalizedPath{}, fmt.Errorf("%w: '#' at byte %d (NGINX ends the request target there, Go's net/http does not)", ErrAmbiguousPath, i)
	}
	raw, query, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(raw, "/") {
		return NormalizedPath{}, fmt.Errorf("%w: does not start with /", ErrAmbiguousPath)
	}
	decoded, err := decodeUnreserved(raw)
	if err != nil {
		return NormalizedPath{}, err
	}
	if err := refuseParams(decoded); err != nil {
		return NormalizedPath{}, err
	}
	clean, err := removeDotSegments(decoded)
	if err != nil {
		return NormalizedPath{}, err
	}
	return NormalizedPath{Path: clean, RawPath: raw, RawQuery: query}, nil
}

// decodeUnreserved decodes %XX escapes of unreserved characters (RFC 3986
// §2.3) and upper-cases the hex of every other escape, so that equivalent
// spellings compare equal. Encoded separators are refused.
func decodeUnreserved(p string) (string, error) {
	if !strings.ContainsAny(p, "%\\") && !hasControl(p) {
		return p, nil
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			return "", fmt.Errorf("%w: contains a backslash", ErrAmbiguousPath)
		case c < 0x20 || c == 0x7f:
			return "", fmt.Errorf("%w: contains control byte 0x%02x", ErrAmbiguousPath, c)
		case c != '%':
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			return "", fmt.Errorf("%w: bad percent-escape at byte %d", ErrAmbiguousPath, i)
		}
		v := unhex(p[i+1])<<4 | unhex(p[i+2])
		switch {
		case v == '/' || v == '\\':
			return "", fmt.Errorf("%w: encoded %q", ErrAmbiguousPath, string(rune(v)))
		case v < 0x20 || v == 0x7f:
			return "", fmt.Errorf("%w: encoded control byte 0x%02x", ErrAmbiguousPath, v)
		case isUnreserved(v):
			b.WriteByte(v)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex(p[i+1]))
			b.WriteByte(upperHex(p[i+2]))
		}
		i += 2
	}
	return b.String(), nil
}

// refuseParams refuses path parameters: a ";" or an encoded "%3B" in any
// segment of p (decoded by decodeUnreserved, so escapes are upper-case and
// dots are dots). Tomcat, Jetty and Spring cut ";…" off each segment before
// they route, so "..;" is ".." to them and "admin;x=1" is "admin", while
// NGINX and the policy see the whole segment; NGINX also decodes "%3B" to
// ";" when a proxy_pass with a URI forwards the path. A dot-segment hidden
// behind parameters gets its own reason: it is the attack, not a typo.
func refuseParams(p string) error {
	if strings.IndexByte(p, ';') < 0 && !strings.Contains(p, "%3B") {
		return nil
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		i := strings.IndexByte(seg, ';')
		if j := strings.Index(seg, "%3B"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		switch {
		case i < 0:
			continue
		case seg[:i] == "." || seg[:i] == "..":
			return fmt.Errorf("%w: dot-segment %q behind ;parameters (Tomcat, Jetty and Spring read it as %q)", ErrAmbiguousPath, truncate(seg, 32), seg[:i])
		case seg[i] == '%':
			return fmt.Errorf("%w: encoded ';' in segment %q (NGINX forwards it as ';' through a proxy_pass with a URI)", ErrAmbiguousPath, truncate(seg, 32))
		default:
			return fmt.Errorf("%w: ';' in segment %q (Tomcat, Jetty and Spring drop ;parameters before routing, NGINX and the policy do not)", ErrAmbiguousPath, truncate(seg, 32))
		}
	}
	return nil
}

// removeDotSegments merges empty segments and resolves "." and "..". A
// trailing slash is kept: upstreams often route "/a/" and "/a" differently.
func removeDotSegments(p string) (string, error) {
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return p, nil
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
			trailing = last
		case "..":
			if len(out) == 0 {
				return "", fmt.Errorf("%w: .. climbs above the root", ErrAmbiguousPath)
			}
			out = out[:len(out)-1]
			trailing = last
		default:
			out = append(out, s)
			trailing = false
		}
	}
	clean := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		clean += "/"
	}
	return clean, nil
}

// ParseQuery parses a raw query into a map of lists. Malformed pairs are
// skipped rather than failing the request: the query is information for the
// policy, and Go's parser refuses separators (";") that upstreams accept.
func ParseQuery(raw string) map[string][]string {
	if raw == "" {
		return map[string][]string{}
	}
	q, _ := url.ParseQuery(raw)
	if q == nil {
		return map[string][]string{}
	}
	return q
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
