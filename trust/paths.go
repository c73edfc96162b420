package trust

import (
	"crypto/x509"
	"slices"
	"time"
)

// crypto/x509 builds the paths, but two of its checks are stricter than
// RFC 5280 and would refuse chains the RFC accepts:
//
//   - it counts self-issued intermediates toward pathLenConstraint, which
//     RFC 5280 §6.1.4 (l) does not (a CA that re-keys under its own name);
//   - it refuses a critical nameConstraints extension with directoryName
//     (or otherName, …) subtrees as an unhandled critical extension, and a
//     critical subjectAltName holding only names it does not parse
//     (otherName, directoryName: RFC 5280 §4.2.1.6 makes the extension
//     critical when the subject is empty).
//
// So Verify hands crypto/x509 a view of each such certificate: a shallow
// copy without pathLenConstraint and with those extensions counted as
// handled. The signature, names and keys are the original's, so the paths
// are the same; certgate maps them back to the originals and applies both
// rules itself (depth.go, constraints.go). A copy is made only when needed.

// goView returns the certificate crypto/x509 should see in place of c, and
// whether it is a copy.
func goView(c *x509.Certificate) (*x509.Certificate, bool) {
	hasPathLen := c.BasicConstraintsValid && c.MaxPathLen >= 0
	unhandled := unhandledCritical(c)
	trimmed := len(unhandled) < len(c.UnhandledCriticalExtensions)
	if !hasPathLen && !trimmed {
		return c, false
	}
	v := *c
	if hasPathLen {
		v.MaxPathLen, v.MaxPathLenZero = -1, false
	}
	if trimmed {
		v.UnhandledCriticalExtensions = unhandled
	}
	return &v, true
}

// views maps the copies crypto/x509 saw back to the originals.
type views map[*x509.Certificate]*x509.Certificate

// add returns c's view and remembers where it came from.
func (m views) add(c *x509.Certificate) *x509.Certificate {
	v, copied := goView(c)
	if copied {
		m[v] = c
	}
	return v
}

// originals rewrites paths in place with the original certificates.
func (m views) originals(paths [][]*x509.Certificate, local views) {
	for _, path := range paths {
		for i, c := range path {
			if o, ok := m[c]; ok {
				path[i] = o
			} else if o, ok := local[c]; ok {
				path[i] = o
			}
		}
	}
}

// buildPaths runs crypto/x509's path building for chain (leaf first) on
// views of its certificates and returns the paths with the originals,
// from the anchors (anchors.go) when the Store has them.
func (s *Store) buildPaths(chain []*x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
	return s.paths(chain, opts, s.anchoringFor(chain, opts.CurrentTime))
}

// anchoringFor is the anchoring to build paths for chain from at now, or
// nil for whole paths (see anchors.go). A leaf that is itself a
// configured CA (certgate verify --purpose any) gets whole paths:
// crypto/x509 returns an anchor given as the leaf as a path of its own,
// without the way up the Store would append. So does a chain presenting
// another certificate of a configured CA's key (a cross-signature).
func (s *Store) anchoringFor(chain []*x509.Certificate, now time.Time) *anchoring {
	a := s.anchors
	if a == nil || now.Before(a.since) || slices.ContainsFunc(chain, policyConstrained) || s.isConfigured(chain[0]) {
		return nil
	}
	for _, c := range chain[1:] {
		if a.keys[string(c.RawSubjectPublicKeyInfo)] && !s.isConfigured(c) {
			// A presented twin of a configured CA (its key under
			// another issuer) opens ways up the anchors' do not hold,
			// which crypto/x509 never reaches past an anchor.
			return nil
		}
	}
	return a
}

// wholePaths is buildPaths without anchors.
func (s *Store) wholePaths(chain []*x509.Certificate, opts x509.VerifyOptions) ([][]*x509.Certificate, error) {
	return s.paths(chain, opts, nil)
}

// anyPolicyConstrained reports whether a certificate of path is
// policyConstrained.
func anyPolicyConstrained(path []*x509.Certificate) bool {
	return slices.ContainsFunc(path, policyConstrained)
}

// paths is buildPaths from the anchoring a (nil: whole paths).
func (s *Store) paths(chain []*x509.Certificate, opts x509.VerifyOptions, a *anchoring) ([][]*x509.Certificate, error) {
	local := views{}
	leaf := local.add(chain[0])
	opts.Roots, opts.Intermediates = s.roots, s.inters
	if a != nil {
		opts.Roots, opts.Intermediates = a.roots, a.inters
	}
	if len(chain) > 1 {
		opts.Intermediates = opts.Intermediates.Clone()
		for _, c := range chain[1:] {
			if a != nil && s.isConfigured(c) {
				continue // the pools hold it, an anchor perhaps
			}
			opts.Intermediates.AddCert(local.add(c))
		}
	}
	paths, err := leaf.Verify(opts)
	if err == nil && a != nil && slices.ContainsFunc(paths, anyPolicyConstrained) {
		// A configured intermediate the client did not present, below
		// an anchor, requires an explicit policy or maps policies: the
		// anchor's policies count then (see anchors.go).
		return s.wholePaths(chain, opts)
	}
	if err == nil && a != nil {
		paths, err = a.extend(paths, opts.CurrentTime, opts.KeyUsages[0])
	}
	if err != nil {
		return nil, err
	}
	s.views.originals(paths, local)
	return paths, nil
}

// index fills the pools crypto/x509 builds paths from with views of the
// configured CAs, and notes which of them are self-signed (one signature
// check at load instead of one per request in the strict profile).
func (s *Store) index(roots, inters []*x509.Certificate) {
	s.views, s.signedBySelf, s.maxDepth = views{}, map[*x509.Certificate]bool{}, -1
	for _, c := range roots {
		s.roots.AddCert(s.views.add(c))
	}
	for _, c := range inters {
		s.inters.AddCert(s.views.add(c))
	}
	for _, c := range append(append([]*x509.Certificate{}, roots...), inters...) {
		if selfIssued(c) {
			s.signedBySelf[c] = c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
		}
	}
}
