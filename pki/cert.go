package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// Usage says what a leaf certificate is for; it sets key usage and extended
// key usage the way TLS stacks expect them.
type Usage int

// Leaf usages.
const (
	// ClientAuth is a TLS client certificate (EKU clientAuth).
	ClientAuth Usage = iota
	// ServerAuth is a TLS server certificate (EKU serverAuth).
	ServerAuth
	// ClientAndServerAuth carries both EKUs.
	ClientAndServerAuth
)

// DefaultLeafValidity and DefaultCAValidity are used when Options leave the
// validity period unset.
const (
	DefaultLeafValidity = 365 * 24 * time.Hour
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
)

// clockSkew backdates NotBefore so that a certificate is valid at once on
// machines whose clocks differ slightly.
const clockSkew = 5 * time.Minute

// Options describe a certificate to issue. The zero value issues an ECDSA
// P-256 client certificate valid for a year from now with a random serial.
type Options struct {
	Subject pkix.Name
	// RawSubject, when set, is the subject's DER used as it is (Subject is
	// then only what the certificate template reports): for subjects that
	// pkix.Name cannot say, such as two CNs or a multi-valued RDN.
	RawSubject     []byte
	DNSNames       []string
	IPAddresses    []net.IP
	URIs           []*url.URL
	EmailAddresses []string

	// NotBefore and NotAfter bound the validity; zero NotBefore is "now" less
	// a few minutes of clock skew, zero NotAfter is NotBefore plus Validity.
	NotBefore time.Time
	NotAfter  time.Time
	Validity  time.Duration

	// Key is used as the certificate's key when set; otherwise a key of
	// KeyAlgorithm is generated.
	Key          crypto.Signer
	KeyAlgorithm KeyAlgorithm
	// PublicKey, when set, is the key of a leaf signed from a CSR: the
	// private key stays with the requester, so the Certificate's Key is nil.
	PublicKey crypto.PublicKey

	// Usage picks the EKU of a leaf; ignored for CAs unless ExtKeyUsage is set.
	Usage Usage
	// ExtKeyUsage and KeyUsage override what Usage implies, for tests that
	// need unusual certificates.
	ExtKeyUsage []x509.ExtKeyUsage
	KeyUsage    x509.KeyUsage

	// SerialNumber overrides the random 128-bit serial.
	SerialNumber *big.Int

	// MaxPathLen limits the CAs below a CA; -1 (or 0 with MaxPathLenZero
	// false) means no limit.
	MaxPathLen     int
	MaxPathLenZero bool

	// PermittedDNSDomains and ExcludedDNSDomains add name constraints to a CA.
	PermittedDNSDomains []string
	ExcludedDNSDomains  []string

	// SignatureAlgorithm overrides the default for the issuer's key.
	SignatureAlgorithm x509.SignatureAlgorithm

	// ExtraExtensions are added verbatim.
	ExtraExtensions []pkix.Extension

	// CRLDistributionPoints are the URLs where the issuer publishes the
	// CRL that covers this certificate (RFC 5280 4.2.1.13).
	CRLDistributionPoints []string

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Certificate is an issued certificate with its private key.
type Certificate struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CertPEM returns the certificate as a PEM block.
func (c *Certificate) CertPEM() []byte { return EncodeCertsPEM(c.Cert) }

// KeyPEM returns the private key as an unencrypted PKCS #8 PEM block.
func (c *Certificate) KeyPEM() ([]byte, error) { return EncodeKeyPEM(c.Key) }

// CA is a certificate authority: a CA certificate and the key that signs with it.
type CA struct {
	Certificate
	// Now is the clock used for what this CA issues when Options.Now is nil.
	Now func() time.Time
}

// NewRootCA creates a self-signed root CA.
func NewRootCA(opts Options) (*CA, error) {
	key, err := keyFor(opts)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(opts, true, key.Public())
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create root CA %q: %w", opts.Subject.CommonName, err)
	}
	return &CA{Certificate: Certificate{Cert: cert, Key: key}, Now: opts.Now}, nil
}

