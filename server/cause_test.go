package server

import (
	"fmt"
	"testing"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/trust"
)

func TestCauseOfCertificateKeepsTheTypedReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Cause
	}{
		{identity.ErrNoCertificate, CauseNoCertificate},
		{fmt.Errorf("ssl-client-cert: %w", identity.ErrProxyVerifyFailed), CauseProxyNotVerified},
		{fmt.Errorf("x-forwarded-client-cert: %w", identity.ErrMalformed), CauseMalformedCertificate},
		{fmt.Errorf("verify: %w", &trust.Error{Reason: trust.ReasonRevoked}), Cause(trust.ReasonRevoked)},
		{fmt.Errorf("subject: %w", identity.ErrAmbiguousSubject), CauseAmbiguousSubject},
		{&trust.Error{Reason: trust.ReasonIdentityNotAllowed}, "identity_not_allowed_for_ca"},
	} {
		if got := causeOfCertificate(tc.err); got != tc.want {
			t.Errorf("causeOfCertificate(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestPolicyCauseAcceptsOnlyShortSnakeCaseWords(t *testing.T) {
	for reason, want := range map[string]Cause{
		"granted":            "granted",
		"missing_permission": "missing_permission",
		"":                   CausePolicyOther,
		"No Route":           CausePolicyOther,
		"user=alice":         CausePolicyOther,
		"a_very_long_reason_that_a_policy_made_up_per_request_id_123": CausePolicyOther,
	} {
		if got := policyCause(reason); got != want {
			t.Errorf("policyCause(%q) = %q, want %q", reason, got, want)
		}
	}
}
