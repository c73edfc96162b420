package loadgen

import (
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/certgate/certgate/pki"
)

// FleetCA is an intermediate CA below the demo CA with a key of its own
// type, which issues a fleet as the vendor guides' RSA CAs do: certgate
// then verifies each fleet certificate's signature with that key. certgate
// must be configured with the intermediate and its CRL (ServeConfig's
// Intermediates and CRLs).
type FleetCA struct {
	CertFile, KeyFile, CRLFile string
}

// EnsureFleetCA creates the intermediate CA fleet-ca-<alg> in the demo PKI
// of dir (creating that too when missing) on first use and reuses it
// later, and signs it a fresh, empty CRL.
func EnsureFleetCA(dir string, alg pki.KeyAlgorithm) (FleetCA, error) {
	if _, err := pki.EnsureDemo(dir, time.Now); err != nil {
		return FleetCA{}, fmt.Errorf("fleet CA: %w", err)
	}
	base := filepath.Join(dir, "fleet-ca-"+string(alg))
	f := FleetCA{CertFile: base + ".pem", KeyFile: base + "-key.pem", CRLFile: base + "-crl.pem"}
	ca, err := f.load()
	if errors.Is(err, fs.ErrNotExist) {
		ca, err = f.create(dir, alg)
	}
	if err != nil {
		return FleetCA{}, err
	}
	der, err := ca.CRL(pki.CRLOptions{Number: big.NewInt(time.Now().UnixNano())})
	if err != nil {
		return FleetCA{}, fmt.Errorf("fleet CA CRL: %w", err)
	}
	if err := os.WriteFile(f.CRLFile, pki.EncodeCRLPEM(der), 0o644); err != nil {
		return FleetCA{}, fmt.Errorf("fleet CA CRL: %w", err)
	}
	return f, nil
}

func (f FleetCA) load() (*pki.CA, error) {
	certPEM, err := os.ReadFile(f.CertFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(f.KeyFile)
	if err != nil {
		return nil, err
	}
	ca, err := pki.ParseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("fleet CA: %w", err)
	}
	return ca, nil
}

func (f FleetCA) create(dir string, alg pki.KeyAlgorithm) (*pki.CA, error) {
	root, err := loadCA(dir)
	if err != nil {
		return nil, err
	}
	ca, err := root.NewIntermediate(pki.Options{Subject: pkix.Name{CommonName: "certgate bench fleet CA " + string(alg)}, KeyAlgorithm: alg})
	if err != nil {
		return nil, fmt.Errorf("fleet CA: %w", err)
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, fmt.Errorf("fleet CA: %w", err)
	}
	if err := os.WriteFile(f.KeyFile, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("fleet CA: %w", err)
	}
	if err := os.WriteFile(f.CertFile, ca.CertPEM(), 0o644); err != nil {
		return nil, fmt.Errorf("fleet CA: %w", err)
	}
	return ca, nil
}
