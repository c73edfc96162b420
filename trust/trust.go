package trust

import (
	"crypto/x509"
	"fmt"
	"time"
)

// CRLMode says which certificates of a chain must be covered by a current CRL.
type CRLMode string

// The CRL modes; docs/validation.md §3 has the table of what each one
// makes of a missing, stale or unusable CRL.
const (
	// CRLModeFullChain checks every certificate below the trust anchor.
	CRLModeFullChain CRLMode = "full_chain"
	// CRLModeLeaf checks the leaf, and each intermediate for which its
	// issuer's key has signed a loaded CRL (stale or unusable included):
	// only an intermediate no CRL speaks for is left unchecked.
	CRLModeLeaf CRLMode = "leaf"
	// CRLModeOff checks nothing.
	CRLModeOff CRLMode = "off"
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
	// StaleCRLDeny treats a certificate whose issuer's newest CRL is past
	// its nextUpdate as not authenticated (crl_unavailable; revoked when
	// that CRL lists it), in every CRL mode that checks the certificate:
	// fail closed. The default.
	StaleCRLDeny StaleCRLPolicy = "deny"
	// StaleCRLWarn keeps using that CRL (its revocations apply) and marks
	// the verification stale, so callers can log and count it.
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
	// Bindings limit the users and groups CAs may assert (see Binding).
	Bindings []Binding
	// Profile is compatible ("", the default) or strict (profile.go).
	Profile Profile
	// MaxChainDepth is the most intermediate CAs allowed between a leaf
	// and its trust anchor, like OpenSSL's verify depth; nil: no limit.
	MaxChainDepth *int
	// CRLDocuments are CRLs read elsewhere than from CRLFiles (fetched
	// over HTTP), parsed and checked exactly as a file is; each one's Name
	// (its URL) stands where a file name would.
	CRLDocuments []CRLDocument
	// FetchesCRLs says that CRLs arrive from somewhere else than files
	// (trust.crl_urls): crl_mode then defaults to full_chain as with CRL
	// files, and a mode that checks CRLs is allowed while none has
	// arrived yet: every certificate it covers is crl_unavailable (401)
	// until one has.
	FetchesCRLs bool
}

// CRLDocument is the content of one CRL source: a DER CRL, or PEM holding
// X509 CRL blocks, as a CRL file holds.
type CRLDocument struct {
	Name string
	Data []byte
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
