package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/certgate/certgate/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// commandPaths are the paths of every command of the tree below cmd, such
// as ["pki", "sign"].
func commandPaths(cmd *cobra.Command, prefix []string) [][]string {
	var out [][]string
	for _, sub := range cmd.Commands() {
		if sub.Hidden {
			continue
		}
		path := append(append([]string{}, prefix...), sub.Name())
		out = append(out, path)
		out = append(out, commandPaths(sub, path)...)
	}
	return out
}

// TestHelpCommandIsTheCommandsHelp: `certgate help X` prints what
// `certgate X --help` prints, with the same exit code, for every command
// and subcommand, and shows its usage; an unknown one is the same usage
// error.
func TestHelpCommandIsTheCommandsHelp(t *testing.T) {
	topics := commandPaths(newRootCommand(io.Discard, io.Discard), nil)
	if len(topics) < len(commands())+len(pkiCommands()) {
		t.Fatalf("the command tree has %d commands, fewer than the tables: %q", len(topics), topics)
	}
	topics = append(topics, []string{"frobnicate"})
	for _, topic := range topics {
		name := strings.Join(topic, " ")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"help"}, topic...)...)
			wantCode, wantStdout, wantStderr := runCLI(append(append([]string{}, topic...), "--help")...)
			if code != wantCode || stdout != wantStdout || stderr != wantStderr {
				t.Errorf("help %s: exit %d\n%s%s\nwant exit %d\n%s%s", name, code, stdout, stderr, wantCode, wantStdout, wantStderr)
			}
			if topic[0] == "frobnicate" {
				if code != exitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
					t.Errorf("help frobnicate: exit %d\n%s", code, stderr)
				}
				return
			}
			if code != exitOK || !strings.Contains(stdout, "Usage:\n  certgate "+name) || !strings.Contains(stdout, "-h, --help") {
				t.Errorf("help %s: exit %d, does not show the command's usage and flags:\n%s%s", name, code, stdout, stderr)
			}
		})
	}
}

// TestHelpListsEveryFlagOfTheCommand: the help cobra prints names every
// flag the command defines, with its usage.
func TestHelpListsEveryFlagOfTheCommand(t *testing.T) {
	all := commands()
	for _, c := range pkiCommands() {
		c.name = "pki " + c.name
		all = append(all, c)
	}
	for _, c := range all {
		if c.run == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			_, stdout, _ := runCLI(append(strings.Fields(c.name), "--help")...)
			p := probe(c)
			p.fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(stdout, "--"+f.Name+" ") {
					t.Errorf("help of %s does not list --%s:\n%s", c.name, f.Name, stdout)
				}
			})
			if p.examples != "" && !strings.Contains(stdout, "Examples:\n"+strings.TrimRight(p.examples, "\n")) {
				t.Errorf("help of %s does not show its examples:\n%s", c.name, stdout)
			}
		})
	}
}

// TestNoArgumentsShowsTheCommands: `certgate` alone and `certgate pki`
// alone print their help on stderr and exit 2; the top-level help is the
// golden file testdata/help/certgate.txt.
func TestNoArgumentsShowsTheCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"pki"}} {
		name := strings.Join(append([]string{"certgate"}, args...), "-")
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(args...)
			if code != exitUsage || stdout != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and the help on stderr", code, stdout)
			}
			_, help, _ := runCLI(append(args, "--help")...)
			if stderr != help {
				t.Errorf("stderr is not the help:\n%s\nwant\n%s", stderr, help)
			}
			golden(t, filepath.Join("testdata", "help", name+".txt"), help)
		})
	}
}

// golden compares got with the file, or rewrites it with -update.
// The admin socket's default, which depends on the user, reads $ADMIN.
func golden(t *testing.T, file, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, config.Default().Admin.Listen, "$ADMIN")
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/certgate -run %s -update)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./cmd/certgate -run '%s' -update rewrites it):\n%s", file, t.Name(), diff)
	}
}
