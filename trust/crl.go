package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/certgate/certgate/pki"
)

type crlEntry struct {
	crl *x509.RevocationList
	// revoked holds serialKey of every listed serial: one map lookup per
	// certificate, whatever the size of the CRL.
	revoked map[string]struct{}
	file    string
	// unsupported names a feature of the CRL that certgate does not
	// implement (see crlUnsupported); such a CRL is never used.
	unsupported string
	// signers are the configured CAs whose key the signature was checked
	// with at load time, so that requests never re-check it: checking means
	// hashing the whole CRL, megabytes for a large one.
	signers []*x509.Certificate
	// memo remembers the outcome for other issuers (intermediates the
	// client presented), at most maxSignerMemo of them.
	mu   sync.RWMutex
	memo map[string]bool // by issuer DER
}

// maxSignerMemo bounds crlEntry.memo: a client cannot make it grow without
// bound, and past it the signature is simply checked every time.
const maxSignerMemo = 64

// signedBy reports whether issuer's key verifies the CRL's signature.
func (e *crlEntry) signedBy(issuer *x509.Certificate) bool {
	for _, s := range e.signers {
		if s == issuer || bytes.Equal(s.Raw, issuer.Raw) {
			return true
		}
	}
	e.mu.RLock()
	ok, found := e.memo[string(issuer.Raw)]
	e.mu.RUnlock()
	if found {
		return ok
	}
	ok = e.crl.CheckSignatureFrom(issuer) == nil
	e.mu.Lock()
	if len(e.memo) < maxSignerMemo {
		if e.memo == nil {
			e.memo = map[string]bool{}
		}
		e.memo[string(issuer.Raw)] = ok
	}
	e.mu.Unlock()
	return ok
}

// serialKey is the revoked-map key of a serial number: its magnitude, and
// a trailing "-" for a negative one (which some old CAs issued). buf
// avoids an allocation for serials of up to 32 bytes.
func serialKey(n *big.Int, buf *[33]byte) []byte {
	var b []byte
	if size := (n.BitLen() + 7) / 8; size < len(buf) {
		b = n.FillBytes(buf[:size])
	} else {
		b = n.Bytes()
	}
	if n.Sign() < 0 {
		b = append(b, '-')
	}
	return b
}

// ParseCRLs reads a CRL file as certgate serve loads it: one DER CRL, or
// PEM holding X509 CRL blocks and nothing else. It is strict, so that a
// file cut short while being copied fails here rather than revoking less
// than it should: a block of another type, a corrupt block or one without
// its END line fails the whole file, as does a CRL crypto/x509 refuses;
// the error then names the RFC 5280 rule it breaks, where there is one.
func ParseCRLs(data []byte) ([]*x509.RevocationList, error) {
	crls, err := parseCRLs(data)
	if err != nil {
		return nil, crlError(data, err)
	}
	return crls, nil
}

func parseCRLs(data []byte) ([]*x509.RevocationList, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, err
		}
		return []*x509.RevocationList{c}, nil
	}
	blocks, err := pki.DecodePEMBlocks(data)
	if err != nil {
		return nil, err
	}
	var out []*x509.RevocationList
	for _, block := range blocks {
		if block.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block %q, want X509 CRL", block.Type)
		}
		c, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CRL found")
	}
	return out, nil
}

// crlSigners returns the CAs among cas that carry crl's issuer name and
// verify its signature. During a CA rollover two CAs share a name; the CRL
// must verify with one of them, and is used for that one only. A CRL that
// some CA of its issuer's name is given for, but none verifies, is an
// error: a stale copy of another CA's CRL of the same name would revoke
// nothing. named is the first such CA, for the message.
func crlSigners(crl *x509.RevocationList, cas []*x509.Certificate) (signers []*x509.Certificate, named *x509.Certificate, err error) {
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, crl.RawIssuer) {
			continue
		}
		if named == nil {
			named = ca
		}
		if err = crl.CheckSignatureFrom(ca); err != nil {
			continue
		}
		signers = append(signers, ca)
	}
	if len(signers) > 0 {
		err = nil
	}
	return signers, named, err
}

