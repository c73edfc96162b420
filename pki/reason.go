package pki

import (
	"fmt"
	"strings"
)

// Reason is an RFC 5280 CRLReason (section 5.3.1), written in state files
// and on the command line by its ASN.1 name.
type Reason int

// The reasons a certificate can be revoked for. Code 7 is unassigned, and
// removeFromCRL (8) only has a meaning in delta CRLs, which certgate does
// not issue, so neither can be chosen.
const (
	ReasonUnspecified          Reason = 0
	ReasonKeyCompromise        Reason = 1
	ReasonCACompromise         Reason = 2
	ReasonAffiliationChanged   Reason = 3
	ReasonSuperseded           Reason = 4
	ReasonCessationOfOperation Reason = 5
	ReasonCertificateHold      Reason = 6
	ReasonPrivilegeWithdrawn   Reason = 9
	ReasonAACompromise         Reason = 10
)

var reasonNames = []struct {
	r    Reason
	name string
}{
	{ReasonUnspecified, "unspecified"},
	{ReasonKeyCompromise, "keyCompromise"},
	{ReasonCACompromise, "cACompromise"},
	{ReasonAffiliationChanged, "affiliationChanged"},
	{ReasonSuperseded, "superseded"},
	{ReasonCessationOfOperation, "cessationOfOperation"},
	{ReasonCertificateHold, "certificateHold"},
	{ReasonPrivilegeWithdrawn, "privilegeWithdrawn"},
	{ReasonAACompromise, "aACompromise"},
}

// ReasonNames lists the names ParseReason accepts, in code order.
func ReasonNames() []string {
	names := make([]string, len(reasonNames))
	for i, rn := range reasonNames {
		names[i] = rn.name
	}
	return names
}

// ParseReason reads a reason by its RFC 5280 name. Case is ignored, so
// "keycompromise" works as well as "keyCompromise"; an unknown name is an
// error that lists the valid ones.
func ParseReason(name string) (Reason, error) {
	for _, rn := range reasonNames {
		if strings.EqualFold(rn.name, name) {
			return rn.r, nil
		}
	}
	if strings.EqualFold(name, "removeFromCRL") {
		return 0, fmt.Errorf("reason removeFromCRL is only meaningful in delta CRLs, which certgate does not issue (valid reasons: %s)", strings.Join(ReasonNames(), ", "))
	}
	return 0, fmt.Errorf("unknown revocation reason %q (valid reasons: %s)", name, strings.Join(ReasonNames(), ", "))
}

// String returns the RFC 5280 name of r, or "reason(N)" for a code without one.
func (r Reason) String() string {
	for _, rn := range reasonNames {
		if rn.r == r {
			return rn.name
		}
	}
	if r == 8 {
		return "removeFromCRL"
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// MarshalText writes the reason's name, so state files stay readable.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a reason name written by MarshalText.
func (r *Reason) UnmarshalText(b []byte) error {
	v, err := ParseReason(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
