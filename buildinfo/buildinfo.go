package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Devel is the version of a binary built from a checkout rather than
// installed as a tagged module (what the Go toolchain itself reports).
const Devel = "(devel)"

// Info is what a binary knows about its own build.
type Info struct {
	// Version is the main module's version, Devel when unknown.
	Version string
	// Revision is the VCS commit the binary was built from, empty when the
	// build had no VCS information (go test, -buildvcs=false).
	Revision string
	// Time is the commit time of Revision, zero when unknown.
	Time time.Time
	// Modified is true when the checkout had uncommitted changes.
	Modified bool
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Read returns the build information of the running binary.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Devel, GoVersion: runtime.Version()}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo picks the fields of Info out of what debug.ReadBuildInfo
// returns.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = Devel
	}
	if info.GoVersion == "" {
		info.GoVersion = runtime.Version()
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time, _ = time.Parse(time.RFC3339, s.Value) // zero when malformed: the time is informational
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one-line form `certgate status` shows:
// "v1.2.0 (revision 0123abcd…, 2026-11-30T12:00:00Z, modified, go1.26.0)".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	b.WriteString(" (")
	if i.Revision != "" {
		b.WriteString("revision " + i.Revision + ", ")
	}
	if !i.Time.IsZero() {
		b.WriteString(i.Time.UTC().Format(time.RFC3339) + ", ")
	}
	if i.Modified {
		b.WriteString("modified, ")
	}
	b.WriteString(i.GoVersion + ")")
	return b.String()
}
