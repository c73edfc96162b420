package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/certgate/certgate/pki"
)

// CRLMode says which certificates of a chain must be covered by a current CRL.
type CRLMode string

// The CRL modes.
const (
	CRLModeFullChain CRLMode = "full_chain"
	CRLModeLeaf      CRLMode = "leaf"
	CRLModeOff       CRLMode = "off"
)

// Validate reports an unknown mode.
func (m CRLMode) Validate() error {
	switch m {
	case CRLModeFullChain, CRLModeLeaf, CRLModeOff:
		return nil
	}
	return fmt.Errorf("unknown CRL mode %q (want full_chain, leaf or off)", string(m))
}

// StaleCRLPolicy says what a stale CRL (past its nextUpdate) means.
type StaleCRLPolicy string

// The stale-CRL policies.
const (
	// StaleCRLDeny treats a certificate whose issuer has no current CRL as
	// not authenticated (fail closed). The default.
	StaleCRLDeny StaleCRLPolicy = "deny"
	// StaleCRLWarn keeps using the newest expired CRL of that issuer and
	// marks the verification stale, so callers can log and count it.
	StaleCRLWarn StaleCRLPolicy = "warn"
)

// Validate reports an unknown policy.
func (p StaleCRLPolicy) Validate() error {
	switch p {
	case "", StaleCRLDeny, StaleCRLWarn:
		return nil
	}
	return fmt.Errorf("unknown stale CRL policy %q (want deny or warn)", string(p))
}

// Config names the files a Store is loaded from.
type Config struct {
	CAFiles, IntermediateFiles, CRLFiles []string
	CRLMode                              CRLMode
	OnStaleCRL                           StaleCRLPolicy
}

// Purpose is the extended key usage a chain must allow.
type Purpose int

// Purposes.
const (
	PurposeClient Purpose = iota
	PurposeServer
	PurposeAny
)

// VerifyOptions parameterise one verification.
type VerifyOptions struct {
	Now     time.Time
	Purpose Purpose
}

// Verified is a successful verification.
type Verified struct {
	Chain []*x509.Certificate
	// ValidUntil is when this verdict stops holding: the earliest notAfter
	// of the chain and nextUpdate of the CRLs used. A cache may keep the
	// verdict until then, as long as the Store does not change.
	ValidUntil time.Time
	// StaleCRL is set when a CRL past its nextUpdate was used, which only
	// happens under StaleCRLWarn.
	StaleCRL bool
}

// Reason classifies a verification failure.
type Reason string

// Reasons.
const (
	ReasonUnknownAuthority Reason = "unknown_authority"
	ReasonExpired          Reason = "expired"
	ReasonNotYetValid      Reason = "not_yet_valid"
	ReasonRevoked          Reason = "revoked"
	ReasonCRLUnavailable   Reason = "crl_unavailable"
	ReasonKeyUsage         Reason = "key_usage"
	ReasonInvalid          Reason = "invalid"
)

// Error is a verification failure.
type Error struct {
	Reason  Reason
	Subject string
	Serial  string
	Detail  string
	Err     error
}

func (e *Error) Error() string {
	msg := string(e.Reason)
	if e.Subject != "" {
		msg += " (" + e.Subject + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Status describes the loaded CAs and CRLs.
type Status struct {
	CAs        []CAStatus
	CRLs       []CRLStatus
	Mode       CRLMode
	OnStaleCRL StaleCRLPolicy
}

// CAStatus describes one CA.
type CAStatus struct {
	Subject             string
	NotBefore, NotAfter time.Time
	Intermediate        bool
	FingerprintSHA256   string
}

// CRLStatus describes one CRL.
type CRLStatus struct {
	Issuer                 string
	Number                 string
	ThisUpdate, NextUpdate time.Time
	Revoked                int
	File                   string
}

const maxChainLength = 10

type crlEntry struct {
	crl     *x509.RevocationList
	revoked map[string]struct{}
	file    string
}

// Store is an immutable set of CAs and CRLs.
type Store struct {
	roots, inters *x509.CertPool
	configured    []*x509.Certificate
	rootCerts     []*x509.Certificate
	interCerts    []*x509.Certificate
	crls          map[string][]*crlEntry // by raw issuer
	all           []*crlEntry
	mode          CRLMode
	onStale       StaleCRLPolicy
}

// Load reads the configured files and builds a Store.
func Load(cfg Config) (*Store, error) {
	roots, err := loadCerts(cfg.CAFiles)
	if err != nil {
		return nil, err
	}
	inters, err := loadCerts(cfg.IntermediateFiles)
	if err != nil {
		return nil, err
	}
	var crls []*x509.RevocationList
	var files []string
	for _, f := range cfg.CRLFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CRL: %w", err)
		}
		list, err := parseCRLs(data)
		if err != nil {
			return nil, fmt.Errorf("CRL %s: %w", f, err)
		}
		for _, c := range list {
			crls = append(crls, c)
			files = append(files, f)
		}
	}
	mode := cfg.CRLMode
	if mode == "" {
		mode = CRLModeOff
		if len(crls) > 0 {
			mode = CRLModeFullChain
		}
	}
	s, err := newStore(roots, inters, crls, files, mode)
	if err != nil {
		return nil, err
	}
	if err := cfg.OnStaleCRL.Validate(); err != nil {
		return nil, err
	}
	s.onStale = cfg.OnStaleCRL
	return s, nil
}

