package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecisionLogPathKeepsQueryKeysNotValues(t *testing.T) {
	long := "/api/v1/vm?" + strings.Repeat("k=v&", 300)
	tests := []struct {
		name, target string
		values       bool
		want         string
	}{
		{"a path without a query is logged as it is", "/api/v1/vm", false, "/api/v1/vm"},
		{"values are left out, keys kept in order", "/api/v1/vm?token=s3cr3t&page=2", false, "/api/v1/vm?token&page"},
		{"a key without a value is a key", "/api/v1/vm?verbose&token=s3cr3t", false, "/api/v1/vm?verbose&token"},
		{"a repeated key is repeated", "/a?sig=1&sig=2", false, "/a?sig&sig"},
		{"empty components and empty keys show nothing", "/a?&=s3cr3t&&x=", false, "/a?x"},
		{"an empty query stays a bare ?", "/a?", false, "/a?"},
		{"escaped keys stay escaped and escaped values are left out", "/a?t%6Fken=%73ecret", false, "/a?t%6Fken"},
		{"a second ? belongs to the value", "/a?next=/b?token=s3cr3t", false, "/a?next"},
		{"a long key is cut", "/a?" + strings.Repeat("k", 100) + "=s3cr3t", false, "/a?" + strings.Repeat("k", 64) + "…"},
		{"a long query is cut to 512 bytes", long, false, ("/api/v1/vm?" + strings.Repeat("k&", 300))[:512] + "…"},
		{"with query_values the target is logged as sent", "/api/v1/vm?token=s3cr3t&page=2", true, "/api/v1/vm?token=s3cr3t&page=2"},
		{"with query_values a long target is cut", long, true, long[:512] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines bytes.Buffer
			c := NewChecker(nil, Options{Logger: slog.New(slog.DiscardHandler), DecisionLog: NewDecisionLog(&lines, 1, QueryValues(tt.values))})
			c.Check(context.Background(), &Request{Method: "GET", Target: tt.target, Adapter: "grpc"})
			var line struct {
				Path string `json:"path"`
			}
			if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
				t.Fatalf("decision line %q: %v", lines.String(), err)
			}
			if line.Path != tt.want {
				t.Errorf("path = %q, want %q", line.Path, tt.want)
			}
			if !tt.values && strings.Contains(lines.String(), "s3cr3t") {
				t.Errorf("a query value reached the decision log: %s", lines.String())
			}
		})
	}
}

// FuzzLoggedTarget: whatever the target, the logged path is bounded, and
// without query values it holds no "=" after the "?", so no value.
func FuzzLoggedTarget(f *testing.F) {
	for _, s := range []string{"/api/v1/vm?token=s3cr3t&page=2", "/a?", "/a?&&=x&k", "?x=1", "/a?b=c?d=e", strings.Repeat("/a", 300) + "?k=v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		for _, values := range []bool{false, true} {
			got := loggedTarget(target, values)
			if len(got) > maxLoggedTargetBytes+len("…") {
				t.Fatalf("loggedTarget(%q, %v) is %d bytes", target, values, len(got))
			}
			if values {
				continue
			}
			path, query, _ := strings.Cut(target, "?")
			if _, logged, ok := strings.Cut(got, "?"); ok && len(path) < maxLoggedTargetBytes && strings.Contains(logged, "=") {
				t.Fatalf("loggedTarget(%q) = %q keeps a value of %q", target, got, query)
			}
		}
	})
}

func TestDecisionLogCutsLongNames(t *testing.T) {
	long := strings.Repeat("g", 300)
	many := make([]string, 100)
	for i := range many {
		many[i] = "g"
	}
	for _, tt := range []struct {
		name  string
		names []string
		want  []string
	}{
		{"short names are kept", []string{"ci", "viewers"}, []string{"ci", "viewers"}},
		{"a long name is cut", []string{"ci", long}, []string{"ci", long[:256] + "…"}},
		{"past 64 names the rest is one …", many, append(append([]string{}, many[:64]...), "…")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, loggedNames(tt.names)); diff != "" {
				t.Errorf("loggedNames (-want +got):\n%s", diff)
			}
		})
	}
}
