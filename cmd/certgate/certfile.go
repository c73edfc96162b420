package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/pki"
)

// readClientCert reads the PEM certificates (leaf first) of a --cert file
// and returns them as PEM for a request on the wire, without anything else
// the file holds: a key kept beside the certificate (as in a combined
// cert+key file) is never sent.
func readClientCert(path string) ([]byte, error) {
	ders, err := clientCertDER(path)
	if err != nil {
		return nil, err
	}
	var certs []byte
	for _, der := range ders {
		certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return certs, nil
}

// readClientChain reads the certificates (leaf first) of a --cert file,
// parsed, for a decision made in this process.
func readClientChain(path string) ([]*x509.Certificate, error) {
	ders, err := clientCertDER(path)
	if err != nil {
		return nil, err
	}
	chain := make([]*x509.Certificate, 0, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, i+1, err)
		}
		chain = append(chain, c)
	}
	return chain, nil
}

// clientCertDER is the DER of each CERTIFICATE block of a --cert file. A
// file without a certificate is an error that says what it holds instead,
// so that `--cert key.pem` is not answered with a bare 401.
func clientCertDER(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blocks, err := pki.DecodePEMBlocks(data)
	if err != nil { // a block cut short: not the chain the file was meant to hold
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var certs [][]byte
	var other string
	for _, block := range blocks {
		switch {
		case block.Type == "CERTIFICATE":
			certs = append(certs, block.Bytes)
		case strings.Contains(block.Type, "PRIVATE KEY"):
			other = "a private key"
		case other == "":
			other = "a " + block.Type
		}
	}
	switch {
	case certs != nil:
		return certs, nil
	case other != "":
		return nil, fmt.Errorf("%s holds %s, not a certificate", path, other)
	default:
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
}

// namesOf is the subject and issuer of the first certificate of certPEM
// as openssl prints them, or as the policy sees them (id) when certPEM
// holds none that parses.
func namesOf(certPEM string, id *adminv1.Identity) (subject, issuer string) {
	if block, _ := pem.Decode([]byte(certPEM)); block != nil && block.Type == "CERTIFICATE" {
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			return pki.SubjectString(c), pki.IssuerString(c)
		}
	}
	return id.GetSubject(), id.GetIssuer()
}
