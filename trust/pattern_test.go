package trust

import "testing"

func TestMatchPattern(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"team-dev", "team-dev", true},
		{"team-dev", "team-dev2", false},
		{"*", "", true},
		{"*", "anything at all", true},
		{"team-*", "team-", true},
		{"team-*", "xteam-a", false},
		{"*@team.example", "alice@team.example", true},
		{"*@team.example", "alice@team.example.evil", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "a-b-b-c", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false}, // prefix and suffix may not overlap
		{"", "", true},
		{"", "x", false},
	} {
		if got := matchPattern(tt.pattern, tt.s); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
