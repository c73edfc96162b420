package identity_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
)

func TestParseXFCC(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []identity.XFCCElement
		wantMsg string // when parsing fails
	}{
		{
			"one element with every key Envoy sends",
			`By=spiffe://example.org/gw;Hash=4f3a;Cert="-----BEGIN%20CERTIFICATE-----%0A";Chain="x";Subject="/C=US/O=Acme/CN=Test Client";URI=spiffe://example.org/alice;DNS=a.example;DNS=b.example`,
			[]identity.XFCCElement{{
				By: "spiffe://example.org/gw", Hash: "4f3a", Cert: "-----BEGIN%20CERTIFICATE-----%0A", Chain: "x",
				Subject: "/C=US/O=Acme/CN=Test Client", URI: []string{"spiffe://example.org/alice"}, DNS: []string{"a.example", "b.example"},
			}},
			"",
		},
		{
			"several elements come back in header order",
			`By=spiffe://a;Hash=1,By=spiffe://b;Hash=2,By=spiffe://c;Hash=3`,
			[]identity.XFCCElement{{By: "spiffe://a", Hash: "1"}, {By: "spiffe://b", Hash: "2"}, {By: "spiffe://c", Hash: "3"}},
			"",
		},
		{
			`a quoted value keeps its ',', ';', '=' and \"`,
			`Subject="CN=x, O=a;b=c \"q\"";By=spiffe://a,Hash=h`,
			[]identity.XFCCElement{{Subject: `CN=x, O=a;b=c "q"`, By: "spiffe://a"}, {Hash: "h"}},
			"",
		},
		{
			"a backslash that does not escape a quote is kept",
			`Subject="CN=a\,b\\"`,
			[]identity.XFCCElement{{Subject: `CN=a\,b\\`}},
			"",
		},
		{
			"keys are case-insensitive",
			`by=a;HASH=b;cErT=c;chain=d;SUBJECT=e;uri=f;dns=g`,
			[]identity.XFCCElement{{By: "a", Hash: "b", Cert: "c", Chain: "d", Subject: "e", URI: []string{"f"}, DNS: []string{"g"}}},
			"",
		},
		{
			"unknown keys are ignored",
			`By=a;X-Other="1,2";Future=3`,
			[]identity.XFCCElement{{By: "a"}},
			"",
		},
		{
			"whitespace around separators is allowed",
			` By = a ; Hash=b , By="c" `,
			[]identity.XFCCElement{{By: "a", Hash: "b"}, {By: "c"}},
			"",
		},
		{
			"an empty value is allowed",
			`By=spiffe://a;URI=;Subject=""`,
			[]identity.XFCCElement{{By: "spiffe://a", URI: []string{""}}},
			"",
		},
		{
			"an unquoted value may hold '='",
			`By=spiffe://a?x=y`,
			[]identity.XFCCElement{{By: "spiffe://a?x=y"}},
			"",
		},
		{"an empty header is malformed", ``, nil, "x-forwarded-client-cert is empty"},
		{"a header of spaces is malformed", `  `, nil, "x-forwarded-client-cert is empty"},
		{"an unterminated quote is malformed", `By=a;Cert="unterminated,By=b`, nil, "element 1: the quote at byte 10 is never closed"},
		{"an escaped quote does not close the value", `Cert="abc\"`, nil, "the quote at byte 5 is never closed"},
		{"an empty key is malformed", `=value`, nil, `element 1: want a key at byte 0, found "="`},
		{"a pair without '=' is malformed", `By=a;novalue`, nil, `element 1: key "novalue" at byte 5 has no '='`},
		{"a key with a space inside is malformed", `B y=1`, nil, `key "B" at byte 0 has no '='`},
		{"a stray quote in an unquoted value is malformed", `Cert=a"b`, nil, `stray quote at byte 6 in the value of "Cert"`},
		{"text after a closing quote is malformed", `By="a"b;Hash=c`, nil, `want ';' or ',' after the value of "By" at byte 6, found "b"`},
		{"an empty element is malformed", `By=a,,By=b`, nil, `element 2: want a key at byte 5, found ","`},
		{"a trailing comma is malformed", `By=a,`, nil, "element 2: want a key at byte 5, found the end of the header"},
		{"a trailing semicolon is malformed", `By=a;`, nil, "element 1: want a key at byte 5, found the end of the header"},
		{"a Cert given twice in one element is malformed", `Cert=a;cert=b`, nil, `element 1: key "cert" appears twice`},
		{"a By given twice in one element is malformed", `By=a,By=b;By=c`, nil, `element 2: key "By" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.ParseXFCC(tt.in)
			if tt.wantMsg != "" {
				checkErr(t, err, identity.ErrMalformed, tt.wantMsg, tt.in)
				return
			}
			if err != nil {
				t.Fatalf("ParseXFCC: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseXFCC (-want +got):\n%s", diff)
			}
		})
	}
}
