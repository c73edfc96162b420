package server

import (
	"errors"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/trust"
)

// Cause is a short snake_case code for why a decision came out as it did.
// It is the `cause` of the decision log and the `reason` label of
// certgate_decisions_total, so its set of values stays small and fixed:
// the constants below, trust's Reasons, and the policy's own reason words.
type Cause string

// Causes certgate itself decides; a policy decision carries the policy's
// reason ("granted", "no_route", "missing_permission", …).
const (
	CauseNoSnapshot           Cause = "no_snapshot"
	CausePolicyError          Cause = "policy_error"
	CauseAmbiguousPath        Cause = "ambiguous_path"
	CauseBadRequest           Cause = "bad_request"
	CauseNoCertificate        Cause = "no_certificate"
	CauseMalformedCertificate Cause = "malformed_certificate"
	CauseProxyNotVerified     Cause = "proxy_not_verified"
	// CausePolicyOther stands for a policy reason that is not a short
	// snake_case word, so that a policy cannot grow the label set.
	CausePolicyOther Cause = "policy_other"
	// CauseReservedHeader: an allowed request carries a client-sent
	// x-certgate-* header that the adapter cannot have the proxy remove
	// (HTTP), so it is refused with 400.
	CauseReservedHeader Cause = "reserved_header"
)

// Causes of identities certgate refuses to read (Security II).
const (
	// CauseAmbiguousSubject: the certificate names more than one holder
	// (two CNs, a CN in a multi-valued RDN, two spiffe URI SANs).
	CauseAmbiguousSubject Cause = "ambiguous_subject"
	// CauseIdentityNotAllowedForCA: the leaf names a user or group that
	// a trust.ca_bindings entry of a CA in its path does not allow.
	CauseIdentityNotAllowedForCA = Cause(trust.ReasonIdentityNotAllowed)
)

// causeOfCertificate classifies a failure to obtain a verified identity:
// identity's sentinel errors, or trust's typed Reason.
func causeOfCertificate(err error) Cause {
	var te *trust.Error
	switch {
	case errors.As(err, &te):
		return Cause(te.Reason)
	case errors.Is(err, identity.ErrNoCertificate):
		return CauseNoCertificate
	case errors.Is(err, identity.ErrProxyVerifyFailed):
		return CauseProxyNotVerified
	case errors.Is(err, identity.ErrAmbiguousSubject):
		return CauseAmbiguousSubject
	default:
		return CauseMalformedCertificate
	}
}

// CauseOfCertificate is the Cause of a failure to obtain a verified
// identity (from identity.New, identity.Extract or trust), for tools that
// report what the service would decide.
func CauseOfCertificate(err error) Cause { return causeOfCertificate(err) }

// maxPolicyCauseBytes bounds a policy reason used as a metric label.
const maxPolicyCauseBytes = 40

// policyCause returns the policy's reason as a Cause when it is a short
// snake_case word, else CausePolicyOther.
func policyCause(reason string) Cause {
	if reason == "" || len(reason) > maxPolicyCauseBytes {
		return CausePolicyOther
	}
	for i := 0; i < len(reason); i++ {
		c := reason[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return CausePolicyOther
		}
	}
	return Cause(reason)
}
