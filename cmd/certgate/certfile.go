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
// and returns them re-encoded, without anything else the file holds: a
// key kept beside the certificate (as in a combined cert+key file) is never
// sent. A file without a certificate is an error that says what it holds
// instead, so that `--cert key.pem` is not answered with a bare 401.
func readClientCert(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []byte
	var other string
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		switch {
		case block.Type == "CERTIFICATE":
			certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes})...)
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
