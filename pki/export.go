package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// ExportOptions choose the PKCS #12 encryption.
type ExportOptions struct {
	// Password protects the file; it must not be empty unless NoPassword.
	Password string
	// NoPassword writes an unencrypted file without a MAC, for tools that
	// take a key from a secret store anyway.
	NoPassword bool
	// Legacy uses 3DES and SHA-1 (what macOS before 15 and Windows before
	// Server 2019 can import) instead of AES-256 and PBKDF2.
	Legacy bool
}

// ErrEmptyPassword is returned when a PKCS #12 file would get an empty password.
var ErrEmptyPassword = errors.New("empty export password (set one, or choose --no-password explicitly)")

// ExportPKCS12 bundles a certificate, its key and the CA chain (issuer
// first) into a PKCS #12 file, as browsers and OS keychains import them.
func ExportPKCS12(cert *x509.Certificate, key crypto.Signer, chain []*x509.Certificate, opts ExportOptions) ([]byte, error) {
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("export %q: the key does not belong to the certificate", cert.Subject.String())
	}
	enc := pkcs12.Modern
	switch {
	case opts.NoPassword:
		if opts.Password != "" {
			return nil, errors.New("export: a password and no password at once")
		}
		enc = pkcs12.Passwordless
	case opts.Password == "":
		return nil, ErrEmptyPassword
	case opts.Legacy:
		enc = pkcs12.LegacyDES
	}
	pfx, err := enc.Encode(key, cert, chain, opts.Password)
	if err != nil {
		return nil, fmt.Errorf("export %q: %w", cert.Subject.String(), err)
	}
	return pfx, nil
}
