package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/certgate/certgate/identity"
)

// AdminQuery is the document that decides calls to certgate's own admin
// API over TLS. It is evaluated on its own, with the input
//
//	{"identity": <input.identity of a decision>, "method": "Reload"}
//
// (method is the short gRPC method name of certgate.admin.v1.AdminService),
// and never reads the route table: no data-plane route, "*" grant or
// "authenticated" pseudo-permission can widen it. The shipped rego/admin.rego
// defines it from data.certgate.admin; a policy that does not define it
// denies every admin call over TLS.
const AdminQuery = "data.certgate.admin.allow"

// AllowAdmin reports whether the policy lets id call the admin API method
// (a short name such as "GetStatus"). Only a boolean true allows. An
// undefined AdminQuery is an error wrapping ErrUndefined, and any other
// result an error: the caller must deny.
func (e *Engine) AllowAdmin(ctx context.Context, id *identity.Identity, method string) (bool, error) {
	if id == nil {
		return false, errors.New("policy: admin: input has no identity")
	}
	if e.admin.err != nil {
		return false, fmt.Errorf("policy: admin: %w", e.admin.err)
	}
	in := &Input{Identity: id}
	input := ast.NewObject(
		[2]*ast.Term{ast.InternedTerm("identity"), in.identityTerm()},
		[2]*ast.Term{ast.InternedTerm("method"), ast.StringTerm(method)},
	)
	v, err := evalValue(ctx, e.admin.pq, rego.EvalParsedInput(input), rego.EvalExternalCancel(cancelOf(ctx)))
	if err != nil {
		return false, fmt.Errorf("policy: admin: %s is %w", AdminQuery, err)
	}
	b, ok := v.(ast.Boolean)
	if !ok {
		return false, fmt.Errorf("policy: admin: %s is %s, want boolean", AdminQuery, ast.ValueName(v))
	}
	return bool(b), nil
}

// AdminDefined reports whether the policy defines AdminQuery at all (by a
// rule or a data document). Without it every admin call over TLS is denied.
func (e *Engine) AdminDefined() bool {
	return e.adminDefined
}

// definesAdmin reports whether AdminQuery is a rule of the compiled modules
// or a document of the data.
func definesAdmin(ctx context.Context, pq rego.PreparedEvalQuery, compiler *ast.Compiler) bool {
	if len(compiler.GetRules(ast.MustParseRef(AdminQuery))) > 0 {
		return true
	}
	_, err := evalValue(ctx, pq)
	return err == nil
}
