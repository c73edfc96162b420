package pki

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"path/filepath"
	"time"
)

// PublishOptions say where and for how long Authority.PublishCRL writes a CRL.
type PublishOptions struct {
	// PEMPath and DERPath default to crl.pem and crl.der in the PKI
	// directory; "-" skips that form.
	PEMPath, DERPath string
	// Validity is nextUpdate - thisUpdate; default DefaultCRLValidity.
	Validity time.Duration
}

// PublishCRL signs a CRL of every revocation in the state with the next CRL
// number and writes it as PEM and DER. Number and files are updated under
// the directory lock, so two publishers never sign the same number and the
// files always hold the newest CRL.
func (a *Authority) PublishCRL(ctx context.Context, opts PublishOptions) (*x509.RevocationList, error) {
	if opts.PEMPath == "" {
		opts.PEMPath = filepath.Join(a.Dir, CRLFile)
	}
	if opts.DERPath == "" {
		opts.DERPath = filepath.Join(a.Dir, CRLDER)
	}
	if opts.Validity <= 0 {
		opts.Validity = DefaultCRLValidity
	}
	var crl *x509.RevocationList
	err := UpdateState(ctx, a.Dir, func(st *State) error {
		revoked := make([]Revocation, 0, len(st.Revoked))
		for _, r := range st.Revoked {
			n, err := ParseSerial(r.Serial)
			if err != nil {
				return fmt.Errorf("state entry: %w", err)
			}
			revoked = append(revoked, Revocation{Serial: n, RevokedAt: r.RevokedAt, Reason: int(r.Reason)})
		}
		number := st.CRLNumber + 1
		der, err := a.CA.CRL(CRLOptions{Number: big.NewInt(number), Validity: opts.Validity, Revoked: revoked})
		if err != nil {
			return err
		}
		if crl, err = x509.ParseRevocationList(der); err != nil {
			return fmt.Errorf("parse the CRL just signed: %w", err)
		}
		if opts.DERPath != "-" {
			if err := writeFileSync(opts.DERPath, der, 0o644); err != nil {
				return err
			}
		}
		if opts.PEMPath != "-" {
			if err := writeFileSync(opts.PEMPath, EncodeCRLPEM(der), 0o644); err != nil {
				return err
			}
		}
		st.CRLNumber = number
		st.LastCRL = crl.ThisUpdate
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("publish CRL: %w", err)
	}
	return crl, nil
}