// NewIntermediate creates a CA signed by ca.
func (ca *CA) NewIntermediate(opts Options) (*CA, error) {
	c, err := ca.issue(opts, true)
	if err != nil {
		return nil, fmt.Errorf("create intermediate CA %q: %w", opts.Subject.CommonName, err)
	}
	return &CA{Certificate: *c, Now: ca.Now}, nil
}

// Issue signs a leaf certificate.
func (ca *CA) Issue(opts Options) (*Certificate, error) {
	c, err := ca.issue(opts, false)
	if err != nil {
		return nil, fmt.Errorf("issue certificate %q: %w", opts.Subject.CommonName, err)
	}
	return c, nil
}

func (ca *CA) issue(opts Options, isCA bool) (*Certificate, error) {
	if opts.Now == nil {
		opts.Now = ca.Now
	}
	var key crypto.Signer
	pub := opts.PublicKey
	if pub == nil {
		var err error
		if key, err = keyFor(opts); err != nil {
			return nil, err
		}
		pub = key.Public()
	}
	tmpl, err := template(opts, isCA, pub)
	if err != nil {
		return nil, err
	}
	cert, err := sign(tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, err
	}
	return &Certificate{Cert: cert, Key: key}, nil
}

func keyFor(opts Options) (crypto.Signer, error) {
	if opts.Key != nil {
		return opts.Key, nil
	}
	return GenerateKey(opts.KeyAlgorithm)
}

func template(opts Options, isCA bool, pub crypto.PublicKey) (*x509.Certificate, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	serial := opts.SerialNumber
	if serial == nil {
		var err error
		if serial, err = RandomSerial(); err != nil {
			return nil, err
		}
	}
	notBefore := opts.NotBefore
	if notBefore.IsZero() {
		notBefore = now().Add(-clockSkew)
	}
	notAfter := opts.NotAfter
	if notAfter.IsZero() {
		validity := opts.Validity
		if validity == 0 {
			validity = DefaultLeafValidity
			if isCA {
				validity = DefaultCAValidity
			}
		}
		notAfter = notBefore.Add(validity)
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("validity ends (%s) before it starts (%s)", notAfter.Format(time.RFC3339), notBefore.Format(time.RFC3339))
	}
	skid, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	rawSubject := opts.RawSubject
	if rawSubject == nil {
		if rawSubject, err = marshalSubject(opts.Subject); err != nil {
			return nil, err
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               opts.Subject,
		RawSubject:            rawSubject,
		NotBefore:             notBefore.UTC(),
		NotAfter:              notAfter.UTC(),
		DNSNames:              opts.DNSNames,
		IPAddresses:           opts.IPAddresses,
		URIs:                  opts.URIs,
		EmailAddresses:        opts.EmailAddresses,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		SubjectKeyId:          skid,
		ExtKeyUsage:           opts.ExtKeyUsage,
		KeyUsage:              opts.KeyUsage,
		SignatureAlgorithm:    opts.SignatureAlgorithm,
		ExtraExtensions:       opts.ExtraExtensions,
		PermittedDNSDomains:   opts.PermittedDNSDomains,
		ExcludedDNSDomains:    opts.ExcludedDNSDomains,
		CRLDistributionPoints: opts.CRLDistributionPoints,
	}
	if isCA {
		tmpl.MaxPathLen = opts.MaxPathLen
		tmpl.MaxPathLenZero = opts.MaxPathLenZero
		if tmpl.KeyUsage == 0 {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		}
		return tmpl, nil
	}
	if tmpl.KeyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, isRSA := pub.(interface{ Size() int }); isRSA && opts.Usage != ClientAuth {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	if tmpl.ExtKeyUsage == nil {
		switch opts.Usage {
		case ClientAuth:
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		case ServerAuth:
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		case ClientAndServerAuth:
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		default:
			return nil, fmt.Errorf("unknown usage %d", opts.Usage)
		}
	}
	return tmpl, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// subjectKeyID is the RFC 5280 method 1 key identifier: SHA-1 of the public key bits.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1BitString
	}
	if _, err := asn1Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// RandomSerial returns a positive random 128-bit serial number.
func RandomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("random serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// EncodeCertsPEM encodes certificates as consecutive CERTIFICATE blocks.
func EncodeCertsPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// ParseCertsPEM reads every CERTIFICATE block of a PEM document. It fails on a
// document with no certificate or with a block it cannot parse; other block
// types (keys, parameters) are an error too, so that a key pasted into a CA
// file is noticed, and so is a block cut short (see DecodePEMBlocks).
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	blocks, err := DecodePEMBlocks(data)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, block := range blocks {
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want CERTIFICATE", len(certs)+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	return certs, nil
}

// pemBegin starts every PEM block.
var pemBegin = []byte("-----BEGIN")

// DecodePEMBlocks returns every PEM block of data, in order. Text around
// the blocks is allowed (bundles often carry "subject=" lines), but a block
// that is corrupt or has no END line is an error: pem.Decode skips such a
// block silently, and a CA or CRL file read while it is being written, or
// cut short, would then load with certificates or CRLs missing — an older
// CRL of the same issuer in the same file would even be used in place of
// the newer one.
//
// A file cut inside the BEGIN line of its last block ("-----BEG") is an
// error too; one cut exactly between two blocks cannot be told from a
// whole file, which is why CA and CRL files are best replaced by a rename.
func DecodePEMBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			if bytes.Contains(data, pemBegin) || isBeginFragment(data) {
				return nil, fmt.Errorf("PEM block %d is corrupt or has no END line (a file cut short?)", len(blocks)+1)
			}
			return blocks, nil
		}
		if bytes.Count(data[:len(data)-len(rest)], pemBegin) != 1 {
			return nil, fmt.Errorf("PEM block %d is corrupt or has no END line (a file cut short?)", len(blocks)+1)
		}
		blocks = append(blocks, block)
		data = rest
	}
}

