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

// checkRevocation checks every certificate of path against its issuer's CRL
// and returns the verdict with the time it stops holding.
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
		entry, stale := s.currentCRL(cert, issuer, now)
		if entry == nil {
			if s.mode == CRLModeFullChain || i == 0 {
				return nil, &Error{Reason: ReasonCRLUnavailable, Subject: cert.Subject.String(), Serial: cert.SerialNumber.Text(16), Detail: fmt.Sprintf("no current CRL from %q for the %s", issuer.Subject, level)}
			}
			continue
		}
		if stale {
			v.StaleCRL = true
		} else {
			v.ValidUntil = earliest(v.ValidUntil, entry.crl.NextUpdate)
		}
		var buf [33]byte
		if _, revoked := entry.revoked[string(serialKey(cert.SerialNumber, &buf))]; revoked {
			return nil, &Error{Reason: ReasonRevoked, Subject: cert.Subject.String(), Serial: cert.SerialNumber.Text(16), Detail: fmt.Sprintf("%s serial %s is listed in the CRL of %q", level, cert.SerialNumber.Text(16), issuer.Subject)}
		}
	}
	return v, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// currentCRL returns the current CRL with the highest number that issuer
// signed. Under StaleCRLWarn, when no CRL is current, it returns the newest
// one whose nextUpdate has passed, and stale=true.
func (s *Store) currentCRL(cert, issuer *x509.Certificate, now time.Time) (best *crlEntry, stale bool) {
	var newestStale *crlEntry
	for _, e := range s.crls[string(cert.RawIssuer)] {
		if e.crl.NextUpdate.IsZero() || now.Before(e.crl.ThisUpdate) {
			continue
		}
		if crlUsable(e, issuer) != "" {
			continue
		}
		if !e.signedBy(issuer) {
			continue
		}
		if !now.Before(e.crl.NextUpdate) {
			if newestStale == nil || newer(e, newestStale) {
				newestStale = e
			}
			continue
		}
		if best == nil || newer(e, best) {
			best = e
		}
	}
	if best == nil && s.onStale == StaleCRLWarn && newestStale != nil {
		return newestStale, true
	}
	return best, false
}

// newer reports whether a supersedes b: a higher CRL number, or, when
// either lacks a number (a CRL without the extension RFC 5280 requires),
// a later thisUpdate.
func newer(a, b *crlEntry) bool {
	if a.crl.Number != nil && b.crl.Number != nil {
		return a.crl.Number.Cmp(b.crl.Number) > 0
	}
	return a.crl.ThisUpdate.After(b.crl.ThisUpdate)
}
