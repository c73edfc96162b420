package trust

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/certgate/certgate/pki"
)

// LoadCAs reads the CA and intermediate files of cfg, as Load does: the
// certificates a fetched CRL must be signed by (CheckCRLDocument).
func LoadCAs(cfg Config) ([]*x509.Certificate, error) {
	roots, err := loadCerts(cfg.CAFiles)
	if err != nil {
		return nil, err
	}
	inters, err := loadCerts(cfg.IntermediateFiles)
	if err != nil {
		return nil, err
	}
	return append(roots, inters...), nil
}

// CheckCRLDocument checks doc, a CRL document fetched from doc.Name, before
// anything uses it, by the rules a CRL file is held to and two more:
//
//   - it parses as a CRL file does (ParseCRLs: strict, one DER CRL or PEM of
//     X509 CRL blocks only);
//   - every CRL in it is signed by one of cas, the configured CAs and
//     intermediates. A file may hold the CRL of an intermediate that only
//     clients present; a fetched CRL may not, since nothing then vouches
//     for the bytes a server sent;
//   - its CRLs have a newest per issuer key, as at load;
//   - it does not go back (CheckSuccessor) from prev, the last good
//     document of the same source (nil at first), nor from serving, the
//     store serving now (nil before the first snapshot);
//   - it still holds a CRL of every issuer prev held one of. Any CRL a
//     configured CA signed passes the checks above, so whoever answers
//     for a URL (over plain HTTP, anyone on the path) could otherwise send
//     another URL's current CRL in place of this one's and make its
//     issuer's CRL vanish: under crl_mode leaf an intermediate that no CRL
//     covers is accepted, revoked or not.
//
// It returns the CRLs, for their thisUpdate and nextUpdate. A document it
// refuses must not replace the last good one.
func CheckCRLDocument(cas []*x509.Certificate, doc CRLDocument, prev *CRLDocument, serving *Store) ([]*x509.RevocationList, error) {
	if len(cas) == 0 {
		return nil, errors.New("no CA certificate configured")
	}
	crls, err := ParseCRLs(doc.Data)
	if err != nil {
		return nil, fmt.Errorf("CRL %s: %w", doc.Name, err)
	}
	for _, crl := range crls {
		signers, named, err := crlSigners(crl, cas)
		if err != nil {
			return nil, fmt.Errorf("CRL %s: signature does not verify with CA %q: %w", doc.Name, named.Subject, err)
		}
		if len(signers) == 0 {
			return nil, fmt.Errorf("CRL %s: issuer %q is not a configured CA or intermediate, so its signature cannot be checked", doc.Name, crl.Issuer)
		}
	}
	next, err := documentStore(cas, doc.Name, crls)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		// The last good document was checked when it arrived; if it no
		// longer is (the CAs changed), there is nothing to compare with.
		if old, perr := ParseCRLs(prev.Data); perr == nil {
			if prevStore, serr := documentStore(cas, prev.Name, old); serr == nil {
				if err := next.CheckSuccessor(prevStore); err != nil {
					return nil, err
				}
				if err := next.coversIssuersOf(prevStore, doc.Name); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := next.CheckSuccessor(serving); err != nil {
		return nil, err
	}
	return crls, nil
}

// coversIssuersOf says which issuer of prev s holds no CRL of: a source
// that published an issuer's CRL keeps publishing it (a CA that renews its
// key keeps its name). An issuer no configured CA signs for any more (its
// CA was removed) may go. A source that really stops is configured anew,
// and a restart reads its cache without a predecessor.
func (s *Store) coversIssuersOf(prev *Store, name string) error {
	for _, e := range prev.all {
		if len(e.signers) == 0 {
			continue
		}
		if _, ok := s.crls[string(e.crl.RawIssuer)]; !ok {
			return fmt.Errorf("CRL %s: holds no CRL of %q, which its last good document held: refused, so that the issuer's revocations do not vanish", name, e.crl.Issuer)
		}
	}
	return nil
}

// documentStore is a Store holding only the CRLs of one document, for
// CheckSuccessor.
func documentStore(cas []*x509.Certificate, name string, crls []*x509.RevocationList) (*Store, error) {
	names := make([]string, len(crls))
	for i := range names {
		names[i] = name
	}
	return newStore(cas, nil, crls, names, CRLModeOff, false)
}

// CRLDistributionPoints returns the CRL distribution point URLs that the
// configured CA and intermediate certificates name, each once, in the
// order of the files: where the CRLs that cover them are published.
func (s *Store) CRLDistributionPoints() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range s.configured {
		for _, u := range c.CRLDistributionPoints {
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

// KeepSigned returns doc with only the CRLs that one of cas, the configured
// CAs and intermediates, signs, and the number of CRLs it left out. A
// fetched document was checked against the CAs configured when it arrived
// (CheckCRLDocument); once a CA is replaced (a new key of the same name),
// its old CRL covers no configured CA, and loading it would fail every
// reload until the URL serves a CRL of the new key, keeping the replaced
// CA trusted. A document that does not parse is returned as it is, for
// Load to refuse.
func KeepSigned(cas []*x509.Certificate, doc CRLDocument) (kept CRLDocument, dropped int) {
	crls, err := ParseCRLs(doc.Data)
	if err != nil {
		return doc, 0
	}
	var data []byte
	for _, crl := range crls {
		if signers, _, _ := crlSigners(crl, cas); len(signers) == 0 {
			dropped++
			continue
		}
		data = append(data, pki.EncodeCRLPEM(crl.Raw)...)
	}
	if dropped == 0 {
		return doc, 0
	}
	return CRLDocument{Name: doc.Name, Data: data}, dropped
}
