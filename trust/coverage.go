package trust

import (
	"crypto/x509"
	"slices"
)

// CAsWithoutCRL lists the configured CAs, roots and intermediates, for
// which no loaded CRL could ever be current: none names the CA as issuer,
// is signed by it, is usable (see crlUsable) and has a nextUpdate. With
// revocation checking on, a certificate such a CA issued is never
// authenticated (crl_unavailable): under full_chain any certificate, under
// leaf a client certificate. Whether a CRL is current now is left to the
// CRL warnings, which repeat as time passes.
func (s *Store) CAsWithoutCRL() []*x509.Certificate {
	var out []*x509.Certificate
	for _, ca := range s.configured {
		if !slices.ContainsFunc(s.crls[string(ca.RawSubject)], func(e *crlEntry) bool {
			return !e.crl.NextUpdate.IsZero() && crlUsable(e, ca) == "" && e.signedBy(ca)
		}) {
			out = append(out, ca)
		}
	}
	return out
}
