package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// ReasonIdentityNotAllowed is the failure of a chain whose leaf asserts a
// user or group that a Binding of a CA in its path does not allow.
const ReasonIdentityNotAllowed Reason = "identity_not_allowed_for_ca"

// Binding limits what the certificates below one CA may assert about their
// holder. X.509 name constraints limit a CA's SANs only: a CA constrained
// to team.example can still issue "CN=admin, O=admins". A Binding names the
// users (CN) and groups (O) such a CA may issue; a leaf below it that
// asserts anything else is refused (ReasonIdentityNotAllowed), never
// silently trimmed.
//
// The CA is named by a file or by the SHA-256 fingerprint of a configured
// CA or intermediate certificate, and matched by its public key: the
// binding holds wherever that key appears in a verified path, so a
// cross-signed copy of the CA certificate is bound too.
type Binding struct {
	// CAFile holds the CA certificate(s) bound (PEM or DER); they need not
	// be configured as CAs or intermediates (an intermediate clients
	// present may be bound).
	CAFile string
	// FingerprintSHA256 names a configured CA or intermediate certificate
	// by the hex SHA-256 of its DER (colons and case are ignored).
	FingerprintSHA256 string
	// AllowedUsers are the patterns the leaf's CN must match when it has
	// one; "*" matches any run of characters, "*" alone any user. Empty
	// allows no CN at all.
	AllowedUsers []string
	// AllowedGroups are the patterns every O of the leaf must match. Empty
	// allows no group.
	AllowedGroups []string
}

// boundKey is a Binding resolved at load: the key it binds, and what for.
type boundKey struct {
	binding Binding
	ca      string // the bound CA's subject, for messages
}

// resolveBindings maps each binding to the SHA-256 of the public keys it
// names.
func resolveBindings(bindings []Binding, configured []*x509.Certificate) (map[string][]boundKey, error) {
	if len(bindings) == 0 {
		return nil, nil
	}
	byFingerprint := make(map[string]*x509.Certificate, len(configured))
	for _, c := range configured {
		byFingerprint[fingerprint(c)] = c
	}
	out := map[string][]boundKey{}
	for i, b := range bindings {
		var certs []*x509.Certificate
		switch {
		case b.CAFile != "" && b.FingerprintSHA256 != "":
			return nil, fmt.Errorf("CA binding %d: name the CA by ca_file or fingerprint_sha256, not both", i)
		case b.CAFile != "":
			loaded, err := loadCerts([]string{b.CAFile})
			if err != nil {
				return nil, fmt.Errorf("CA binding %d: %w", i, err)
			}
			certs = loaded
		case b.FingerprintSHA256 != "":
			want := strings.ToLower(strings.ReplaceAll(b.FingerprintSHA256, ":", ""))
			c, ok := byFingerprint[want]
			if !ok {
				return nil, fmt.Errorf("CA binding %d: fingerprint %.80s names no configured CA or intermediate", i, b.FingerprintSHA256)
			}
			certs = []*x509.Certificate{c}
		default:
			return nil, fmt.Errorf("CA binding %d: name the CA by ca_file or fingerprint_sha256", i)
		}
		for _, c := range certs {
			if !c.IsCA {
				return nil, fmt.Errorf("CA binding %d: %q is not a CA certificate", i, c.Subject)
			}
			k := keyID(c)
			out[k] = append(out[k], boundKey{binding: b, ca: c.Subject.String()})
		}
	}
	return out, nil
}

// checkBindings refuses leaf when a binding of a CA key in any of paths
// does not allow its CN or one of its O. Every path counts: a path through
// an unbound cross-signature must not lift the binding of another.
func (s *Store) checkBindings(leaf *x509.Certificate, paths [][]*x509.Certificate) error {
	if len(s.bindings) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, path := range paths {
		for _, ca := range path[1:] {
			k := keyID(ca)
			if seen[k] {
				continue
			}
			seen[k] = true
			for _, bk := range s.bindings[k] {
				if detail := bk.refuses(leaf); detail != "" {
					return &Error{Reason: ReasonIdentityNotAllowed, Subject: leaf.Subject.String(), Serial: leaf.SerialNumber.Text(16), Detail: detail}
				}
			}
		}
	}
	return nil
}

// refuses says what of leaf's identity bk does not allow, or "".
func (bk boundKey) refuses(leaf *x509.Certificate) string {
	if cn := leaf.Subject.CommonName; cn != "" && !matchesAny(bk.binding.AllowedUsers, cn) {
		return fmt.Sprintf("user %q is not allowed for CA %q", truncateName(cn), bk.ca)
	}
	for _, o := range leaf.Subject.Organization {
		if !matchesAny(bk.binding.AllowedGroups, o) {
			return fmt.Sprintf("group %q is not allowed for CA %q", truncateName(o), bk.ca)
		}
	}
	return ""
}

// UnboundConstrainedCAs lists the subjects of configured CAs and
// intermediates that carry X.509 name constraints but no Binding: their
// constraints bind the SANs they may issue, not the users and groups.
func (s *Store) UnboundConstrainedCAs() []string {
	var out []string
	for _, c := range s.configured {
		if hasNameConstraints(c) && len(s.bindings[keyID(c)]) == 0 {
			out = append(out, c.Subject.String())
		}
	}
	return out
}

func hasNameConstraints(c *x509.Certificate) bool {
	return len(c.PermittedDNSDomains)+len(c.ExcludedDNSDomains)+len(c.PermittedIPRanges)+len(c.ExcludedIPRanges)+
		len(c.PermittedEmailAddresses)+len(c.ExcludedEmailAddresses)+len(c.PermittedURIDomains)+len(c.ExcludedURIDomains) > 0
}

// matchesAny reports whether s matches one of patterns, in which "*"
// stands for any run of characters and everything else for itself.
func matchesAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if matchPattern(p, s) {
			return true
		}
	}
	return false
}

func matchPattern(p, s string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// keyID is the hex SHA-256 of a certificate's SubjectPublicKeyInfo.
func keyID(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// truncateName bounds a name quoted from a certificate in an error.
func truncateName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
