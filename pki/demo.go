package pki

import (
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// DemoClient is one client certificate of the demo PKI.
type DemoClient struct {
	Name   string
	Groups []string
	// Revoked clients are listed in the demo CRL; Expired ones ended
	// yesterday; Foreign ones are issued by a CA certgate does not trust.
	Revoked, Expired, Foreign bool
}

// DemoClients are the clients `certgate dev` creates.
var DemoClients = []DemoClient{
	{Name: "admin", Groups: []string{"admins"}},
	{Name: "jenkins", Groups: []string{"ci"}},
	{Name: "viewer", Groups: []string{"viewers"}},
	{Name: "revoked", Groups: []string{"ci"}, Revoked: true},
	{Name: "expired", Groups: []string{"ci"}, Expired: true},
	{Name: "stranger", Groups: []string{"admins"}, Foreign: true},
}

// Demo is the throwaway PKI of `certgate dev`, laid out in Dir.
type Demo struct {
	Dir string
	// Created is true when this call made the PKI, false when it reused one.
	Created bool
}

// Path returns the path of a file of the demo PKI.
func (d *Demo) Path(name string) string { return filepath.Join(d.Dir, name) }

// ClientCert and ClientKey return the paths of a client's certificate and key.
func (d *Demo) ClientCert(name string) string {
	return filepath.Join(d.Dir, "clients", name+".pem")
}

// ClientKey returns the path of a client's private key.
func (d *Demo) ClientKey(name string) string {
	return filepath.Join(d.Dir, "clients", name+"-key.pem")
}

// EnsureDemo creates the demo PKI in dir on first use and reuses it later.
// Either way it signs a fresh CRL (revoking the "revoked" client), so a demo
// directory left for weeks still works. now is the clock (time.Now in use).
func EnsureDemo(dir string, now func() time.Time) (*Demo, error) {
	d := &Demo{Dir: dir}
	ca, err := loadDemoCA(d)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if ca, err = createDemo(d, now); err != nil {
			return nil, err
		}
		d.Created = true
	case err != nil:
		return nil, fmt.Errorf("reuse demo PKI in %s (delete the directory to start over): %w", dir, err)
	}
	ca.Now = now
	if err := writeDemoCRL(d, ca, now); err != nil {
		return nil, err
	}
	return d, nil
}

func loadDemoCA(d *Demo) (*CA, error) {
	certPEM, err := os.ReadFile(d.Path("ca.pem"))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(d.Path("ca-key.pem"))
	if err != nil {
		return nil, err
	}
	return ParseCA(certPEM, keyPEM)
}

func createDemo(d *Demo, now func() time.Time) (*CA, error) {
	if err := os.MkdirAll(filepath.Join(d.Dir, "clients"), 0o700); err != nil {
		return nil, fmt.Errorf("create demo PKI: %w", err)
	}
	// The CA starts well in the past so that the expired client lies inside
	// its validity: it is then expired, not merely issued by a future CA.
	ca, err := NewRootCA(Options{Subject: pkix.Name{CommonName: "certgate dev CA", Organization: []string{"certgate dev"}}, Now: now, NotBefore: now().Add(-60 * 24 * time.Hour), Validity: DefaultCAValidity})
	if err != nil {
		return nil, err
	}
	other, err := NewRootCA(Options{Subject: pkix.Name{CommonName: "untrusted CA", Organization: []string{"elsewhere"}}, Now: now})
	if err != nil {
		return nil, err
	}
	server, err := ca.Issue(Options{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		Usage:       ServerAuth,
	})
	if err != nil {
		return nil, err
	}
	files := []struct {
		name string
		c    *Certificate
	}{{"ca", &ca.Certificate}, {"untrusted-ca", &other.Certificate}, {"server", server}}
	for _, f := range files {
		if err := writePair(d.Path(f.name+".pem"), d.Path(f.name+"-key.pem"), f.c); err != nil {
			return nil, err
		}
	}
	for _, c := range DemoClients {
		issuer := ca
		if c.Foreign {
			issuer = other
		}
		opts := Options{Subject: pkix.Name{CommonName: c.Name, Organization: c.Groups}}
		if c.Expired {
			opts.NotBefore = now().Add(-31 * 24 * time.Hour)
			opts.NotAfter = now().Add(-24 * time.Hour)
		}
		cert, err := issuer.Issue(opts)
		if err != nil {
			return nil, err
		}
		if err := writePair(d.ClientCert(c.Name), d.ClientKey(c.Name), cert); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

func writeDemoCRL(d *Demo, ca *CA, now func() time.Time) error {
	var revoked []Revocation
	for _, c := range DemoClients {
		if !c.Revoked {
			continue
		}
		data, err := os.ReadFile(d.ClientCert(c.Name))
		if err != nil {
			return fmt.Errorf("demo CRL: %w", err)
		}
		certs, err := ParseCertsPEM(data)
		if err != nil {
			return fmt.Errorf("demo CRL: %s: %w", d.ClientCert(c.Name), err)
		}
		revoked = append(revoked, Revocation{Serial: certs[0].SerialNumber, Reason: 1})
	}
	der, err := ca.CRL(CRLOptions{Number: big.NewInt(now().Unix()), Revoked: revoked})
	if err != nil {
		return err
	}
	return writeFile(d.Path("crl.pem"), EncodeCRLPEM(der), 0o644)
}

func writePair(certPath, keyPath string, c *Certificate) error {
	keyPEM, err := c.KeyPEM()
	if err != nil {
		return err
	}
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(certPath, c.CertPEM(), 0o644)
}

// writeFile writes through a temporary file and a rename, so a reader
// never sees half a file.
func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
