package policy

import (
	"testing"
	"testing/fstest"

	"github.com/certgate/certgate/identity"
)

// shapePolicy decides allow with status 200, or deny with 403, by rule
// allow, which each shape below defines its own way.
const shapePolicy = `package certgate.authz

decision := {
	"allow": allow,
	"status": status,
	"reason": "shape",
	"permission": "",
	"headers": {},
	"response_headers": {},
}

default allow := false

status := 200 if allow
else := 403
`

// TestMemoNeverSharesADecisionAcrossInputsAPolicyTellsApart: for every way
// a policy can reach an input field (a path the read analysis must follow,
// or give up on and key on everything or not memoize), two inputs that
// differ only in that field and that the policy decides differently must
// each get their own decision, in either order, from one Engine.
func TestMemoNeverSharesADecisionAcrossInputsAPolicyTellsApart(t *testing.T) {
	open := func() *Input { return request("alice", []string{"g"}, "GET", "/open") }
	closed := func() *Input { return request("alice", []string{"g"}, "GET", "/closed") }
	withHeader := func(v string) func() *Input {
		return func() *Input {
			in := open()
			in.Request.Headers = map[string]string{"x-open": v}
			return in
		}
	}
	withQuery := func(v string) func() *Input {
		return func() *Input {
			in := open()
			in.Request.Query = map[string][]string{"open": {v}}
			return in
		}
	}
	withSource := func(s string) func() *Input {
		return func() *Input {
			in := open()
			in.Identity.Source = identity.Source(s)
			return in
		}
	}
	tests := []struct {
		name     string
		rego     string
		lib      string // a second module, package lib
		allowed  func() *Input
		denied   func() *Input
		memoized bool // whether the Engine may cache at all
	}{
		{name: "a plain reference", rego: `allow if input.request.path == "/open"`, memoized: true},
		{name: "walk(input)", rego: `allow if walk(input, [["request", "path"], "/open"])`},
		{name: "json.marshal(input)", rego: `allow if contains(json.marshal(input), "/open")`},
		{name: "sprintf of input", rego: `allow if contains(sprintf("%v", [input]), "/open")`},
		{name: "object.get(input, ...)", rego: `allow if object.get(input, ["request", "path"], "") == "/open"`},
		{name: "object.get(input.request, ...)", rego: `allow if object.get(input.request, "path", "") == "/open"`},
		{name: "input.request[x]", rego: "allow if {\n\tsome k in [\"path\"]\n\tinput.request[k] == \"/open\"\n}"},
		{name: "input[x]", rego: `allow if input[concat("", ["req", "uest"])].path == "/open"`},
		{name: "some k, v in input.request", rego: "allow if {\n\tsome k, v in input.request\n\tk == \"path\"\n\tv == \"/open\"\n}"},
		{name: "every over input.request", rego: "allow if {\n\tevery k, v in {\"path\": \"/open\"} {\n\t\tinput.request[k] == v\n\t}\n}"},
		{name: "every over a field", rego: "allow if {\n\tevery p in [input.request.path] {\n\t\tp == \"/open\"\n\t}\n}", memoized: true},
		{name: "with data", rego: "inner if input.request.path == \"/open\"\n\nallow if inner with data.x as 1", memoized: true},
		{name: "with another field", rego: "inner if input.request.path == \"/open\"\n\nallow if inner with input.identity.user as \"bob\"", memoized: true},
		{name: "with input as a value built from input", rego: "inner if input.p == \"/open\"\n\nallow if inner with input as {\"p\": input.request.path}"},
		{name: "a function given input", rego: "f(x) if x.request.path == \"/open\"\n\nallow if f(input)"},
		{name: "a function given input.request", rego: "f(r) if r.path == \"/open\"\n\nallow if f(input.request)"},
		{name: "a comprehension", rego: `allow if count([p | p := input.request.path; p == "/open"]) == 1`, memoized: true},
		{name: "a rule head keyed by input", rego: "paths[input.request.path] := true\n\nallow if paths[\"/open\"]", memoized: true},
		{name: "an else chain", rego: "decide := false if input.request.path != \"/open\"\nelse := true\n\nallow if decide", memoized: true},
		{name: "a rule of another package", lib: `open if input.request.path == "/open"`, rego: "allow if data.lib.open", memoized: true},
		{name: "iterating another package's rules", lib: `open if input.request.path == "/open"`, rego: "allow if {\n\tsome k\n\tdata.lib[k] == true\n}", memoized: true},
		{name: "a whole package of rules", lib: `open if input.request.path == "/open"`, rego: `allow if object.get(data.lib, "open", false)`, memoized: true},
		{name: "a template string", rego: `allow if $"{input.request.path}" == "/open"`, memoized: true},
		{name: "a template string of input", rego: `allow if contains($"{input}", "/open")`},
		{name: "an import alias", rego: "import input.request as r\n\nallow if r.path == \"/open\"", memoized: true},
		{
			name: "a header through object.get", rego: `allow if object.get(input.request.headers, "x-open", "") == "1"`,
			allowed: withHeader("1"), denied: withHeader("0"),
		},
		{
			name: "a header through input.request[x]", rego: "allow if {\n\tsome k in [\"headers\"]\n\tinput.request[k][\"x-open\"] == \"1\"\n}",
			allowed: withHeader("1"), denied: withHeader("0"),
		},
		{
			name: "a header through json.marshal", rego: `allow if contains(json.marshal(input.request), "\"x-open\":\"1\"")`,
			allowed: withHeader("1"), denied: withHeader("0"),
		},
		{
			name: "a query parameter", rego: `allow if input.request.query.open == ["1"]`,
			allowed: withQuery("1"), denied: withQuery("0"), memoized: true,
		},
		{
			name: "the identity's source", rego: `allow if input.identity.source == "envoy"`,
			allowed: withSource("envoy"), denied: withSource("untrusted_header"), memoized: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowedIn, deniedIn := tt.allowed, tt.denied
			if allowedIn == nil {
				allowedIn, deniedIn = open, closed
			}
			files := fstest.MapFS{"authz.rego": {Data: []byte(shapePolicy + "\n" + tt.rego + "\n")}}
			if tt.lib != "" {
				files["lib.rego"] = &fstest.MapFile{Data: []byte("package lib\n\n" + tt.lib + "\n")}
			}
			for _, order := range [][2]bool{{true, false}, {false, true}} {
				e, err := LoadFS(t.Context(), files)
				if err != nil {
					t.Fatalf("LoadFS: %v", err)
				}
				if got := e.memo != nil; got != tt.memoized {
					t.Errorf("memoized = %v, want %v (reads %b)", got, tt.memoized, e.reads.fields)
				}
				for round := range 2 {
					for _, allow := range order {
						in := deniedIn()
						if allow {
							in = allowedIn()
						}
						d, err := e.Decide(t.Context(), in)
						if err != nil {
							t.Fatalf("Decide: %v", err)
						}
						if d.Allow != allow {
							t.Fatalf("round %d: Decide(%+v) allow = %v, want %v", round, in.Request, d.Allow, allow)
						}
					}
				}
			}
		})
	}
}
