package trust

import (
	"bytes"
	"crypto/x509"
	"slices"
	"time"
)

// A cold verification would check two signatures for the usual chain of
// a client certificate, root → intermediate → leaf: the leaf's and the
// intermediate's, which is the same every time. So a Store verifies the
// way up from each configured intermediate once, at load, and hands
// crypto/x509 those intermediates as trust anchors: per request it checks
// the leaf's signature and the certificates between the leaf and an
// anchor, and the Store appends the anchor's paths to a root. What
// crypto/x509 would have checked of the appended certificates and may
// change with the request is checked again per request (checkUpper):
// their validity at the time of the request, and that they allow the
// requested extended key usage. certgate's own path rules (checkPath,
// checkRules, revocation, twins, bindings) run on the whole path as
// before.
//
// An intermediate is not an anchor, and paths are built through it as
// before, when its way up cannot be taken as fixed:
//   - it is not a CA by basicConstraints (crypto/x509 checks that of
//     intermediates, not of anchors), or it is self-issued;
//   - a certificate above it carries name constraints, which crypto/x509
//     applies to the names of every certificate below;
//   - it or a certificate above it requires an explicit policy or maps
//     policies: crypto/x509's policy check (RFC 9618) fails a chain only
//     then, and it does not process the anchor's own extensions;
//   - its way up does not verify at load.
//
// For the same reason a request whose own chain (the leaf, or an
// intermediate it presents) requires an explicit policy or maps policies
// gets whole paths built, as does one presenting a certificate of a
// configured CA's key that is not configured (a cross-signature: a way up
// the anchors' do not hold, perhaps a revoked twin), and one whose path goes through a
// configured intermediate below an anchor that does (the client need not
// present it).
//
// The ways up are found as of the time every configured CA has become
// valid (the latest notBefore among them), and serve requests dated from
// then on: a CA valid then and at a later time was valid all along, so no
// way up that holds later is missing, and those that no longer hold are
// dropped per request. A request dated before that time (a root
// configured ahead of a rollover, say) gets whole paths built.

// anchoring is what a Store keeps to build paths from anchors.
type anchoring struct {
	// roots are the configured roots and the anchors, inters the other
	// intermediates (views, as crypto/x509 sees them).
	roots, inters *x509.CertPool
	// upper holds, by the view of an anchor, its paths to a root without
	// the anchor itself (originals).
	upper map[*x509.Certificate][][]*x509.Certificate
	// since is the latest notBefore of the configured CAs: requests
	// dated before it build paths without anchors.
	since time.Time
	// keys are the public keys (SPKI DER) of the configured CAs.
	keys map[string]bool
}

// anchor computes the anchoring of a Store whose pools and views index
// has filled; nil when no intermediate can be an anchor.
func (s *Store) anchor(roots, inters []*x509.Certificate) *anchoring {
	var since time.Time
	for _, c := range slices.Concat(roots, inters) {
		if c.NotBefore.After(since) {
			since = c.NotBefore
		}
	}
	now := since
	a := &anchoring{roots: x509.NewCertPool(), inters: x509.NewCertPool(), upper: map[*x509.Certificate][][]*x509.Certificate{}, since: now, keys: map[string]bool{}}
	for _, c := range slices.Concat(roots, inters) {
		a.keys[string(c.RawSubjectPublicKeyInfo)] = true
	}
	for _, c := range roots {
		a.roots.AddCert(s.viewOf(c))
	}
	for _, c := range inters {
		v := s.viewOf(c)
		if up := s.upperPaths(c, v, now); up != nil {
			a.roots.AddCert(v)
			a.upper[v] = up
		} else {
			a.inters.AddCert(v)
		}
	}
	if len(a.upper) == 0 {
		return nil
	}
	return a
}

// viewOf is the view crypto/x509 sees of a configured certificate.
func (s *Store) viewOf(c *x509.Certificate) *x509.Certificate {
	for v, o := range s.views {
		if o == c {
			return v
		}
	}
	return c
}

// upperPaths returns the paths from the intermediate c (whose view is v)
// to a configured root, without c, or nil when c cannot be an anchor.
func (s *Store) upperPaths(c, v *x509.Certificate, now time.Time) [][]*x509.Certificate {
	if !c.BasicConstraintsValid || !c.IsCA || selfIssued(c) || policyConstrained(c) {
		return nil
	}
	paths, err := v.Verify(x509.VerifyOptions{Roots: s.roots, Intermediates: s.inters, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil
	}
	s.views.originals(paths, nil)
	up := make([][]*x509.Certificate, 0, len(paths))
	for _, p := range paths {
		for _, u := range p[1:] {
			if _, constrained := extension(u, oidNameConstraints); constrained || policyConstrained(u) {
				return nil
			}
		}
		up = append(up, p[1:])
	}
	return up
}

// policyConstrained reports whether c is one of the certificates that can
// make crypto/x509's policy check fail a chain: one that requires an
// explicit policy, or maps policies.
func policyConstrained(c *x509.Certificate) bool {
	return c.RequireExplicitPolicy > 0 || c.RequireExplicitPolicyZero || len(c.PolicyMappings) > 0
}

// extend appends to each path that ends at an anchor (a view, as
// crypto/x509 returned it) the anchor's ways up that hold at now for
// usage. A path none of whose ways up holds is dropped; when all are,
// the error is the one crypto/x509 would have given.
func (a *anchoring) extend(paths [][]*x509.Certificate, now time.Time, usage x509.ExtKeyUsage) ([][]*x509.Certificate, error) {
	out := make([][]*x509.Certificate, 0, len(paths))
	var refused error
	for _, p := range paths {
		ups, anchored := a.upper[p[len(p)-1]]
		if !anchored {
			out = append(out, p)
			continue
		}
		for _, up := range ups {
			if err := checkUpper(up, now, usage); err != nil {
				refused = err
				continue
			}
			if loops(p, up) {
				continue
			}
			out = append(out, slices.Concat(p, up))
		}
	}
	if len(out) == 0 && refused != nil {
		return nil, refused
	}
	return out, nil
}

// loops reports whether a certificate of up has the subject and key of one
// of p: crypto/x509 does not build such paths (alreadyInChain), which go
// round a cross-signature back to where they were.
func loops(p, up []*x509.Certificate) bool {
	for _, u := range up {
		for _, c := range p {
			if bytes.Equal(u.RawSubject, c.RawSubject) && bytes.Equal(u.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
				return true
			}
		}
	}
	return false
}

// checkUpper checks what crypto/x509 checks per request of the
// certificates above an anchor: each is valid at now and allows usage.
func checkUpper(up []*x509.Certificate, now time.Time, usage x509.ExtKeyUsage) error {
	for _, c := range up {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return x509.CertificateInvalidError{Cert: c, Reason: x509.Expired, Detail: "current time " + now.Format(time.RFC3339) + " is outside the validity of " + c.Subject.String()}
		}
		if !allowsUsage(c, usage) {
			return x509.CertificateInvalidError{Cert: c, Reason: x509.IncompatibleUsage}
		}
	}
	return nil
}

// allowsUsage is crypto/x509's extended key usage rule for one CA of a
// chain: no extension, anyExtendedKeyUsage, or the usage itself (asking
// for any usage asks nothing).
func allowsUsage(c *x509.Certificate, usage x509.ExtKeyUsage) bool {
	if usage == x509.ExtKeyUsageAny || len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) || slices.Contains(c.ExtKeyUsage, usage)
}
