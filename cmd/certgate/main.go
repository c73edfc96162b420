// Command certgate is the certgate binary: the authorization service and
// its tools. Each subcommand wires flags and configuration to the packages
// that do the work.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	exitOK    = 0
	exitFail  = 1 // deny, invalid chain, serving error
	exitUsage = 2 // bad flags or configuration
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the authorization service from a config file", runServe},
		{"dev", "create a demo PKI in .certgate-dev/ and serve the shipped policy", runDev},
		{"verify", "verify a certificate chain against CAs and CRLs", runVerify},
		{"decide", "print the decision for one certificate, method and path", runDecide},
		{"check", "ask a running certgate about one request, as Envoy or NGINX would", runCheck},
		{"status", "show a running certgate's snapshot, CAs, CRLs and last reload (admin API)", runStatus},
		{"reload", "make a running certgate reload its files now (admin API)", runReload},
		{"explain", "show why a running certgate allows or denies a request from a certificate (admin API)", runExplain},
		{"permissions", "list every permission of a running certgate's policy with routes and holders (admin API)", runPermissions},
		{"pki", "run your own CA: init, issue, sign, revoke, crl, export, inspect", runPKI},
		{"bench", "load certgate with a realistic request mix and report throughput and latency", runBench},
		{"version", "print the version, VCS revision and time, and Go version of this binary (also --version)", runVersion},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 && args[0] == "help" {
		// certgate help X [Y] is certgate X [Y] --help.
		return run(ctx, append(append([]string{}, args[1:]...), "--help"), stdout, stderr)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" {
		return runVersion(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "certgate: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: certgate <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'certgate <command> -h' or 'certgate help <command>' for a command's flags.")
}
