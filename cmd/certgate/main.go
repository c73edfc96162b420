// Command certgate is the certgate binary: the authorization service and
// its tools. Each subcommand wires flags and configuration to the packages
// that do the work.
package main

import (
	"context"
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

// command is one subcommand: it runs with its arguments, or (subcommands
// set) holds others.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// subcommands and long describe a command that only holds others.
	subcommands func() []command
	long        string
	// group is the heading the command is listed under in the help.
	group string
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the authorization service from a config file", run: runServe, group: "run"},
		{name: "dev", summary: "create a demo PKI in .certgate-dev/ and serve the shipped policy", run: runDev, group: "run"},
		{name: "verify", summary: "verify a certificate chain against CAs and CRLs", run: runVerify, group: "tools"},
		{name: "decide", summary: "print the decision for one certificate, method and path", run: runDecide, group: "tools"},
		{name: "check", summary: "ask a running certgate about one request, as Envoy or NGINX would", run: runCheck, group: "admin"},
		{name: "status", summary: "show a running certgate's snapshot, CAs, CRLs and last reload (admin API)", run: runStatus, group: "admin"},
		{name: "reload", summary: "make a running certgate reload its files now (admin API)", run: runReload, group: "admin"},
		{name: "explain", summary: "show why a running certgate allows or denies a request from a certificate (admin API)", run: runExplain, group: "admin"},
		{name: "permissions", summary: "list every permission of a running certgate's policy with routes and holders (admin API)", run: runPermissions, group: "admin"},
		{name: "pki", summary: "run your own CA: init, issue, sign, revoke, crl, export, inspect", subcommands: pkiCommands, long: pkiLong, group: "tools"},
		{name: "bench", summary: "load certgate with a realistic request mix and report throughput and latency", run: runBench, group: "tools"},
		{name: "version", summary: "print the version, VCS revision and time, and Go version of this binary (also --version)", run: runVersion},
	}
}

// run runs the command line args (without the program name) and returns
// the exit code: see cli.go.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return execute(ctx, args, stdout, stderr)
}
