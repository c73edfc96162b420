package main

import (
	"strings"
	"testing"
)

// TestHelpCommandIsTheCommandsHelp: `certgate help X` prints what
// `certgate X --help` prints, with the same exit code, for every command and
// for pki's subcommands; an unknown one is the same usage error.
func TestHelpCommandIsTheCommandsHelp(t *testing.T) {
	var topics [][]string
	for _, c := range commands() {
		topics = append(topics, []string{c.name})
	}
	topics = append(topics, []string{"pki", "sign"}, []string{"pki", "crl"}, []string{"frobnicate"})
	for _, topic := range topics {
		name := strings.Join(topic, " ")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"help"}, topic...)...)
			wantCode, wantStdout, wantStderr := runCLI(append(append([]string{}, topic...), "--help")...)
			if code != wantCode || stdout != wantStdout || stderr != wantStderr {
				t.Errorf("help %s: exit %d\n%s%s\nwant exit %d\n%s%s", name, code, stdout, stderr, wantCode, wantStdout, wantStderr)
			}
			if topic[0] != "frobnicate" && !strings.Contains(stdout+stderr, "certgate "+name) {
				t.Errorf("help %s does not show the command's usage:\n%s%s", name, stdout, stderr)
			}
		})
	}
}
