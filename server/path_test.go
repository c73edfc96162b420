package server

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		name, target, path, query string
	}{
		{"a plain path is kept", "/api/v1/vm", "/api/v1/vm", ""},
		{"the query is split off", "/api/v1/vm?id=1&x=2", "/api/v1/vm", "id=1&x=2"},
		{"dot-dot resolves to the sibling", "/api/v1/vm/../node", "/api/v1/node", ""},
		{"a single dot is dropped", "/api/./v1/vm", "/api/v1/vm", ""},
		{"repeated slashes merge", "//api//v1///vm", "/api/v1/vm", ""},
		{"encoded dots are decoded then resolved", "/api/v1/vm/%2e%2e/node", "/api/v1/node", ""},
		{"encoded unreserved letters are decoded", "/api/v1/v%6D", "/api/v1/vm", ""},
		{"a double-encoded dot stays literal", "/api/v1/%252e%252e/vm", "/api/v1/%252e%252e/vm", ""},
		{"other escapes keep their meaning with upper-case hex", "/files/a%2cb%20c", "/files/a%2Cb%20c", ""},
		{"a trailing slash is kept", "/api/v1/vm/", "/api/v1/vm/", ""},
		{"a trailing dot segment leaves a slash", "/api/v1/vm/.", "/api/v1/vm/", ""},
		{"the root stays the root", "/", "/", ""},
		{"a plus sign is literal", "/a+b", "/a+b", ""},
		{"a question mark inside the query is the query's", "/a?b?c", "/a", "b?c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePath(tt.target)
			if err != nil {
				t.Fatalf("NormalizePath(%q): %v", tt.target, err)
			}
			if got.Path != tt.path || got.RawQuery != tt.query {
				t.Errorf("NormalizePath(%q) = path %q query %q, want %q %q", tt.target, got.Path, got.RawQuery, tt.path, tt.query)
			}
		})
	}
}

func TestNormalizePathRefusesAmbiguousTargets(t *testing.T) {
	for name, target := range map[string]string{
		"an encoded slash":            "/api/v1%2Fvm",
		"an encoded lower-case slash": "/api/v1%2fvm",
		"an encoded backslash":        "/api%5Cv1",
		"a raw backslash":             "/api\\v1",
		"an encoded NUL":              "/api/v1/vm%00",
		"a raw control byte":          "/api/v1/vm\x01",
		"a bad escape":                "/api/%zz",
		"a truncated escape":          "/api/%4",
		"dot-dot above the root":      "/../etc/passwd",
		"encoded dot-dot above root":  "/%2e%2e/x",
		"an absolute-form URI":        "http://evil/api/v1/vm",
		"an empty target":             "",
		"an overlong path":            "/" + strings.Repeat("a", maxPathBytes),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NormalizePath(target)
			if !errors.Is(err, ErrAmbiguousPath) {
				t.Fatalf("NormalizePath(%q) error = %v, want ErrAmbiguousPath", target, err)
			}
		})
	}
}
