package buildinfo_test

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/buildinfo"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want buildinfo.Info
		text string
	}{
		{"a build from a checkout has a revision, a time and a modified flag",
			debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs", Value: "git"},
				{Key: "vcs.revision", Value: "2b738da9f1ab"},
				{Key: "vcs.time", Value: "2026-11-30T12:00:00Z"},
				{Key: "vcs.modified", Value: "true"},
			}},
			buildinfo.Info{Version: "(devel)", Revision: "2b738da9f1ab", Time: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Modified: true, GoVersion: "go1.26.0"},
			"(devel) (revision 2b738da9f1ab, 2026-11-30T12:00:00Z, modified, go1.26.0)"},
		{"an installed module has its version and a clean checkout says nothing of modifications",
			debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"},
			}},
			buildinfo.Info{Version: "v1.2.0", Revision: "abc", GoVersion: "go1.26.1"},
			"v1.2.0 (revision abc, go1.26.1)"},
		{"a test binary without version or VCS data is a devel build of this Go",
			debug.BuildInfo{},
			buildinfo.Info{Version: buildinfo.Devel, GoVersion: runtime.Version()},
			"(devel) (" + runtime.Version() + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildinfo.FromBuildInfo(&tt.bi)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
			if s := got.String(); s != tt.text {
				t.Errorf("String() = %q, want %q", s, tt.text)
			}
		})
	}
}
