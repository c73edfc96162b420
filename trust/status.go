package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// Status describes the loaded CAs and CRLs.
type Status struct {
	CAs        []CAStatus
	CRLs       []CRLStatus
	Mode       CRLMode
	OnStaleCRL StaleCRLPolicy
	// Profile is the path validation profile; MaxChainDepth the most
	// intermediates allowed, -1 for no limit.
	Profile       Profile
	MaxChainDepth int
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

// Status describes the loaded CAs and CRLs.
func (s *Store) Status() Status {
	st := Status{Mode: s.mode, OnStaleCRL: s.onStale, Profile: s.profile, MaxChainDepth: s.maxDepth}
	if st.Profile == "" {
		st.Profile = ProfileCompatible
	}
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
		st.CRLs = append(st.CRLs, e.status())
	}
	return st
}

func (e *crlEntry) status() CRLStatus {
	n := ""
	if e.crl.Number != nil {
		n = e.crl.Number.String()
	}
	return CRLStatus{Issuer: e.crl.Issuer.String(), Number: n, ThisUpdate: e.crl.ThisUpdate, NextUpdate: e.crl.NextUpdate, Revoked: len(e.revoked), File: e.file}
}
