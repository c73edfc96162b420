package trust

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"
)

// Cross-signed twins are CA certificates with the same subject and the same
// public key, issued by different issuers: an intermediate under the old
// root and again under the new one, or a root cross-signed by another root.
// RFC 5280 revokes certificates, one at a time, so revoking one twin would
// leave a chain through the other standing. certgate revokes the key
// instead: when a CRL lists one twin, every chain through any of them is
// refused as revoked. An operator revoking a CA certificate almost always
// means its key; one who only means to end a cross-signing removes the
// cross certificate (or the other root) from the configuration.
// docs/validation.md §3 and SECURITY.md say more.

// issuedCA is a configured CA certificate with a configured CA whose key
// signed it.
type issuedCA struct {
	cert, issuer *x509.Certificate
}

// issuedCAs finds, once at load, the issuer of each configured CA
// certificate among the configured ones, and files the pairs by public key.
// Self-issued links (a CA's own key signing it) are left out: a CA does not
// revoke itself.
func issuedCAs(configured []*x509.Certificate) map[string][]issuedCA {
	out := map[string][]issuedCA{}
	for _, c := range configured {
		for _, p := range configured {
			if p == c || !bytes.Equal(p.RawSubject, c.RawIssuer) || bytes.Equal(p.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
				continue
			}
			if c.CheckSignatureFrom(p) == nil {
				key := string(c.RawSubjectPublicKeyInfo)
				out[key] = append(out[key], issuedCA{cert: c, issuer: p})
			}
		}
	}
	return out
}

// checkTwins refuses path when one of its CA certificates has a twin that
// its issuer's CRL revokes. Twins are the configured CA certificates with a
// configured issuer, and the certificates of the other paths x509 built
// (intermediates the client presented). Only a listing counts, from the
// CRL that selectCRL picks, stale or not: the twin is not on this path, so
// whether its CRL is current decides nothing here. v.ValidUntil is brought
// forward to when a newer CRL of a twin's issuer takes effect.
func (s *Store) checkTwins(v *Verified, paths [][]*x509.Certificate, now time.Time) error {
	if len(s.issued) == 0 && len(paths) == 1 {
		return nil
	}
	for _, c := range v.Chain[1:] {
		for _, t := range s.issued[string(c.RawSubjectPublicKeyInfo)] {
			if err := s.twinRevoked(v, c, t.cert, t.issuer, now); err != nil {
				return err
			}
		}
		for _, q := range paths {
			for j := 1; j < len(q)-1; j++ {
				if bytes.Equal(q[j].RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
					if err := s.twinRevoked(v, c, q[j], q[j+1], now); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// twinRevoked returns a revoked Error for c when twin, a CA certificate
// with c's key that issuer signed, is c's twin and issuer's CRL lists it.
func (s *Store) twinRevoked(v *Verified, c, twin, issuer *x509.Certificate, now time.Time) error {
	if bytes.Equal(twin.Raw, c.Raw) || !bytes.Equal(twin.RawSubject, c.RawSubject) {
		return nil
	}
	choice := s.selectCRL(twin, issuer, now)
	v.ValidUntil = earliest(v.ValidUntil, choice.next)
	if choice.entry == nil || !choice.entry.lists(twin.SerialNumber) {
		return nil
	}
	return &Error{Reason: ReasonRevoked, Subject: c.Subject.String(), Serial: c.SerialNumber.Text(16),
		Detail: fmt.Sprintf("the CA key of %q is revoked: the CRL of %q lists serial %s, a certificate with the same subject and key", c.Subject, issuer.Subject, twin.SerialNumber.Text(16))}
}
