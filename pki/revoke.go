package pki

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// ErrForeignCert is returned when a certificate to revoke was not issued by
// the directory's CA: its CRL could not revoke it anyway.
var ErrForeignCert = errors.New("certificate was not issued by this CA")

// ErrUnknownSerial is returned when a serial to revoke is not in the state.
var ErrUnknownSerial = errors.New("serial was not issued by this CA (not in the state file)")

// RevokeRequest names a certificate to revoke: Cert, or Serial alone.
type RevokeRequest struct {
	Cert   *x509.Certificate
	Serial *big.Int
	Reason Reason
	// At is the revocation time; zero means now.
	At time.Time
	// AllowUnknown revokes a serial the state does not list (a certificate
	// issued before the state existed, by openssl for instance).
	AllowUnknown bool
}

// Revoke records a revocation in the state. The next CRL lists it.
func (a *Authority) Revoke(ctx context.Context, req RevokeRequest) (RevokedEntry, error) {
	serial := req.Serial
	var subject string
	if req.Cert != nil {
		if err := a.issuedHere(req.Cert); err != nil {
			return RevokedEntry{}, fmt.Errorf("revoke %q: %w", req.Cert.Subject.String(), err)
		}
		serial, subject = req.Cert.SerialNumber, req.Cert.Subject.String()
	}
	if serial == nil {
		return RevokedEntry{}, errors.New("revoke: need a certificate or a serial")
	}
	at := req.At
	if at.IsZero() {
		at = a.now()
	}
	entry := RevokedEntry{Serial: FormatSerial(serial), Subject: subject, RevokedAt: at.UTC().Truncate(time.Second), Reason: req.Reason}
	err := UpdateState(ctx, a.Dir, func(st *State) error {
		if i := st.findRevoked(entry.Serial); i >= 0 {
			prev := st.Revoked[i]
			return fmt.Errorf("already revoked at %s (%s)", prev.RevokedAt.Format(time.RFC3339), prev.Reason)
		}
		i := st.findIssued(entry.Serial)
		if i < 0 && req.Cert == nil && !req.AllowUnknown {
			return ErrUnknownSerial
		}
		if i >= 0 && entry.Subject == "" {
			entry.Subject = st.Issued[i].Subject
		}
		st.Revoked = append(st.Revoked, entry)
		return nil
	})
	if err != nil {
		return RevokedEntry{}, fmt.Errorf("revoke serial %s: %w", entry.Serial, err)
	}
	return entry, nil
}

// issuedHere checks that c was signed by the Authority's CA.
func (a *Authority) issuedHere(c *x509.Certificate) error {
	if !bytes.Equal(c.RawIssuer, a.CA.Cert.RawSubject) {
		return fmt.Errorf("%w: issued by %q, this CA is %q", ErrForeignCert, c.Issuer.String(), a.CA.Cert.Subject.String())
	}
	if err := c.CheckSignatureFrom(a.CA.Cert); err != nil {
		return fmt.Errorf("%w: issuer name matches %q but the signature does not: %w", ErrForeignCert, a.CA.Cert.Subject.String(), err)
	}
	return nil
}
