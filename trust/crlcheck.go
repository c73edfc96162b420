package trust

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// CRLCheck is what `certgate pki crl --check` reports on one CRL: whether
// certgate can use it, and for how long.
type CRLCheck struct {
	Issuer     string
	Number     *big.Int
	ThisUpdate time.Time
	NextUpdate time.Time
	// Remaining is NextUpdate - now; negative once the CRL is stale.
	Remaining time.Duration
	// Unusable says why certgate does not use the CRL, so that the
	// certificates it covers fail with crl_unavailable, or is "".
	Unusable string
	// OK is a usable CRL with Remaining at least the threshold asked for.
	OK bool
}

// CheckCRL says whether certgate can use crl at now, by the rules it
// applies when serving, and whether it stays valid for at least min. When
// a CA of cas carries the CRL's issuer name, the CRL must verify with one
// of them, as at load: a stale copy of another CA's CRL of the same name
// would otherwise pass the check and revoke nothing.
func CheckCRL(crl *x509.RevocationList, cas []*x509.Certificate, now time.Time, min time.Duration) (*CRLCheck, error) {
	signers, named, err := crlSigners(crl, cas)
	if err != nil {
		return nil, fmt.Errorf("CRL of %q is not signed by CA %q: %w", crl.Issuer.String(), named.Subject.String(), err)
	}
	c := &CRLCheck{Issuer: crl.Issuer.String(), Number: crl.Number, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate}
	c.Unusable = crlUsableBySigners(&crlEntry{crl: crl, unsupported: crlUnsupported(crl)}, signers)
	if c.Unusable == "" && now.Before(crl.ThisUpdate) {
		c.Unusable = notYetValid(crl)
	}
	if !crl.NextUpdate.IsZero() {
		c.Remaining = crl.NextUpdate.Sub(now)
	}
	c.OK = c.Unusable == "" && c.Remaining >= min
	return c, nil
}

// crlUsableBySigners is crlUsable for a CRL whose signers are known: usable
// when one of them may sign CRLs (or when none is known, for a CRL alone).
func crlUsableBySigners(e *crlEntry, signers []*x509.Certificate) string {
	if e.unsupported != "" || len(signers) == 0 {
		return e.unsupported
	}
	why := ""
	for _, s := range signers {
		if why = crlUsable(e, s); why == "" {
			break
		}
	}
	return why
}

// notYetValid is why a CRL before its thisUpdate is not used yet.
func notYetValid(crl *x509.RevocationList) string {
	return "not valid before its thisUpdate " + crl.ThisUpdate.UTC().Format(time.RFC3339)
}
