package pki

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
)

// ErrCSRRefused is wrapped by the errors of ParseCSR and Sign for a CSR
// that certgate will not sign: a bad signature, a request for a CA, an
// unknown critical extension or a weak key.
var ErrCSRRefused = errors.New("CSR refused")

// The extensions a CSR may request. What they ask for is not simply
// copied: SANs are read (and may be overridden), basicConstraints must not
// say CA:TRUE, and key usages follow --server as for Issue.
var (
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// minRSABits is the smallest RSA key Sign accepts, as NIST SP 800-131A and
// the CA/Browser Forum ask.
const minRSABits = 2048

// ParseCSR reads a PKCS #10 certificate request, PEM ("CERTIFICATE
// REQUEST", or openssl's old "NEW CERTIFICATE REQUEST") or DER, and checks
// it: its signature must verify with its own key (so whoever made it holds
// the private key), it must not ask for a CA (basicConstraints CA:TRUE),
// every critical extension must be one certgate understands, and an RSA key
// must have at least 2048 bits.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	der := data
	blocks, err := DecodePEMBlocks(data)
	if err != nil {
		return nil, fmt.Errorf("read CSR: %w", err)
	}
	if len(blocks) > 0 {
		if len(blocks) != 1 || (blocks[0].Type != "CERTIFICATE REQUEST" && blocks[0].Type != "NEW CERTIFICATE REQUEST") {
			return nil, fmt.Errorf("read CSR: want one CERTIFICATE REQUEST PEM block, found %d block(s), the first %q", len(blocks), blocks[0].Type)
		}
		der = blocks[0].Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("read CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: its signature does not verify with its own key: %w", ErrCSRRefused, err)
	}
	if err := checkCSRExtensions(csr); err != nil {
		return nil, err
	}
	if k, ok := csr.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("%w: RSA key of %d bits, want at least %d", ErrCSRRefused, k.N.BitLen(), minRSABits)
	}
	return csr, nil
}

func checkCSRExtensions(csr *x509.CertificateRequest) error {
	for _, ext := range csr.Extensions {
		switch {
		case ext.Id.Equal(oidBasicConstraints):
			var bc struct {
				IsCA       bool `asn1:"optional"`
				MaxPathLen int  `asn1:"optional,default:-1"`
			}
			if rest, err := asn1.Unmarshal(ext.Value, &bc); err != nil || len(rest) > 0 {
				return fmt.Errorf("%w: malformed basicConstraints", ErrCSRRefused)
			}
			if bc.IsCA {
				return fmt.Errorf("%w: it requests a CA certificate (basicConstraints CA:TRUE); make intermediates with `certgate pki init --ca`", ErrCSRRefused)
			}
		case ext.Id.Equal(oidSubjectAltName), ext.Id.Equal(oidKeyUsage), ext.Id.Equal(oidExtKeyUsage), ext.Id.Equal(oidSubjectKeyID):
		case ext.Critical:
			return fmt.Errorf("%w: unknown critical extension %s", ErrCSRRefused, ext.Id)
		}
	}
	return nil
}

// Sign signs a certificate for the key of a CSR that ParseCSR accepted,
// with the rules, files (the certificate only: the key never leaves the
// requester) and state record of Issue. The CSR gives the common name, the
// organizations (groups), the organizational units and the SANs; each is
// replaced by req's when req sets it — CommonName, Organizations,
// OrgUnits, and any of the SAN fields for all SANs. Other subject
// attributes (C, ST, L, emailAddress) and the key usages the CSR asks for
// are not copied: usages follow req.Server as for Issue.
func (a *Authority) Sign(ctx context.Context, csr *x509.CertificateRequest, req IssueRequest) (*Issued, error) {
	if req.CommonName == "" {
		req.CommonName = csr.Subject.CommonName
	}
	if req.Organizations == nil {
		req.Organizations = csr.Subject.Organization
	}
	if req.OrgUnits == nil {
		req.OrgUnits = csr.Subject.OrganizationalUnit
	}
	if len(req.DNSNames)+len(req.IPAddresses)+len(req.URIs)+len(req.Emails) == 0 {
		req.DNSNames, req.IPAddresses, req.URIs, req.Emails = csr.DNSNames, csr.IPAddresses, csr.URIs, csr.EmailAddresses
	}
	for _, u := range req.URIs {
		if u.Scheme == "" {
			return nil, fmt.Errorf("sign %q: %w: URI SAN %q is not absolute", req.CommonName, ErrCSRRefused, u)
		}
	}
	req.KeyAlgorithm = ""
	return a.issue(ctx, "sign", req, csr.PublicKey)
}
