package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
)

// Contents is what a PEM or DER file holds: certificates (in file order)
// and CRLs.
type Contents struct {
	Certs []*x509.Certificate
	CRLs  []*x509.RevocationList
}

// ReadContents parses a file of certificates and CRLs in PEM (any mix of
// CERTIFICATE and X509 CRL blocks; keys are skipped) or DER (one
// certificate or one CRL).
func ReadContents(data []byte) (*Contents, error) {
	var c Contents
	// Strict, as for CA and CRL files: a block cut short is an error, not
	// a file that shows only the blocks before it.
	blocks, err := DecodePEMBlocks(data)
	if err != nil {
		return nil, err
	}
	for _, block := range blocks {
		switch block.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %w", len(c.Certs)+1, err)
			}
			c.Certs = append(c.Certs, cert)
		case "X509 CRL":
			crl, err := x509.ParseRevocationList(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("CRL %d: %w", len(c.CRLs)+1, err)
			}
			c.CRLs = append(c.CRLs, crl)
		}
	}
	if len(blocks) > 0 {
		if len(c.Certs)+len(c.CRLs) == 0 {
			return nil, errors.New("no CERTIFICATE or X509 CRL PEM block (is this a key?)")
		}
		return &c, nil
	}
	if cert, err := x509.ParseCertificate(data); err == nil {
		c.Certs = append(c.Certs, cert)
		return &c, nil
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, errors.New("neither PEM nor a DER certificate or CRL")
	}
	c.CRLs = append(c.CRLs, crl)
	return &c, nil
}

// DescribeKey names a public key's type and size: "ECDSA P-256", "RSA 4096".
func DescribeKey(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

var keyUsageNames = []struct {
	ku   x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

// KeyUsageNames lists the RFC 5280 names of the bits set in ku.
func KeyUsageNames(ku x509.KeyUsage) []string {
	names := []string{}
	for _, k := range keyUsageNames {
		if ku&k.ku != 0 {
			names = append(names, k.name)
		}
	}
	return names
}

// ExtKeyUsageNames lists the names of a certificate's extended key usages
// (unknown OIDs in dotted form).
func ExtKeyUsageNames(c *x509.Certificate) []string {
	names := []string{}
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageAny:
			names = append(names, "any")
		case x509.ExtKeyUsageServerAuth:
			names = append(names, "serverAuth")
		case x509.ExtKeyUsageClientAuth:
			names = append(names, "clientAuth")
		case x509.ExtKeyUsageCodeSigning:
			names = append(names, "codeSigning")
		case x509.ExtKeyUsageEmailProtection:
			names = append(names, "emailProtection")
		case x509.ExtKeyUsageTimeStamping:
			names = append(names, "timeStamping")
		case x509.ExtKeyUsageOCSPSigning:
			names = append(names, "OCSPSigning")
		default:
			names = append(names, fmt.Sprintf("eku(%d)", int(u)))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		names = append(names, oid.String())
	}
	return names
}
