package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagsMayFollowArguments: a flag means the same before or after the
// file it goes with, and -- ends the flags.
func TestFlagsMayFollowArguments(t *testing.T) {
	d := demo(t)
	ca, viewer := d.Path("ca.pem"), d.ClientCert("viewer")
	cfg := filepath.Join(d.Dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("trust:\n  ca_files: ["+ca+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"verify CERT --ca", []string{"verify", viewer, "--ca", ca}, exitOK, `"user": "viewer"`},
		{"verify --ca between the flags and the file", []string{"verify", "--purpose", "client", viewer, "--ca=" + ca}, exitOK, `"user": "viewer"`},
		{"verify CERT --crl revokes", []string{"verify", d.ClientCert("revoked"), "--ca", ca, "--crl", d.Path("crl.pem")}, exitFail, "revoked"},
		{"pki inspect FILE --json", []string{"pki", "inspect", viewer, "--json"}, exitOK, `"file": "` + viewer + `"`},
		{"pki inspect FILE --config verifies", []string{"pki", "inspect", d.ClientCert("stranger"), "--config", cfg, "--json"}, exitFail, `"verified": false`},
		{"decide with --path last", []string{"decide", "--cert", viewer, "--ca", ca, "--method", "GET", "--path", "/api/v1/vm"}, exitOK, `"allow": true`},
		{"decide with --cert last", []string{"decide", "--path", "/api/v1/vm", "--ca", ca, "--cert", viewer}, exitOK, `"allow": true`},
		{"after -- a flag is a file name", []string{"verify", "--ca", ca, "--", "--json"}, exitUsage, "--json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.contains) {
				t.Errorf("exit %d, want %d; output should contain %q\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, stdout, stderr)
			}
		})
	}
}

// TestCheckTakesFlagsInAnyOrder: check has no file argument; its flags
// work in any order and a stray argument is refused.
func TestCheckTakesFlagsInAnyOrder(t *testing.T) {
	s := startDev(t)
	code, stdout, stderr := runCLI("check", "--path", "/api/v1/vm", "--json", "--cert", s.client("viewer"), "--admin", s.admin, "--grpc", s.grpc)
	if code != exitOK || !strings.Contains(stdout, `"allow": true`) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, _, stderr = runCLI("check", s.client("viewer"), "--path", "/api/v1/vm", "--grpc", s.grpc)
	if code != exitUsage || !strings.Contains(stderr, "unexpected argument") {
		t.Errorf("check with a file argument: exit %d, stderr %s", code, stderr)
	}
}

// TestUnknownCommandsAndFlagsAreUsageErrors: exit 2, a message on stderr
// and, when one is close, what the user may have meant.
func TestUnknownCommandsAndFlagsAreUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"an unknown command", []string{"frobnicate"}, []string{`certgate: unknown command "frobnicate" for "certgate"`, "Run 'certgate --help' for usage."}},
		{"a misspelt command", []string{"verfy"}, []string{`unknown command "verfy"`, "Did you mean this?\n\tverify\n"}},
		{"an unknown pki command", []string{"pki", "isue"}, []string{`certgate pki: unknown command "isue" for "certgate pki"`, "\tissue\n"}},
		{"help of an unknown pki command", []string{"help", "pki", "frob"}, []string{`unknown command "frob" for "certgate pki"`}},
		{"an unknown flag", []string{"verify", "--cx", "x.pem"}, []string{"certgate verify: unknown flag: --cx", "Did you mean this?\n\t--ca\n", "Run 'certgate verify --help' for usage."}},
		{"a misspelt flag", []string{"status", "--jsno"}, []string{"certgate status: unknown flag: --jsno", "\t--json\n"}},
		{"a long flag with one dash", []string{"verify", "-ca", "ca.pem", "x.pem"}, []string{"unknown shorthand flag: 'c' in -ca", "Did you mean this?\n\t--ca\n"}},
		{"-version", []string{"-version"}, []string{"Did you mean this?\n\t--version\n"}},
		{"a flag of another command", []string{"pki", "inspect", "--cn", "x"}, []string{"certgate pki inspect: unknown flag: --cn"}},
		{"a bad flag value", []string{"verify", "--max-chain-depth", "two", "x.pem"}, []string{`invalid argument "two" for "--max-chain-depth"`}},
		{"a flag without its value", []string{"pki", "inspect", "x.pem", "--config"}, []string{"flag needs an argument: --config"}},
		{"a bad duration", []string{"pki", "crl", "--check", "--min", "soon"}, []string{`"--min"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing on stdout", code, stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestCompletionScriptsGenerate: `certgate completion SHELL` prints a
// script for each shell, bash accepts the bash one, and completing a flag
// lists the command's flags.
func TestCompletionScriptsGenerate(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			code, stdout, stderr := runCLI("completion", shell)
			if code != exitOK || !strings.Contains(stdout, "certgate") || len(stdout) < 1000 {
				t.Fatalf("exit %d, %d bytes\nstderr: %s", code, len(stdout), stderr)
			}
			if shell != "bash" {
				return
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Fatal("bash is not installed; it is needed to check the bash completion script")
			}
			script := filepath.Join(t.TempDir(), "certgate.bash")
			if err := os.WriteFile(script, []byte(stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
		})
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "verify", "--c"}, []string{"--ca\t", "--crl\t", "--crl-mode\t"}},
		{[]string{"__complete", "pki", "i"}, []string{"init\t", "inspect\t", "issue\t"}},
		{[]string{"__complete", "help", "pki", "s"}, []string{"sign\t"}},
		{[]string{"__complete", "st"}, []string{"status\t"}},
		{[]string{"__complete", "verify", "--purpose", ""}, []string{"client\n", "server\n", "any\n"}},
		{[]string{"__complete", "serve", "--crl-mode", ""}, []string{"full_chain\n", "leaf\n", "off\n"}},
		{[]string{"__complete", "pki", "revoke", "--reason", "key"}, []string{"keyCompromise\n"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d\nstderr: %s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("completions do not contain %q:\n%s", w, stdout)
				}
			}
		})
	}
}
