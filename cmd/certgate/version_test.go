package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/buildinfo"
)

func TestVersionAndDashDashVersionPrintTheBuild(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(args...)
			if code != 0 || !strings.HasPrefix(stdout, "certgate ") || !strings.Contains(stdout, "  go        "+runtime.Version()+"\n") {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
		})
	}
	if code, _, _ := runCLI("version", "extra"); code != 2 {
		t.Errorf("version with an argument: exit %d, want 2", code)
	}
}

func TestPrintVersion(t *testing.T) {
	tests := []struct {
		name string
		info buildinfo.Info
		want string
	}{
		{"a build from a modified checkout",
			buildinfo.Info{Version: "(devel)", Revision: "2b738da9f1ab", Time: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Modified: true, GoVersion: "go1.26.0"},
			"certgate (devel)\n  revision  2b738da9f1ab (modified)\n  time      2026-11-30T12:00:00Z\n  go        go1.26.0\n"},
		{"a build without VCS data",
			buildinfo.Info{Version: "v1.2.0", GoVersion: "go1.26.0"},
			"certgate v1.2.0\n  revision  -\n  time      -\n  go        go1.26.0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printVersion(&b, tt.info)
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestStatusReportsTheSameBuildAsVersion(t *testing.T) {
	if got, want := version(), buildinfo.Read().String(); got != want || !strings.Contains(got, runtime.Version()) {
		t.Errorf("version() = %q, want %q with the Go version", got, want)
	}
}
