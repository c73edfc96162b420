package main

import (
	"github.com/spf13/cobra"

	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/trust"
)

// flagValues are the values shell completion offers for the flags, by
// name, that take one of a few words in every command that has them;
// other flags complete file names.
func flagValues() map[string][]string {
	families := identity.FamilyNames()
	return map[string][]string{
		"crl-mode":   {string(trust.CRLModeFullChain), string(trust.CRLModeLeaf), string(trust.CRLModeOff)},
		"profile":    {string(trust.ProfileCompatible), string(trust.ProfileStrict)},
		"purpose":    {"client", "server", "any"},
		"reason":     pki.ReasonNames(),
		"http-trust": families,
		"grpc-trust": families,
		"log-level":  {"debug", "info", "warn", "error"},
		"log-format": {"json", "text"},
	}
}

// registerFlagValues makes completion offer flagValues for cmd's flags.
func registerFlagValues(cmd *cobra.Command) {
	for name, values := range flagValues() {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
}
