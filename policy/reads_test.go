package policy

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestAnalyseReads(t *testing.T) {
	const head = "package certgate.authz\n\n"
	tests := []struct {
		name          string
		rego          string
		fields        fieldSet
		deterministic bool
		memoizable    bool
	}{
		{
			name:   "the shipped policy reads user, groups, method, path and the candidates",
			fields: fieldsNamed("identity.user", "identity.groups", "request.method", "request.path") | fieldRouteCandidates, deterministic: true, memoizable: true,
		},
		{
			name:   "a nested field counts as its top field",
			rego:   head + `x if "a" in input.identity.sans.dns`,
			fields: fieldsNamed("identity.sans"), deterministic: true, memoizable: true,
		},
		{
			name:   "an import alias is followed",
			rego:   head + "import input.request as r\n\nx if r.host == \"h\"",
			fields: fieldsNamed("request.host"), deterministic: true, memoizable: true,
		},
		{
			name:   "iterating identity reads all of it",
			rego:   head + `x contains k if some k, _ in input.identity`,
			fields: identityFields, deterministic: true, memoizable: true,
		},
		{
			name:   "a variable key reads all of a part",
			rego:   head + `x(k) := input.request[k]`,
			fields: requestFields, deterministic: true,
		},
		{
			name:   "reading headers disables the cache",
			rego:   head + `x := input.request.headers["x-id"]`,
			fields: fieldHeaders, deterministic: true,
		},
		{
			name:   "input as a whole reads everything",
			rego:   head + `x := input`,
			fields: allFields, deterministic: true,
		},
		{
			name:   "input passed to a function reads everything",
			rego:   head + `x := object.get(input, ["identity", "user"], "")`,
			fields: allFields, deterministic: true,
		},
		{
			name:   "a variable top-level key reads everything",
			rego:   head + `x(k) := input[k]`,
			fields: allFields, deterministic: true,
		},
		{
			name:   "an unknown field reads everything",
			rego:   head + `x := input.tenant`,
			fields: allFields, deterministic: true,
		},
		{
			name:   "the admin input's method is never in a decision's input",
			rego:   "package certgate.admin\n\nallow if input.method == \"Reload\"",
			fields: 0, deterministic: true, memoizable: true,
		},
		{
			name:   "an input ref inside a data ref is found",
			rego:   head + `x := data.certgate.users[input.identity.serial]`,
			fields: fieldsNamed("identity.serial"), deterministic: true, memoizable: true,
		},
		{
			name:   "time.now_ns is not deterministic",
			rego:   head + `x if time.now_ns() > time.parse_rfc3339_ns(input.identity.not_after)`,
			fields: fieldsNamed("identity.not_after"),
		},
		{
			name:   "verifying a chain reads the clock",
			rego:   head + `x if crypto.x509.parse_and_verify_certificates(input.identity.subject)[0]`,
			fields: fieldsNamed("identity.subject"),
		},
		{
			name:   "verifying a chain with options reads the clock",
			rego:   head + `x if crypto.x509.parse_and_verify_certificates_with_options(input.identity.subject, {})[0]`,
			fields: fieldsNamed("identity.subject"),
		},
		{
			name: "a nested non-deterministic call is found",
			rego: head + `x := count(uuid.rfc4122("a"))`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got policyReads
			if tt.rego == "" {
				got = loadShipped(t).reads
			} else {
				c := ast.NewCompiler()
				c.Compile(map[string]*ast.Module{"x.rego": ast.MustParseModuleWithOpts(tt.rego, ast.ParserOptions{RegoVersion: ast.RegoV1})})
				if c.Failed() {
					t.Fatalf("compile: %v", c.Errors)
				}
				got = analyseReads(c.Modules)
			}
			if got.fields != tt.fields || got.deterministic != tt.deterministic {
				t.Errorf("analyseReads = fields %b deterministic %v; want fields %b deterministic %v", got.fields, got.deterministic, tt.fields, tt.deterministic)
			}
			if got.memoizable() != tt.memoizable {
				t.Errorf("memoizable = %v, want %v", got.memoizable(), tt.memoizable)
			}
		})
	}
}