// checkRevocation checks every certificate of path below its trust anchor
// against its issuer's CRL, as the store's CRL mode and stale-CRL policy say
// (the table in docs/validation.md §3), and returns the verdict with the
// time it stops holding.
func (s *Store) checkRevocation(path []*x509.Certificate, now time.Time) (*Verified, error) {
	v := &Verified{Chain: path, ValidUntil: path[0].NotAfter}
	for _, c := range path[1:] {
		v.ValidUntil = earliest(v.ValidUntil, c.NotAfter)
	}
	if s.mode == CRLModeOff {
		return v, nil
	}
	for i := 0; i < len(path)-1; i++ {
		cert, issuer := path[i], path[i+1]
		level := "intermediate"
		if i == 0 {
			level = "leaf"
		}
		unavailable := func(format string, args ...any) error {
			return &Error{Reason: ReasonCRLUnavailable, Subject: cert.Subject.String(), Serial: cert.SerialNumber.Text(16), Detail: fmt.Sprintf(format, args...)}
		}
		c := s.selectCRL(cert, issuer, now)
		v.ValidUntil = earliest(v.ValidUntil, c.next)
		switch c.state {
		case crlAbsent:
			// Only here does leaf mode differ from full_chain: an
			// intermediate that no CRL of its issuer's key covers is
			// accepted. A CRL that is there, stale or unusable, counts.
			if s.mode == CRLModeLeaf && i > 0 {
				continue
			}
			return nil, unavailable("no CRL from %q for the %s", issuer.Subject, level)
		case crlUnusable:
			return nil, unavailable("the CRL from %q for the %s cannot be used: %s", issuer.Subject, level, c.why)
		}
		// A stale CRL's revocations hold whatever the policy: a serial
		// it lists is revoked, under deny as under warn.
		if c.entry.lists(cert.SerialNumber) {
			return nil, &Error{Reason: ReasonRevoked, Subject: cert.Subject.String(), Serial: cert.SerialNumber.Text(16), Detail: fmt.Sprintf("%s serial %s is listed in the CRL of %q", level, cert.SerialNumber.Text(16), issuer.Subject)}
		}
		if c.state == crlStale {
			if s.onStale != StaleCRLWarn {
				return nil, unavailable("the newest CRL from %q for the %s is past its nextUpdate %s (on_stale_crl: deny)", issuer.Subject, level, c.entry.crl.NextUpdate.UTC().Format(time.RFC3339))
			}
			v.StaleCRL = true
			continue
		}
		v.ValidUntil = earliest(v.ValidUntil, c.entry.crl.NextUpdate)
	}
	return v, nil
}

// earliest returns the earlier of a and b; a zero b is no bound.
func earliest(a, b time.Time) time.Time {
	if !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// lists reports whether the CRL lists serial.
func (e *crlEntry) lists(serial *big.Int) bool {
	var buf [33]byte
	_, ok := e.revoked[string(serialKey(serial, &buf))]
	return ok
}

// crlState is what the loaded CRLs say about one certificate's issuer.
type crlState int

const (
	// crlAbsent: no loaded CRL carries the issuer's name and verifies with
	// its key.
	crlAbsent crlState = iota
	// crlUnusable: there are such CRLs, but none can be used (not yet
	// valid, unsupported, an issuer without cRLSign).
	crlUnusable
	// crlCurrent: the newest usable CRL in effect is before its nextUpdate.
	crlCurrent
	// crlStale: the newest usable CRL in effect is past its nextUpdate.
	crlStale
)

// crlChoice is the CRL that speaks for a certificate at one moment.
type crlChoice struct {
	state crlState
	entry *crlEntry // for crlCurrent and crlStale
	why   string    // for crlUnusable
	// next, when not zero, is the thisUpdate of a newer usable CRL not yet
	// in effect: the choice changes then.
	next time.Time
}

// selectCRL returns the CRL that speaks for cert: the newest usable CRL
// that issuer signed and whose thisUpdate has come. The newest one counts
// even when it is stale and an older one is not: the newer CRL supersedes
// the older, which may lack what it revokes. The order is that of
// sortNewestFirst, which checkOrder made consistent at load.
func (s *Store) selectCRL(cert, issuer *x509.Certificate, now time.Time) crlChoice {
	var c crlChoice
	for _, e := range s.crls[string(cert.RawIssuer)] {
		if !e.signedBy(issuer) {
			continue
		}
		if why := crlUsable(e, issuer); why != "" {
			if c.state == crlAbsent {
				c.state, c.why = crlUnusable, why
			}
			continue
		}
		if now.Before(e.crl.ThisUpdate) {
			// Newest first: the last one seen takes effect first.
			c.next = e.crl.ThisUpdate
			if c.state == crlAbsent {
				c.state, c.why = crlUnusable, notYetValid(e.crl)
			}
			continue
		}
		c.entry, c.state, c.why = e, crlCurrent, ""
		if !now.Before(e.crl.NextUpdate) {
			c.state = crlStale
		}
		return c
	}
	return c
}