// WithStaleCRLPolicy returns a copy of s that applies p to stale CRLs.
func (s *Store) WithStaleCRLPolicy(p StaleCRLPolicy) (*Store, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := *s
	c.onStale = p
	return &c, nil
}

// NewStore builds a Store from parsed values.
func NewStore(roots, intermediates []*x509.Certificate, crls []*x509.RevocationList, mode CRLMode) (*Store, error) {
	return newStore(roots, intermediates, crls, make([]string, len(crls)), mode)
}

func newStore(roots, inters []*x509.Certificate, crls []*x509.RevocationList, files []string, mode CRLMode) (*Store, error) {
	if err := mode.Validate(); err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return nil, errors.New("no CA certificate configured")
	}
	if mode != CRLModeOff && len(crls) == 0 {
		return nil, fmt.Errorf("crl_mode %s needs at least one CRL file", mode)
	}
	s := &Store{roots: x509.NewCertPool(), inters: x509.NewCertPool(), crls: map[string][]*crlEntry{}, mode: mode, rootCerts: roots, interCerts: inters}
	for _, c := range roots {
		s.roots.AddCert(c)
	}
	for _, c := range inters {
		s.inters.AddCert(c)
	}
	s.configured = append(append([]*x509.Certificate{}, roots...), inters...)
	for i, crl := range crls {
		for _, ca := range s.configured {
			if bytes.Equal(ca.RawSubject, crl.RawIssuer) {
				if err := crl.CheckSignatureFrom(ca); err != nil {
					return nil, fmt.Errorf("CRL %s: signature does not verify with CA %q: %w", files[i], ca.Subject, err)
				}
			}
		}
		e := &crlEntry{crl: crl, revoked: make(map[string]struct{}, len(crl.RevokedCertificateEntries)), file: files[i]}
		for _, r := range crl.RevokedCertificateEntries {
			e.revoked[string(r.SerialNumber.Bytes())+sign(r.SerialNumber.Sign())] = struct{}{}
		}
		s.crls[string(crl.RawIssuer)] = append(s.crls[string(crl.RawIssuer)], e)
		s.all = append(s.all, e)
	}
	return s, nil
}

func sign(n int) string {
	if n < 0 {
		return "-"
	}
	return ""
}

func loadCerts(files []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		certs, err := pki.ParseCertsPEM(data)
		if err != nil {
			return nil, fmt.Errorf("CA file %s: %w", f, err)
		}
		for _, c := range certs {
			if !c.IsCA {
				return nil, fmt.Errorf("CA file %s: %q is not a CA certificate", f, c.Subject)
			}
		}
		out = append(out, certs...)
	}
	return out, nil
}

func parseCRLs(data []byte) ([]*x509.RevocationList, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, err
		}
		return []*x509.RevocationList{c}, nil
	}
	blocks, err := pki.DecodePEMBlocks(data)
	if err != nil {
		return nil, err
	}
	var out []*x509.RevocationList
	for _, block := range blocks {
		if block.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block %q, want X509 CRL", block.Type)
		}
		c, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CRL found")
	}
	return out, nil
}

