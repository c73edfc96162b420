package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

const statusExamples = `  certgate status                         # .certgate-dev/admin.sock under certgate dev
  certgate status --admin unix:/run/certgate/admin.sock
  certgate status --config /etc/certgate/config.yaml --json
`

const reloadExamples = `  certgate reload
  certgate reload --admin 127.0.0.1:9193 --admin-cert admin.pem --admin-key admin-key.pem --admin-ca ca.pem
`

const permissionsExamples = `  certgate permissions
  certgate permissions --json
`

// adminCommand is what every admin subcommand shares: flags, a connection
// and the printing of the answer.
type adminCommand struct {
	fs     *flag.FlagSet
	flags  adminFlags
	stdout io.Writer
	stderr io.Writer
}

func newAdminCommand(name, synopsis, examples string, stdout, stderr io.Writer) *adminCommand {
	c := &adminCommand{fs: newFlagSet(name, synopsis, examples, stderr), stdout: stdout, stderr: stderr}
	c.flags.register(c.fs)
	return c
}

// call dials the admin API and runs fn with a deadline; a failure is
// printed and mapped to exitFail.
func (c *adminCommand) call(ctx context.Context, fn func(ctx context.Context, client adminv1.AdminServiceClient) (proto.Message, error)) (proto.Message, int) {
	if c.fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "certgate %s: unexpected argument %s\n", c.fs.Name(), quote(c.fs.Arg(0)))
		return nil, exitUsage
	}
	target, err := c.flags.target()
	if err != nil {
		fmt.Fprintf(c.stderr, "certgate %s: %v\n", c.fs.Name(), err)
		return nil, exitUsage
	}
	client, closeConn, err := c.flags.dial()
	if err != nil {
		fmt.Fprintf(c.stderr, "certgate %s: %v\n", c.fs.Name(), err)
		return nil, exitFail
	}
	defer closeConn()
	ctx, cancel := context.WithTimeout(ctx, c.flags.timeout)
	defer cancel()
	resp, err := fn(ctx, client)
	if err != nil {
		fmt.Fprintf(c.stderr, "certgate %s: %s\n", c.fs.Name(), describeAdminError(target, err))
		return nil, exitFail
	}
	return resp, exitOK
}

// print writes m as JSON with --json, else with text.
func (c *adminCommand) print(m proto.Message, text func(io.Writer)) {
	if c.flags.json {
		out, err := adminJSON(m)
		if err != nil {
			fmt.Fprintf(c.stderr, "certgate %s: %v\n", c.fs.Name(), err)
			return
		}
		fmt.Fprintln(c.stdout, string(out))
		return
	}
	text(c.stdout)
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newAdminCommand("status", "status [--admin ADDR | --config FILE] [--json]", statusExamples, stdout, stderr)
	if code, ok := parseFlags(c.fs, args); !ok {
		return code
	}
	resp, code := c.call(ctx, func(ctx context.Context, client adminv1.AdminServiceClient) (proto.Message, error) {
		return client.GetStatus(ctx, &adminv1.GetStatusRequest{})
	})
	if resp == nil {
		return code
	}
	st := resp.(*adminv1.GetStatusResponse)
	c.print(st, func(w io.Writer) { printStatus(w, st) })
	return exitOK
}

func runReload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newAdminCommand("reload", "reload [--admin ADDR | --config FILE] [--json]", reloadExamples, stdout, stderr)
	if code, ok := parseFlags(c.fs, args); !ok {
		return code
	}
	resp, code := c.call(ctx, func(ctx context.Context, client adminv1.AdminServiceClient) (proto.Message, error) {
		return client.Reload(ctx, &adminv1.ReloadRequest{})
	})
	if resp == nil {
		return code
	}
	r := resp.(*adminv1.ReloadResponse)
	c.print(r, func(w io.Writer) { printReload(w, r.GetAttempt()) })
	if r.GetAttempt().GetResult() == adminv1.ReloadResult_RELOAD_RESULT_FAILURE {
		return exitFail
	}
	return exitOK
}

func runPermissions(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newAdminCommand("permissions", "permissions [--admin ADDR | --config FILE] [--json]", permissionsExamples, stdout, stderr)
	if code, ok := parseFlags(c.fs, args); !ok {
		return code
	}
	resp, code := c.call(ctx, func(ctx context.Context, client adminv1.AdminServiceClient) (proto.Message, error) {
		return client.ListPermissions(ctx, &adminv1.ListPermissionsRequest{})
	})
	if resp == nil {
		return code
	}
	list := resp.(*adminv1.ListPermissionsResponse)
	c.print(list, func(w io.Writer) { printPermissions(w, list) })
	return exitOK
}
