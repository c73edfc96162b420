package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// IssueRequest describes a leaf certificate for Authority.Issue.
type IssueRequest struct {
	// Name is the file name stem: <OutDir>/<Name>.pem and <Name>-key.pem.
	// Empty means the common name.
	Name string
	// OutDir defaults to the PKI directory.
	OutDir string

	CommonName    string
	Organizations []string // certgate groups
	OrgUnits      []string
	DNSNames      []string
	IPAddresses   []net.IP
	URIs          []*url.URL
	Emails        []string

	// Server issues a TLS server certificate (EKU serverAuth) instead of a
	// client certificate (EKU clientAuth).
	Server       bool
	Validity     time.Duration // default DefaultLeafValidity
	KeyAlgorithm KeyAlgorithm
	// Force overwrites existing files.
	Force bool
}

// Issued is a certificate Authority.Issue wrote.
type Issued struct {
	*Certificate
	CertPath, KeyPath string
	Entry             IssuedEntry
}

// fileStem is what a certificate's file name may be made of, so that a
// common name never walks out of the output directory.
var fileStem = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]*$`)

// unsafeFileChars are replaced by "-" when a file name is made from a
// common name such as "Jane Doe".
var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._@+-]+`)

// hostname is a DNS name as a server certificate may carry it, with an
// optional leading wildcard label.
var hostname = regexp.MustCompile(`^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// IsHostname reports whether s can be a DNS SAN.
func IsHostname(s string) bool { return len(s) <= 253 && hostname.MatchString(s) }

// ErrNoSAN is returned for a server certificate without a subject
// alternative name: TLS clients ignore the common name, so it would match no
// host.
var ErrNoSAN = errors.New("a server certificate needs at least one SAN (--dns, --ip, --uri or --email); TLS clients ignore the common name")

func (r *IssueRequest) check() error {
	if r.CommonName == "" {
		return errors.New("a common name (--cn) is required")
	}
	for _, d := range r.DNSNames {
		if !IsHostname(d) {
			return fmt.Errorf("DNS name %q is not a host name", d)
		}
	}
	if r.Server {
		r.addCommonNameSAN()
		if len(r.DNSNames)+len(r.IPAddresses)+len(r.URIs)+len(r.Emails) == 0 {
			return fmt.Errorf("common name %q is not a host name: %w", r.CommonName, ErrNoSAN)
		}
	}
	if r.Name == "" {
		r.Name = strings.Trim(unsafeFileChars.ReplaceAllString(r.CommonName, "-"), "-.")
	}
	if !fileStem.MatchString(r.Name) {
		return fmt.Errorf("file name %q: use letters, digits and . _ @ + - only (set --name)", r.Name)
	}
	return nil
}

// addCommonNameSAN makes a server certificate's CN one of its SANs: a DNS
// SAN when it is a host name, dot or not ("localhost", "ci"), an IP SAN when
// it is an IP address. TLS clients ignore the CN, so `--cn localhost` that
// left no DNS:localhost would match nothing; the CA/Browser Forum rules ask
// for the CN among the SANs as well. A CN that is neither ("Build Server")
// stays a label.
func (r *IssueRequest) addCommonNameSAN() {
	if ip := net.ParseIP(r.CommonName); ip != nil {
		if !slices.ContainsFunc(r.IPAddresses, ip.Equal) {
			r.IPAddresses = append([]net.IP{ip}, r.IPAddresses...)
		}
		return
	}
	if IsHostname(r.CommonName) && !slices.Contains(r.DNSNames, r.CommonName) {
		r.DNSNames = append([]string{r.CommonName}, r.DNSNames...)
	}
}

// SANs lists the subject alternative names of c the way openssl prints
// them: DNS:, IP:, email:, URI:.
func SANs(c *x509.Certificate) []string {
	var sans []string
	for _, s := range c.DNSNames {
		sans = append(sans, "DNS:"+s)
	}
	for _, ip := range c.IPAddresses {
		sans = append(sans, "IP:"+ip.String())
	}
	for _, s := range c.EmailAddresses {
		sans = append(sans, "email:"+s)
	}
	for _, u := range c.URIs {
		sans = append(sans, "URI:"+u.String())
	}
	return sans
}

// Issue signs a leaf certificate, writes it and its key (PKCS #8, mode
// 0600) and records its serial in the state, all under the directory lock.
// Existing files are kept unless req.Force is set.
func (a *Authority) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	return a.issue(ctx, "issue", req, nil)
}

// issue is Issue, or with pub set Sign (op names which in errors): a certificate for pub whose key
// file is not written (KeyPath stays empty).
func (a *Authority) issue(ctx context.Context, op string, req IssueRequest, pub crypto.PublicKey) (*Issued, error) {
	if err := req.check(); err != nil {
		return nil, fmt.Errorf("%s %q: %w", op, req.CommonName, err)
	}
	out := req.OutDir
	if out == "" {
		out = a.Dir
	}
	res := &Issued{CertPath: filepath.Join(out, req.Name+".pem")}
	if pub == nil {
		res.KeyPath = filepath.Join(out, req.Name+"-key.pem")
	}
	if err := a.refuseOwnFiles(res.paths()); err != nil {
		return nil, fmt.Errorf("%s %q: %w", op, req.CommonName, err)
	}
	err := UpdateState(ctx, a.Dir, func(st *State) error {
		if !req.Force {
			for _, p := range res.paths() {
				if _, err := os.Lstat(p); err == nil {
					return fmt.Errorf("%s exists: %w", p, ErrExists)
				}
			}
		}
		cert, err := a.signLeaf(req, pub, st.CRLURLs)
		if err != nil {
			return err
		}
		if err := res.write(cert, out, req.Force); err != nil {
			return err
		}
		kind := "client"
		if req.Server {
			kind = "server"
		}
		res.Entry = IssuedEntry{
			Serial:   FormatSerial(cert.Cert.SerialNumber),
			Subject:  cert.Cert.Subject.String(),
			Kind:     kind,
			IssuedAt: a.now().UTC(),
			NotAfter: cert.Cert.NotAfter,
			File:     res.CertPath,
		}
		st.Issued = append(st.Issued, res.Entry)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", op, req.CommonName, err)
	}
	return res, nil
}

// paths are the files Issue writes: the certificate, and the key unless
// the certificate was signed from a CSR.
func (res *Issued) paths() []string {
	if res.KeyPath == "" {
		return []string{res.CertPath}
	}
	return []string{res.CertPath, res.KeyPath}
}

// refuseOwnFiles keeps a --name or --out from overwriting the CA's files.
func (a *Authority) refuseOwnFiles(paths []string) error {
	for _, p := range paths {
		for _, own := range []string{CACertFile, CAKeyFile, ChainFile, CRLFile, StateFile} {
			if filepath.Clean(p) == filepath.Join(a.Dir, own) {
				return fmt.Errorf("%s is the CA's own file; pick another --name or --out", p)
			}
		}
	}
	return nil
}

// signLeaf signs the certificate req describes, for pub or a new key,
// naming crlURLs as its CRL distribution points.
func (a *Authority) signLeaf(req IssueRequest, pub crypto.PublicKey, crlURLs []string) (*Certificate, error) {
	usage := ClientAuth
	if req.Server {
		usage = ServerAuth
	}
	validity := req.Validity
	if validity == 0 {
		validity = DefaultLeafValidity
	}
	cert, err := a.CA.Issue(Options{
		Subject:        pkix.Name{CommonName: req.CommonName, Organization: req.Organizations, OrganizationalUnit: req.OrgUnits},
		DNSNames:       req.DNSNames,
		IPAddresses:    req.IPAddresses,
		URIs:           req.URIs,
		EmailAddresses: req.Emails,
		Validity:       validity,
		KeyAlgorithm:   req.KeyAlgorithm,
		PublicKey:      pub,
		Usage:          usage,
		// The CA's CRL covers what it issues: say where it is.
		CRLDistributionPoints: crlURLs,
	})
	if err != nil {
		return nil, err
	}
	if cert.Cert.NotAfter.After(a.CA.Cert.NotAfter) {
		return nil, fmt.Errorf("certificate would outlive its CA (%s > %s); use fewer --days", cert.Cert.NotAfter.Format(time.DateOnly), a.CA.Cert.NotAfter.Format(time.DateOnly))
	}
	return cert, nil
}

// write stores the key (when there is one, mode 0600) and the certificate.
func (res *Issued) write(cert *Certificate, out string, force bool) error {
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	if res.KeyPath != "" {
		keyPEM, err := cert.KeyPEM()
		if err != nil {
			return err
		}
		if err := writeNewFile(res.KeyPath, keyPEM, 0o600, force); err != nil {
			return err
		}
	}
	if err := writeNewFile(res.CertPath, cert.CertPEM(), 0o644, force); err != nil {
		return err
	}
	res.Certificate = cert
	return nil
}

// ParseKeyName reads a key type as the command line writes it: ecdsa (or
// p256), p384, rsa2048, rsa3072, rsa4096, ed25519, or a KeyAlgorithm name.
func ParseKeyName(s string) (KeyAlgorithm, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "")) {
	case "", "ecdsa", "p256", "ecdsap256":
		return ECDSAP256, nil
	case "p384", "ecdsap384":
		return ECDSAP384, nil
	case "rsa2048", "rsa":
		return RSA2048, nil
	case "rsa3072":
		return RSA3072, nil
	case "rsa4096":
		return RSA4096, nil
	case "ed25519":
		return Ed25519, nil
	}
	return "", fmt.Errorf("unknown key type %q (want ecdsa, p384, rsa2048, rsa3072, rsa4096 or ed25519)", s)
}
