package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
)

// oddStrings are strings whose escaping differs between careless encoders:
// quotes, backslashes, every control byte, DEL, HTML characters, invalid
// UTF-8, U+2028/U+2029 and a literal U+FFFD.
var oddStrings = []string{
	"", "plain", `a "quoted" name`, `back\slash`, "tab\tnew\nline\rreturn",
	"bell\a back\b form\f vtab\v nul\x00 esc\x1b unit\x1f del\x7f",
	"<script>&amp;</script>", "bad \xff byte", "cut \xe2\x82", "\xc0\xaf overlong",
	"line\u2028para\u2029sep", "real \ufffd", "CN=Zoë,O=Åland", "emoji 🙂",
}

// timeField is the line's first field, which the two encoders take from
// different clocks.
var timeField = regexp.MustCompile(`^\{"time":"([^"]*)",`)

// TestDecisionLineIsWhatSlogWrote holds the decision log's encoder to the
// lines slog's JSON handler wrote before it: the same fields, names, types
// and order, and strings escaped byte for byte alike (groups as
// encoding/json escapes them), for every shape of decision.
func TestDecisionLineIsWhatSlogWrote(t *testing.T) {
	id := &identity.Identity{User: "jenkins", Groups: []string{"ci", "builders"}, Serial: "1f2e3d", FingerprintSHA256: "00ff"}
	odd := &identity.Identity{User: strings.Join(oddStrings, "|"), Groups: oddStrings, Serial: "\xff", FingerprintSHA256: "ab"}
	long := &identity.Identity{User: strings.Repeat("u", 300), Groups: make([]string, 70), Serial: "01"}
	get := &Request{Method: "GET", Target: "/api/v1/vm?token=secret&page=2", Adapter: "grpc"}
	tests := []struct {
		name    string
		req     *Request
		res     Result
		snap    *Snapshot
		took    time.Duration
		dropped uint64
		values  bool
	}{
		{"an allow", get, Result{Status: 200, Allow: true, Reason: "granted", Cause: "granted", Permission: "list_vms", Identity: id, DecisionID: "abc-1"}, &Snapshot{Revision: 3}, 1234 * time.Microsecond, 0, false},
		{"an allow with its query's values", get, Result{Status: 200, Allow: true, Identity: id}, &Snapshot{Revision: 1}, 0, 0, true},
		{"groups and a user with odd bytes", &Request{Method: "GET\x00\"", Target: "/a\xffb\n", Adapter: "http"}, Result{Status: 403, Reason: strings.Join(oddStrings, ";"), Cause: "missing_permission", Permission: "p\"", Identity: odd}, &Snapshot{Revision: 2}, 7 * time.Millisecond, 4, false},
		{"no groups", get, Result{Status: 403, Identity: &identity.Identity{User: "x"}}, nil, 0, 0, false},
		{"empty groups", get, Result{Status: 403, Identity: &identity.Identity{User: "x", Groups: []string{}}}, nil, 0, 0, false},
		{"long names and too many groups", get, Result{Status: 200, Allow: true, Identity: long, StaleCRL: true}, &Snapshot{}, time.Second, 0, false},
		{"a revoked certificate's claim", get, Result{Status: 401, Reason: "chain: revoked \"CN=x\"", Cause: "revoked", Claimed: &identity.Identity{User: "mallory\t", Serial: strings.Repeat("9", 200), FingerprintSHA256: "cd"}}, &Snapshot{Revision: 9}, 3 * time.Microsecond, 0, false},
		{"no certificate, no snapshot, an error", &Request{}, Result{Status: 500, Reason: "no policy snapshot loaded", Cause: CauseNoSnapshot}, nil, 0, 1 << 40, false},
		{"a long duration", get, Result{Status: 400}, nil, 90 * time.Minute, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fast, slow bytes.Buffer
			NewDecisionLog(&fast, 1, QueryValues(tt.values)).write(context.Background(), tt.snap, tt.req, &tt.res, "envoy", tt.took, tt.dropped)
			old := newDecisionLog(slog.New(slog.NewJSONHandler(&slow, nil)), 1, []DecisionLogOption{QueryValues(tt.values)})
			old.write(context.Background(), tt.snap, tt.req, &tt.res, "envoy", tt.took, tt.dropped)
			got, want := fast.String(), slow.String()
			m := timeField.FindStringSubmatch(got)
			if m == nil {
				t.Fatalf("line %q does not start with a time", got)
			}
			if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
				t.Errorf("time %q: %v", m[1], err)
			}
			got = timeField.ReplaceAllString(got, `{"time":"T",`)
			want = timeField.ReplaceAllString(want, `{"time":"T",`)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("line differs from slog's (-slog +new):\n%s", diff)
			}
		})
	}
}

// TestGroupsAreEscapedAsEncodingJSONDoes checks each odd string, and every
// single byte, against encoding/json without HTML escaping (the encoder
// slog.Any used for groups).
func TestGroupsAreEscapedAsEncodingJSONDoes(t *testing.T) {
	in := append([]string{}, oddStrings...)
	for c := range 256 {
		in = append(in, string([]byte{'<', byte(c), '>'}))
	}
	for _, s := range in {
		if got, want := string(appendJSONStrings(nil, []string{s})), marshalNoHTML(t, []string{s}); got != want {
			t.Errorf("appendJSONStrings(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestDurationsAreFormattedAsEncodingJSONDoes covers the float formats
// json.Marshal switches between.
func TestDurationsAreFormattedAsEncodingJSONDoes(t *testing.T) {
	for _, f := range []float64{0, 0.001, 1.234, 1000, 5400000, 1e-7, 1.5e-9, 1e20, 1e21, 123456789012345678901234.0, math.MaxFloat64, -0.25} {
		if got, want := string(appendJSONFloat(nil, f)), marshalNoHTML(t, f); got != want {
			t.Errorf("appendJSONFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func marshalNoHTML(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
