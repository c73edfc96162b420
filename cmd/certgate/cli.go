package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certgate/certgate/buildinfo"
)

// The command line is a cobra tree (help, `help X`, completion, flags
// anywhere, suggestions) over commands that define their flags with Go's
// flag package: cobra parses with each command's flags, and the command
// then runs with those flags in canonical order (--name=value... -- ARGS).

// exitCode is the error a command returns to end the process with a code
// other than 0 after it has said why.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// usageError is a command line cobra could not parse: an unknown command
// or flag, or a bad flag value. It exits 2.
type usageError struct {
	cmd *cobra.Command
	err error
	// hint follows the error, such as the flags the user may have meant.
	hint string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// flagProbe is the stderr a command is run with to read its flags without
// running it: newFlagSet records the flag set, synopsis and examples, and
// parseFlags returns before the command does anything else.
type flagProbe struct {
	fs                 *flag.FlagSet
	synopsis, examples string
}

func (*flagProbe) Write(p []byte) (int, error) { return len(p), nil }

// probe reads the flags, synopsis and examples of a command.
func probe(c command) *flagProbe {
	p := &flagProbe{}
	c.run(context.Background(), nil, io.Discard, p)
	if p.fs == nil {
		panic("certgate: command " + c.name + " defines no flag set with newFlagSet before parseFlags")
	}
	return p
}

// recordedValue passes a flag's value on and keeps it, as --name=value, for
// the command's own parse. Its type is the placeholder of the flag's help
// (`file` in "CA certificate `file`"), so that the usage itself, which
// completion shows, holds no backquotes.
type recordedValue struct {
	pflag.Value
	name, typ string
	args      *[]string
}

func (v recordedValue) Type() string { return v.typ }

func (v recordedValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		return err
	}
	*v.args = append(*v.args, "--"+v.name+"="+s)
	return nil
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	bi := buildinfo.Read()
	var versionText strings.Builder
	printVersion(&versionText, bi)
	root := &cobra.Command{
		Use:   "certgate",
		Short: "mTLS client certificate authorization for Envoy (ext_authz) and NGINX (auth_request)",
		Long: "certgate authorizes mTLS client certificates for Envoy (ext_authz v3 gRPC) and NGINX (auth_request):\n" +
			"it verifies the chain against your CAs and CRLs and asks a Rego policy what the identity may do.",
		Version:                    bi.Version,
		SilenceErrors:              true,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
	}
	root.AddGroup(
		&cobra.Group{ID: "run", Title: "Run certgate:"},
		&cobra.Group{ID: "admin", Title: "Ask a running certgate (admin API):"},
		&cobra.Group{ID: "tools", Title: "Tools that need no running certgate:"},
	)
	root.SetVersionTemplate(strings.ReplaceAll(versionText.String(), "{{", "{{`{{`}}"))
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	for _, c := range commands() {
		cmd := newCommand(c, stdout, stderr)
		cmd.GroupID = c.group
		root.AddCommand(cmd)
	}
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "show the help of any command, such as 'certgate help pki sign'",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			found, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, sub := range found.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			found, rest, err := root.Find(args)
			if err != nil {
				return &usageError{cmd: root, err: err}
			}
			if len(rest) > 0 {
				return &usageError{cmd: found, err: unknownCommand(found, rest[0])}
			}
			return found.Help()
		},
	})
	root.InitDefaultVersionFlag()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	initHelpFlags(root)
	return root
}

// initHelpFlags adds -h and --help to every command now rather than when
// it runs, so that `help X` lists them as `X --help` does.
func initHelpFlags(cmd *cobra.Command) {
	cmd.InitDefaultHelpFlag()
	for _, sub := range cmd.Commands() {
		initHelpFlags(sub)
	}
}

// newCommand is the cobra command of c: a parent of its subcommands, or a
// command with c's flags.
func newCommand(c command, stdout, stderr io.Writer) *cobra.Command {
	if c.subcommands != nil {
		cmd := &cobra.Command{Use: c.name, Short: c.summary, Long: c.long, RunE: parentRun, Args: cobra.ArbitraryArgs,
			DisableFlagsInUseLine: true, SuggestionsMinimumDistance: 2}
		for _, sub := range c.subcommands() {
			cmd.AddCommand(newCommand(sub, stdout, stderr))
		}
		return cmd
	}
	p := probe(c)
	// The synopsis is "NAME PARAMS", or "pki NAME PARAMS".
	params := strings.TrimPrefix(strings.TrimPrefix(p.synopsis, "pki "), c.name)
	cmd := &cobra.Command{
		Use:                   c.name + params,
		Short:                 c.summary,
		Long:                  strings.ToUpper(c.summary[:1]) + c.summary[1:] + ".",
		Example:               strings.TrimRight(p.examples, "\n"),
		DisableFlagsInUseLine: true,
	}
	var parsed []string
	p.fs.VisitAll(func(gf *flag.Flag) {
		pf := pflag.PFlagFromGoFlag(gf)
		typ, usage := pflag.UnquoteUsage(pf)
		if typ == "" {
			typ = pf.Value.Type() // bool
		}
		pf.Value, pf.Usage = recordedValue{Value: pf.Value, name: gf.Name, typ: typ, args: &parsed}, usage
		cmd.Flags().AddFlag(pf)
	})
	registerFlagValues(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		argv := append(append(slices.Clone(parsed), "--"), args...)
		if code := c.run(cmd.Context(), argv, stdout, stderr); code != exitOK {
			return exitCode(code)
		}
		return nil
	}
	return cmd
}

// parentRun runs a command that only holds others: with no argument it
// shows its help on stderr and exits 2; with one it is an unknown command.
func parentRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{cmd: cmd, err: unknownCommand(cmd, args[0])}
	}
	helpOnStderr(cmd)
	return exitCode(exitUsage)
}

func helpOnStderr(cmd *cobra.Command) {
	cmd.SetOut(cmd.ErrOrStderr())
	_ = cmd.Help()
}

func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return errors.New(msg)
}

// flagError adds the flags the user may have meant to an unknown flag,
// also to a long flag given with one dash.
func flagError(cmd *cobra.Command, err error) error {
	usage := &usageError{cmd: cmd, err: err}
	var unknown *pflag.NotExistError
	if errors.As(err, &unknown) {
		name := unknown.GetSpecifiedName()
		if short := unknown.GetSpecifiedShortnames(); len(short) > 1 {
			// -ca, as Go's flag package took it, is -c -a to pflag.
			name = short
		}
		if s := suggestFlags(cmd, name); len(s) > 0 {
			usage.hint = "Did you mean this?\n\t--" + strings.Join(s, "\n\t--") + "\n"
		}
	}
	return usage
}

// suggestFlags are the flags of cmd that start with name or are one edit
// (two for a name longer than three letters) from it.
func suggestFlags(cmd *cobra.Command, name string) []string {
	var out []string
	if name == "" {
		return nil
	}
	maxEdits := 1
	if len(name) > 3 {
		maxEdits = 2
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if levenshtein.ComputeDistance(name, f.Name) <= maxEdits || strings.HasPrefix(f.Name, name) {
			out = append(out, f.Name)
		}
	})
	return out
}

// execute runs the command line args and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	if len(args) == 0 {
		// certgate with no command is a usage error that shows the help.
		helpOnStderr(root)
		return exitUsage
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &usage):
		cmd = usage.cmd
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), err)
	if usage != nil && usage.hint != "" {
		fmt.Fprintf(stderr, "\n%s\n", usage.hint)
	}
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	return exitUsage
}
