package pki

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// DefaultCRLValidity is the distance between thisUpdate and nextUpdate when
// CRLOptions leave it unset.
const DefaultCRLValidity = 7 * 24 * time.Hour

// Revocation is one revoked certificate.
type Revocation struct {
	Serial    *big.Int
	RevokedAt time.Time
	// Reason is an RFC 5280 CRLReason code (0 unspecified, 1 keyCompromise, …).
	Reason int
}

// CRLOptions describe a CRL to sign.
type CRLOptions struct {
	// Number is the CRL number; nil means 1.
	Number *big.Int
	// ThisUpdate defaults to now; NextUpdate to ThisUpdate + Validity.
	ThisUpdate time.Time
	NextUpdate time.Time
	Validity   time.Duration
	Revoked    []Revocation
}

// CRL signs a CRL for the certificates this CA issued and returns its DER.
func (ca *CA) CRL(opts CRLOptions) ([]byte, error) {
	now := time.Now
	if ca.Now != nil {
		now = ca.Now
	}
	number := opts.Number
	if number == nil {
		number = big.NewInt(1)
	}
	thisUpdate := opts.ThisUpdate
	if thisUpdate.IsZero() {
		thisUpdate = now().Add(-clockSkew)
	}
	nextUpdate := opts.NextUpdate
	if nextUpdate.IsZero() {
		validity := opts.Validity
		if validity == 0 {
			validity = DefaultCRLValidity
		}
		nextUpdate = thisUpdate.Add(validity)
	}
	entries := make([]x509.RevocationListEntry, 0, len(opts.Revoked))
	for _, r := range opts.Revoked {
		at := r.RevokedAt
		if at.IsZero() {
			at = thisUpdate
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: r.Serial, RevocationTime: at.UTC(), ReasonCode: r.Reason})
	}
	tmpl := &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                thisUpdate.UTC(),
		NextUpdate:                nextUpdate.UTC(),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign CRL for %q: %w", ca.Cert.Subject.CommonName, err)
	}
	return der, nil
}

// EncodeCRLPEM wraps a DER CRL in an "X509 CRL" PEM block.
func EncodeCRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}
