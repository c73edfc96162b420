package pki

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Authority is a CA kept in a PKI directory (ca.pem, ca-key.pem,
// state.json): what `certgate pki` works on.
type Authority struct {
	// Dir is the PKI directory.
	Dir string
	// CA signs; its Now is the clock of everything the Authority does.
	CA *CA
	// Chain holds the CA's parents (intermediate first) for an
	// intermediate CA, and nothing for a root.
	Chain []*x509.Certificate
}

// InitOptions describe the CA that Init creates.
type InitOptions struct {
	Subject      pkix.Name
	KeyAlgorithm KeyAlgorithm
	// Validity defaults to DefaultCAValidity.
	Validity time.Duration
	// Parent, when set, makes the new CA an intermediate signed by Parent;
	// ParentChain are Parent's own parents, for chain.pem.
	Parent      *CA
	ParentChain []*x509.Certificate
	// MaxPathLen limits the CAs below the new one: -1 (or 0 without
	// MaxPathLenZero) means no limit.
	MaxPathLen     int
	MaxPathLenZero bool
	// CRLURLs are where the new CA will publish its CRL: recorded in the
	// state, and named as the CRL distribution points of everything it
	// issues. ParentCRLURLs are the parent's, named by the new
	// intermediate's own certificate (its parent's CRL covers it).
	CRLURLs, ParentCRLURLs []string
	Now                    func() time.Time
}

// Init creates a CA in dir (made if missing): its key, its certificate, a
// chain file for an intermediate, and an empty state. It refuses a
// directory that already holds a CA or a state.
func Init(ctx context.Context, dir string, opts InitOptions) (*Authority, error) {
	if opts.Subject.CommonName == "" {
		return nil, errors.New("init CA: a common name is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("init CA: %w", err)
	}
	unlock, err := lockDir(ctx, filepath.Join(dir, LockFile))
	if err != nil {
		return nil, fmt.Errorf("init CA: %w", err)
	}
	defer unlock()
	for _, name := range []string{CACertFile, CAKeyFile, StateFile} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return nil, fmt.Errorf("init CA: %s already holds a CA (%s exists); pick another --dir", dir, name)
		}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	copts := Options{Subject: opts.Subject, KeyAlgorithm: opts.KeyAlgorithm, Validity: opts.Validity, MaxPathLen: opts.MaxPathLen, MaxPathLenZero: opts.MaxPathLenZero, Now: now}
	if opts.Parent != nil {
		copts.CRLDistributionPoints = opts.ParentCRLURLs
	}
	if copts.Validity == 0 {
		copts.Validity = DefaultCAValidity
	}
	var (
		ca    *CA
		chain []*x509.Certificate
	)
	if opts.Parent != nil {
		if ca, err = opts.Parent.NewIntermediate(copts); err != nil {
			return nil, fmt.Errorf("init CA: %w", err)
		}
		chain = append([]*x509.Certificate{opts.Parent.Cert}, opts.ParentChain...)
		// A parent that itself is an intermediate is trusted through its
		// root, which never belongs in a chain file.
		if last := chain[len(chain)-1]; isSelfSigned(last) {
			chain = chain[:len(chain)-1]
		}
	} else if ca, err = NewRootCA(copts); err != nil {
		return nil, fmt.Errorf("init CA: %w", err)
	}
	ca.Now = now
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, fmt.Errorf("init CA: %w", err)
	}
	if err := writeNewFile(filepath.Join(dir, CAKeyFile), keyPEM, 0o600, false); err != nil {
		return nil, fmt.Errorf("init CA: %w", err)
	}
	if err := writeNewFile(filepath.Join(dir, CACertFile), ca.CertPEM(), 0o644, false); err != nil {
		return nil, fmt.Errorf("init CA: %w", err)
	}
	if opts.Parent != nil {
		all := append([]*x509.Certificate{ca.Cert}, chain...)
		if err := writeNewFile(filepath.Join(dir, ChainFile), EncodeCertsPEM(all...), 0o644, false); err != nil {
			return nil, fmt.Errorf("init CA: %w", err)
		}
	}
	st := &State{
		Version: StateVersion,
		CA:      StateCA{Subject: ca.Cert.Subject.String(), Serial: FormatSerial(ca.Cert.SerialNumber), NotAfter: ca.Cert.NotAfter},
		Issued:  []IssuedEntry{},
		Revoked: []RevokedEntry{},
		CRLURLs: opts.CRLURLs,
	}
	if opts.Parent != nil {
		st.CA.Parent = opts.Parent.Cert.Subject.String()
	}
	if err := writeState(dir, st); err != nil {
		return nil, fmt.Errorf("init CA: %w", err)
	}
	return &Authority{Dir: dir, CA: ca, Chain: chain}, nil
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil
}

// Open loads the CA of the PKI directory dir. now is its clock (nil:
// time.Now).
func Open(dir string, now func() time.Time) (*Authority, error) {
	if now == nil {
		now = time.Now
	}
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open CA: %s has no CA certificate (create one with `certgate pki init --dir %s`): %w", dir, dir, err)
		}
		return nil, fmt.Errorf("open CA: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open CA: CA key missing: %s: %w", keyPath, err)
		}
		return nil, fmt.Errorf("open CA: %w", err)
	}
	ca, err := ParseCA(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("open CA in %s: %w", dir, err)
	}
	ca.Now = now
	a := &Authority{Dir: dir, CA: ca}
	if data, err := os.ReadFile(filepath.Join(dir, ChainFile)); err == nil {
		chain, err := ParseCertsPEM(data)
		if err != nil {
			return nil, fmt.Errorf("open CA: %s: %w", ChainFile, err)
		}
		if len(chain) > 1 {
			a.Chain = chain[1:]
		}
	}
	return a, nil
}

// LoadCA reads a CA (a parent for an intermediate) from certificate and key
// files. The certificate file may hold a chain: the CA first, then its
// parents, which are returned as chain.
func LoadCA(certPath, keyPath string) (ca *CA, chain []*x509.Certificate, err error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("load CA: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("load CA: CA key missing: %w", err)
		}
		return nil, nil, fmt.Errorf("load CA: %w", err)
	}
	ca, err = ParseCA(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("load CA %s: %w", certPath, err)
	}
	certs, _ := ParseCertsPEM(certPEM) // parsed once already by ParseCA
	return ca, certs[1:], nil
}

// now returns the Authority's clock reading.
func (a *Authority) now() time.Time {
	if a.CA.Now != nil {
		return a.CA.Now()
	}
	return time.Now()
}
