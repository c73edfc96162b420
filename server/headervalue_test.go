package server

import (
	"net/url"
	"strings"
	"testing"
)

func TestHeaderValueEncodesWhatAHeaderCannotCarry(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"viewer":                  "viewer",
		"mallory, O=admins":       "mallory, O=admins",
		"Zoë Ünïcødé":             "Zo%C3%AB %C3%9Cn%C3%AFc%C3%B8d%C3%A9",
		"José":                    "Jos%C3%A9",
		"viewer\r\nx-injected: 1": "viewer%0D%0Ax-injected: 1",
		"a\x00b\tc\x7f":           "a%00b%09c%7F",
		"100%":                    "100%25",
		"%41":                     "%2541",
		" admin":                  "%20admin",
		"admin ":                  "admin%20",
		" ":                       "%20",
		"a b":                     "a b",
	} {
		if got := headerValue(in); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGroupsHeaderStaysSplittableOnCommas(t *testing.T) {
	for _, tc := range []struct {
		groups []string
		want   string
	}{
		{[]string{"viewers"}, "viewers"},
		{[]string{"ci", "viewers"}, "ci,viewers"},
		{[]string{"admins,viewers"}, "admins%2Cviewers"},
		{[]string{"100%", "a,b"}, "100%25,a%2Cb"},
		{[]string{"viewers", " admins"}, "viewers,%20admins"},
		{[]string{"ops\r\n", "Jos\u00e9"}, "ops%0D%0A,Jos%C3%A9"},
		{[]string{}, ""},
	} {
		if got := joinGroups(tc.groups); got != tc.want {
			t.Errorf("joinGroups(%q) = %q, want %q", tc.groups, got, tc.want)
		}
	}
}

// FuzzHeaderValue checks the encoding's promises: the value is visible
// ASCII and inner spaces only, and percent-decoding gives back the input;
// a group list splits on commas into exactly its groups.
func FuzzHeaderValue(f *testing.F) {
	for _, s := range []string{"", "viewer", "Zoë", "a\r\nb", "%", "%2C", " a ", "a,b", "\x00", "\xff\xfe"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got := headerValue(a)
		checkEncoded(t, got)
		if back, err := url.PathUnescape(got); err != nil || back != a {
			t.Fatalf("headerValue(%q) = %q decodes to %q, %v", a, got, back, err)
		}
		joined := joinGroups([]string{a, b})
		checkEncoded(t, joined)
		parts := strings.Split(joined, ",")
		if len(parts) != 2 {
			t.Fatalf("joinGroups(%q, %q) = %q splits into %d", a, b, joined, len(parts))
		}
		for i, want := range []string{a, b} {
			if back, err := url.PathUnescape(parts[i]); err != nil || back != want {
				t.Fatalf("joinGroups(%q, %q) = %q: group %d decodes to %q, %v", a, b, joined, i, back, err)
			}
		}
	})
}

func checkEncoded(t *testing.T, v string) {
	t.Helper()
	if v != "" && (v[0] == ' ' || v[len(v)-1] == ' ') {
		t.Fatalf("%q begins or ends with a space", v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			t.Fatalf("%q has byte 0x%02x", v, v[i])
		}
	}
}
