package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/certgate/certgate/buildinfo"
)

// runVersion prints what this binary was built from. Exit 0, or 2 for
// arguments.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "version", "  certgate version\n  certgate --version\n", stderr)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "certgate version: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	printVersion(stdout, buildinfo.Read())
	return exitOK
}

func printVersion(w io.Writer, bi buildinfo.Info) {
	fmt.Fprintf(w, "certgate %s\n", bi.Version)
	revision, at := orDash(bi.Revision), "-"
	if bi.Modified {
		revision += " (modified)"
	}
	if !bi.Time.IsZero() {
		at = bi.Time.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "  revision  %s\n", revision)
	fmt.Fprintf(w, "  time      %s\n", at)
	fmt.Fprintf(w, "  go        %s\n", bi.GoVersion)
}

// version is what `certgate status` reports for the serving process: the
// same build information as `certgate version`, on one line.
func version() string { return buildinfo.Read().String() }
