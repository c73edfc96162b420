package trust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Verify validates chain (leaf first) and checks revocation.
func (s *Store) Verify(chain []*x509.Certificate, opts VerifyOptions) (*Verified, error) {
	if len(chain) == 0 {
		return nil, &Error{Reason: ReasonInvalid, Detail: "empty chain"}
	}
	if len(chain) > MaxChainLength {
		return nil, &Error{Reason: ReasonInvalid, Detail: fmt.Sprintf("chain of %d certificates, more than %d", len(chain), MaxChainLength)}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	// Certificate and CRL times have whole seconds (RFC 5280 §4.1.2.5):
	// a notAfter of 00:00:00 holds for all of that second.
	now = now.Truncate(time.Second)
	leaf := chain[0]
	fail := func(r Reason, detail string, err error) error {
		return &Error{Reason: r, Subject: leaf.Subject.String(), Serial: leaf.SerialNumber.Text(16), Detail: detail, Err: err}
	}
	if now.After(leaf.NotAfter) {
		return nil, fail(ReasonExpired, "certificate expired at "+leaf.NotAfter.Format(time.RFC3339), nil)
	}
	if now.Before(leaf.NotBefore) {
		return nil, fail(ReasonNotYetValid, "certificate valid from "+leaf.NotBefore.Format(time.RFC3339), nil)
	}
	if r, detail := checkLeaf(leaf, opts.Purpose); r != "" {
		return nil, fail(r, detail, nil)
	}
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	switch opts.Purpose {
	case PurposeServer:
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case PurposeAny:
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	paths, err := s.buildPaths(chain, x509.VerifyOptions{CurrentTime: now, KeyUsages: usage})
	if err != nil {
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(err, &ua):
			return nil, fail(ReasonUnknownAuthority, err.Error(), err)
		case errors.As(err, &ci) && ci.Reason == x509.Expired:
			return nil, fail(ReasonExpired, err.Error(), err)
		case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
			return nil, fail(ReasonKeyUsage, err.Error(), err)
		}
		return nil, fail(ReasonInvalid, err.Error(), err)
	}
	// A chain is accepted when at least one verified path passes the
	// revocation check, its twins' included; the first failure is
	// reported otherwise.
	var first error
	for _, path := range paths {
		r, c, detail := checkPath(path)
		if r == "" {
			r, c, detail = s.checkRules(path)
		}
		if r != "" {
			if first == nil {
				first = &Error{Reason: r, Subject: c.Subject.String(), Serial: c.SerialNumber.Text(16), Detail: detail}
			}
			continue
		}
		v, err := s.checkRevocation(path, now)
		if err == nil && s.mode != CRLModeOff {
			err = s.checkTwins(v, paths, now)
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if err := s.checkBindings(leaf, paths); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, first
}
