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
		{"an encoded '#' is data inside its segment", "/api/v1/logs/a%23b", "/api/v1/logs/a%23b", ""},
		{"an encoded '#' keeps upper-case hex", "/api/v1/logs/%23%2e%2e", "/api/v1/logs/%23..", ""},
		{"an encoded '#' in the query is the query's", "/api/v1/vm?q=%23x", "/api/v1/vm", "q=%23x"},
		{"a ';' in the query is the query's", "/api/v1/vm?a=1;b=2", "/api/v1/vm", "a=1;b=2"},
		{"dots inside a segment are no dot-segment", "/api/v1/logs/a..b/...", "/api/v1/logs/a..b/...", ""},
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
	tests := []struct {
		name, target string
		// rule is a part of the error that names the rule hit.
		rule string
	}{
		{"an encoded slash", "/api/v1%2Fvm", `encoded "/"`},
		{"an encoded lower-case slash", "/api/v1%2fvm", `encoded "/"`},
		{"an encoded backslash", "/api%5Cv1", `encoded "\\"`},
		{"a raw backslash", "/api\\v1", "backslash"},
		{"an encoded NUL", "/api/v1/vm%00", "encoded control byte 0x00"},
		{"a raw control byte", "/api/v1/vm\x01", "control byte 0x01"},
		{"a bad escape", "/api/%zz", "bad percent-escape"},
		{"a truncated escape", "/api/%4", "bad percent-escape"},
		{"dot-dot above the root", "/../etc/passwd", "climbs above the root"},
		{"encoded dot-dot above root", "/%2e%2e/x", "climbs above the root"},
		{"an absolute-form URI", "http://evil/api/v1/vm", "does not start with /"},
		{"an empty target", "", "does not start with /"},
		{"an overlong path", "/" + strings.Repeat("a", maxPathBytes), "longer than"},

		// Class 1: '#' anywhere in the target.
		{"a '#' before dot-dot", "/api/v1/config#/../logs/x", "'#' at byte 14"},
		{"a '#' alone at the end", "/api/v1/vm#", "'#' at byte 10"},
		{"a '#' in the query", "/api/v1/vm?x=1#/../../logs", "'#' at byte 14"},
		{"a '#' right after the '?'", "/api/v1/vm?#", "'#' at byte 11"},
		{"a '#' as the whole path", "#/api/v1/vm", "'#' at byte 0"},
		{"a '#' in an overlong path is refused for its length", "/" + strings.Repeat("a", maxPathBytes) + "#", "longer than"},

		// Class 2: dot-segments behind ;parameters, then any ';'.
		{"dot-dot with empty parameters", "/api/v1/logs/..;/config", `dot-segment "..;"`},
		{"dot with empty parameters", "/api/v1/logs/.;/../../config", `dot-segment ".;"`},
		{"dot-dot with a session id", "/api/v1/logs/..;jsessionid=1/config", `dot-segment "..;jsessionid=1"`},
		{"encoded dot-dot with parameters", "/api/v1/logs/%2e%2e;/config", `dot-segment "..;"`},
		{"mixed-case encoded dots with parameters", "/api/v1/logs/.%2E;x/config", `dot-segment "..;x"`},
		{"upper-case encoded dot-dot with parameters", "/api/v1/logs/%2E%2E;x=1/config", `dot-segment "..;x=1"`},
		{"dot-dot before an encoded ';'", "/api/v1/logs/..%3B/config", `dot-segment "..%3B"`},
		{"dot-dot before a lower-case encoded ';'", "/api/v1/logs/..%3b/config", `dot-segment "..%3B"`},
		{"dot-dot with parameters as the last segment", "/api/v1/logs/x/..;", `dot-segment "..;"`},
		{"a ';' in a normal segment", "/api/v1/admin;x=1/config", `';' in segment "admin;x=1"`},
		{"a session id on the last segment", "/api/v1/vm;jsessionid=1", `';' in segment "vm;jsessionid=1"`},
		{"a ';' that would hide a dot-dot after it", "/api/v1/vm;x/../node", `';' in segment "vm;x"`},
		{"a ';' alone as a segment", "/api/;/vm", `';' in segment ";"`},
		{"an encoded ';' in a normal segment", "/api/v1/admin%3Bx=1/config", `encoded ';' in segment "admin%3Bx=1"`},
		{"a '.' and a ';' in one segment that is no dot-segment", "/api/v1/a.;/vm", `';' in segment "a.;"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NormalizePath(tt.target)
			if !errors.Is(err, ErrAmbiguousPath) {
				t.Fatalf("NormalizePath(%q) error = %v, want ErrAmbiguousPath", tt.target, err)
			}
			if !strings.Contains(err.Error(), tt.rule) {
				t.Errorf("NormalizePath(%q) error = %q, want it to name the rule %q", tt.target, err, tt.rule)
			}
		})
	}
}