// Verify validates chain (leaf first) and checks revocation.
func (s *Store) Verify(chain []*x509.Certificate, opts VerifyOptions) (*Verified, error) {
	if len(chain) == 0 {
		return nil, &Error{Reason: ReasonInvalid, Detail: "empty chain"}
	}
	if len(chain) > maxChainLength {
		return nil, &Error{Reason: ReasonInvalid, Detail: fmt.Sprintf("chain of %d certificates, more than %d", len(chain), maxChainLength)}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	leaf := chain[0]
	fail := func(r Reason, detail string, err error) error {
		return &Error{Reason: r, Subject: leaf.Subject.String(), Serial: leaf.SerialNumber.Text(16), Detail: detail, Err: err}
	}
	if now.After(leaf.NotAfter) {
		return nil, fail(ReasonExpired, "certificate expired at "+leaf.NotAfter.Format(time.RFC3339), nil)
	}
	if now.Before(leaf.NotBefore) {
		return nil, fail(ReasonNotYetValid, "certificate valid from "+leaf.NotBefore.Format(time.RFC3339), nil)
	}
	inters := s.inters
	if len(chain) > 1 {
		inters = s.inters.Clone()
		for _, c := range chain[1:] {
			inters.AddCert(c)
		}
	}
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	switch opts.Purpose {
	case PurposeServer:
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case PurposeAny:
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	paths, err := leaf.Verify(x509.VerifyOptions{Roots: s.roots, Intermediates: inters, CurrentTime: now, KeyUsages: usage})
	if err != nil {
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(err, &ua):
			return nil, fail(ReasonUnknownAuthority, err.Error(), err)
		case errors.As(err, &ci) && ci.Reason == x509.Expired:
			return nil, fail(ReasonExpired, err.Error(), err)
		case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
			return nil, fail(ReasonKeyUsage, err.Error(), err)
		}
		return nil, fail(ReasonInvalid, err.Error(), err)
	}
	// A chain is accepted when at least one verified path passes the
	// revocation check; the first failure is reported otherwise.
	var first error
	for _, path := range paths {
		v, err := s.checkRevocation(path, now)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		return v, nil
	}
	return nil, first
}

// checkRevocation checks every certificate of path against its issuer's CRL
// and returns the verdict with the time it stops holding.
func (s *Store) checkRevocation(path []*x509.Certificate, now time.Time) (*Verified, error) {
	v := &Verified{Chain: path, ValidUntil: path[0].NotAfter}
	for _, c := range path[1:] {
		v.ValidUntil = earliest(v.ValidUntil, c.NotAfter)
	}
	if s.mode == CRLModeOff {
		return v, nil
	}
	for i := 0; i < len(path)-1; i++ {
		cert, issuer := path[i], path[i+1]
		level := "intermediate"
		if i == 0 {
			level = "leaf"
		}
		entry, stale := s.currentCRL(cert, issuer, now)
		if entry == nil {
			if s.mode == CRLModeFullChain || i == 0 {
				return nil, &Error{Reason: ReasonCRLUnavailable, Subject: cert.Subject.String(), Serial: cert.SerialNumber.Text(16), Detail: fmt.Sprintf("no current CRL from %q for the %s", issuer.Subject, level)}
			}
			continue
		}
		if stale {
			v.StaleCRL = true
		} else {
			v.ValidUntil = earliest(v.ValidUntil, entry.crl.NextUpdate)
		}
		key := string(cert.SerialNumber.Bytes()) + sign(cert.SerialNumber.Sign())
		if _, revoked := entry.revoked[key]; revoked {
			return nil, &Error{Reason: ReasonRevoked, Subject: cert.Subject.String(), Serial: cert.SerialNumber.Text(16), Detail: fmt.Sprintf("%s serial %s is listed in the CRL of %q", level, cert.SerialNumber.Text(16), issuer.Subject)}
		}
	}
	return v, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// currentCRL returns the current CRL with the highest number that issuer
// signed. Under StaleCRLWarn, when no CRL is current, it returns the newest
// one whose nextUpdate has passed, and stale=true.
func (s *Store) currentCRL(cert, issuer *x509.Certificate, now time.Time) (best *crlEntry, stale bool) {
	var newestStale *crlEntry
	for _, e := range s.crls[string(cert.RawIssuer)] {
		if e.crl.NextUpdate.IsZero() || now.Before(e.crl.ThisUpdate) {
			continue
		}
		if hasUnknownCritical(e.crl) {
			continue
		}
		if e.crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		if !now.Before(e.crl.NextUpdate) {
			if newestStale == nil || newer(e, newestStale) {
				newestStale = e
			}
			continue
		}
		if best == nil || newer(e, best) {
			best = e
		}
	}
	if best == nil && s.onStale == StaleCRLWarn && newestStale != nil {
		return newestStale, true
	}
	return best, false
}

// newer reports whether a has a higher CRL number than b.
func newer(a, b *crlEntry) bool {
	return a.crl.Number != nil && b.crl.Number != nil && a.crl.Number.Cmp(b.crl.Number) > 0
}

func hasUnknownCritical(crl *x509.RevocationList) bool {
	for _, ext := range crl.Extensions {
		if !ext.Critical {
			continue
		}
		// certgate implements no critical CRL extension (issuing
		// distribution point, delta CRL indicator, …): such a CRL may mean
		// less than it seems to, so it is not used (fail closed).
		return true
	}
	return false
}

// Status describes the loaded CAs and CRLs.
func (s *Store) Status() Status {
	st := Status{Mode: s.mode, OnStaleCRL: s.onStale}
	if st.OnStaleCRL == "" {
		st.OnStaleCRL = StaleCRLDeny
	}
	add := func(c *x509.Certificate, inter bool) {
		sum := sha256.Sum256(c.Raw)
		st.CAs = append(st.CAs, CAStatus{Subject: c.Subject.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter, Intermediate: inter, FingerprintSHA256: hex.EncodeToString(sum[:])})
	}
	for _, c := range s.rootCerts {
		add(c, false)
	}
	for _, c := range s.interCerts {
		add(c, true)
	}
	for _, e := range s.all {
		n := ""
		if e.crl.Number != nil {
			n = e.crl.Number.String()
		}
		st.CRLs = append(st.CRLs, CRLStatus{Issuer: e.crl.Issuer.String(), Number: n, ThisUpdate: e.crl.ThisUpdate, NextUpdate: e.crl.NextUpdate, Revoked: len(e.revoked), File: e.file})
	}
	return st
}
