package main

import (
	"strings"
	"testing"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// TestStatusSaysWhetherTheShadowPolicyLoaded: `certgate status` shows the
// shadow policy's directory, digest and files, or why it did not load,
// and nothing when none is configured.
func TestStatusSaysWhetherTheShadowPolicyLoaded(t *testing.T) {
	tests := []struct {
		name   string
		shadow *adminv1.ShadowPolicyStatus
		want   string // the shadow line, "" for none
	}{
		{"a loaded shadow names its digest and files",
			&adminv1.ShadowPolicyStatus{Dir: "/etc/certgate/shadow", Loaded: true, Digest: "0123456789abcdef0123", PolicyFiles: []string{"/etc/certgate/shadow/authz.rego"}},
			"shadow     loaded from /etc/certgate/shadow, digest 0123456789abcdef…: /etc/certgate/shadow/authz.rego\n"},
		{"a shadow that did not load says why",
			&adminv1.ShadowPolicyStatus{Dir: "/etc/certgate/shadow", Digest: "0123", LastError: "load shadow policy: authz.rego:3: rego_parse_error"},
			"shadow     NOT loaded from /etc/certgate/shadow (serving without a shadow): load shadow policy: authz.rego:3: rego_parse_error\n"},
		{"no shadow configured prints no line", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			printStatus(&out, &adminv1.GetStatusResponse{Snapshot: &adminv1.Snapshot{Revision: 1, ShadowPolicy: tc.shadow}})
			var got string
			for _, line := range strings.SplitAfter(out.String(), "\n") {
				if strings.HasPrefix(line, "shadow ") {
					got += line
				}
			}
			if got != tc.want {
				t.Errorf("shadow line %q, want %q\nall:\n%s", got, tc.want, out.String())
			}
		})
	}
}
