package config

import (
	"fmt"

	"github.com/certgate/certgate/trust"
)

// CABinding is one entry of trust.ca_bindings: the users (CN) and groups
// (O) that the certificates below one CA may assert. Name constraints bind
// a CA's SANs only; without a binding, a CA constrained to team.example
// may still issue "CN=admin, O=admins". A leaf that asserts anything not
// allowed is refused (401, identity_not_allowed_for_ca).
type CABinding struct {
	// CAFile or FingerprintSHA256 (of a configured CA or intermediate)
	// names the CA; it is matched by its key anywhere in the verified
	// path.
	CAFile            string `yaml:"ca_file"`
	FingerprintSHA256 string `yaml:"fingerprint_sha256"`
	// AllowedUsers and AllowedGroups are patterns ("*" stands for any run
	// of characters). Both must be given: [] allows none, ["*"] any.
	AllowedUsers  []string `yaml:"allowed_users"`
	AllowedGroups []string `yaml:"allowed_groups"`
}

func (t Trust) bindings() []trust.Binding {
	if len(t.CABindings) == 0 {
		return nil
	}
	out := make([]trust.Binding, 0, len(t.CABindings))
	for _, b := range t.CABindings {
		out = append(out, trust.Binding{CAFile: b.CAFile, FingerprintSHA256: b.FingerprintSHA256, AllowedUsers: b.AllowedUsers, AllowedGroups: b.AllowedGroups})
	}
	return out
}

// validateBindings wants every binding to name one CA and to say, for
// users and for groups, what it allows: a forgotten allowed_users would
// otherwise be read one way or the other.
func (t Trust) validateBindings() []error {
	var errs []error
	for i, b := range t.CABindings {
		name := fmt.Sprintf("trust.ca_bindings[%d]", i)
		if (b.CAFile == "") == (b.FingerprintSHA256 == "") {
			errs = append(errs, fmt.Errorf("%s: set one of ca_file and fingerprint_sha256", name))
		}
		if b.AllowedUsers == nil {
			errs = append(errs, fmt.Errorf(`%s.allowed_users: list the users (CN) this CA may name: [] for none, ["*"] for any`, name))
		}
		if b.AllowedGroups == nil {
			errs = append(errs, fmt.Errorf(`%s.allowed_groups: list the groups (O) this CA may grant: [] for none, ["*"] for any`, name))
		}
	}
	return errs
}
