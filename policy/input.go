package policy

import (
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/certgate/certgate/identity"
)

// Request is the part of an HTTP request the policy sees as input.request.
type Request struct {
	// Method is the request method as the proxy sent it (upper-case).
	Method string
	// Path is the normalized path; RawPath is the path as received.
	Path    string
	RawPath string
	// Query holds the decoded query parameters.
	Query map[string][]string
	// Headers holds the request headers with lower-case names.
	Headers  map[string]string
	Host     string
	Scheme   string
	Protocol string
}

// Input is what one decision is made about: a verified identity and a request.
type Input struct {
	Identity *identity.Identity
	Request  Request
}

// value builds the Rego input document directly as an AST value; going through
// encoding/json on every request would cost a marshal and a parse. Field names
// follow the json tags of identity.Identity so that the policy sees the same
// document the decision log records. Nil slices and maps become empty arrays
// and objects, never null, so a policy can iterate them without guards.
func (in *Input) value() ast.Value {
	id := in.Identity
	r := &in.Request
	return ast.NewObject(
		[2]*ast.Term{ast.InternedTerm("identity"), ast.ObjectTerm(
			field("user", ast.StringTerm(id.User)),
			field("groups", stringsTerm(id.Groups)),
			field("org_units", stringsTerm(id.OrgUnits)),
			field("subject", ast.StringTerm(id.Subject)),
			field("issuer", ast.StringTerm(id.Issuer)),
			field("serial", ast.StringTerm(id.Serial)),
			field("fingerprint_sha256", ast.StringTerm(id.FingerprintSHA256)),
			field("sans", ast.ObjectTerm(
				field("dns", stringsTerm(id.SANs.DNS)),
				field("ip", stringsTerm(id.SANs.IP)),
				field("email", stringsTerm(id.SANs.Email)),
				field("uri", stringsTerm(id.SANs.URI)),
			)),
			field("spiffe_id", ast.StringTerm(id.SPIFFEID)),
			field("not_before", timeTerm(id.NotBefore)),
			field("not_after", timeTerm(id.NotAfter)),
			field("source", ast.StringTerm(string(id.Source))),
		)},
		[2]*ast.Term{ast.InternedTerm("request"), ast.ObjectTerm(
			field("method", ast.StringTerm(r.Method)),
			field("path", ast.StringTerm(r.Path)),
			field("raw_path", ast.StringTerm(r.RawPath)),
			field("query", queryTerm(r.Query)),
			field("headers", headersTerm(r.Headers)),
			field("host", ast.StringTerm(r.Host)),
			field("scheme", ast.StringTerm(r.Scheme)),
			field("protocol", ast.StringTerm(r.Protocol)),
		)},
	)
}

func field(name string, v *ast.Term) [2]*ast.Term {
	return [2]*ast.Term{ast.InternedTerm(name), v}
}

func stringsTerm(ss []string) *ast.Term {
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(terms...)
}

func queryTerm(q map[string][]string) *ast.Term {
	pairs := make([][2]*ast.Term, 0, len(q))
	for k, vs := range q {
		pairs = append(pairs, [2]*ast.Term{ast.StringTerm(k), stringsTerm(vs)})
	}
	return ast.ObjectTerm(pairs...)
}

func headersTerm(h map[string]string) *ast.Term {
	pairs := make([][2]*ast.Term, 0, len(h))
	for k, v := range h {
		pairs = append(pairs, [2]*ast.Term{ast.StringTerm(k), ast.StringTerm(v)})
	}
	return ast.ObjectTerm(pairs...)
}

// timeTerm formats t as encoding/json does (RFC 3339 with nanoseconds), so
// policies compare and parse it the same way whichever path built the input.
func timeTerm(t time.Time) *ast.Term {
	return ast.StringTerm(t.Format(time.RFC3339Nano))
}
