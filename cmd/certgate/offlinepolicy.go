package main

import (
	"errors"

	"github.com/certgate/certgate/config"
)

// errBundlePolicy: a command that decides without a running certgate
// reads a policy directory; it would otherwise decide with the embedded
// policy, not the bundle that certgate serve downloads.
var errBundlePolicy = errors.New("policy.opa: this command reads a policy directory, and only certgate serve downloads the bundle; " +
	"give --policy-dir (the directory the bundle is built from) or ask the running certgate (certgate explain)")

// offlinePolicyDir is the policy directory of cfg for a command that
// loads the policy itself.
func offlinePolicyDir(cfg config.Config) (string, error) {
	if cfg.Policy.OPA != nil {
		return "", errBundlePolicy
	}
	return cfg.Policy.Dir, nil
}