// isBeginFragment says whether the text after the last block ends in the
// first bytes of a BEGIN line: a block cut short before its type.
func isBeginFragment(tail []byte) bool {
	tail = bytes.TrimRight(tail, " \t\r\n")
	if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
		tail = tail[i+1:]
	}
	tail = bytes.TrimLeft(tail, " \t\r")
	return len(tail) > 0 && bytes.HasPrefix(pemBegin, tail)
}

// ParseCA reads a CA from its certificate and private key PEM, checking that
// the key belongs to the certificate and that the certificate is a CA.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	certs, err := ParseCertsPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	key, err := ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, fmt.Errorf("certificate %q is not a CA (basicConstraints CA:FALSE)", cert.Subject.CommonName)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("CA key does not match certificate %q", cert.Subject.CommonName)
	}
	return &CA{Certificate: Certificate{Cert: cert, Key: key}}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// marshalSubject encodes a subject with one RDN per attribute value, in the
// order C, ST, L, O…, OU…, CN — the way `openssl req -subj "/O=a/O=b/CN=c"`
// writes it. crypto/x509 would put several O values into one multi-valued
// RDN, whose DER sorting loses the order certgate's groups rely on.
func marshalSubject(n pkix.Name) ([]byte, error) {
	var seq pkix.RDNSequence
	add := func(oid asn1.ObjectIdentifier, values []string) {
		for _, v := range values {
			seq = append(seq, pkix.RelativeDistinguishedNameSET{{Type: oid, Value: v}})
		}
	}
	add(asn1.ObjectIdentifier{2, 5, 4, 6}, n.Country)
	add(asn1.ObjectIdentifier{2, 5, 4, 8}, n.Province)
	add(asn1.ObjectIdentifier{2, 5, 4, 7}, n.Locality)
	add(asn1.ObjectIdentifier{2, 5, 4, 10}, n.Organization)
	add(asn1.ObjectIdentifier{2, 5, 4, 11}, n.OrganizationalUnit)
	if n.CommonName != "" {
		add(asn1.ObjectIdentifier{2, 5, 4, 3}, []string{n.CommonName})
	}
	for _, atv := range n.ExtraNames {
		seq = append(seq, pkix.RelativeDistinguishedNameSET{atv})
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		return nil, fmt.Errorf("encode subject: %w", err)
	}
	return der, nil
}
