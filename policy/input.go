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

// value builds the whole Rego input document directly as an AST value;
// going through encoding/json on every request would cost a marshal and a
// parse. Field names follow the json tags of identity.Identity so that the
// policy sees the same document the decision log records. Nil slices and
// maps become empty arrays and objects, never null, so a policy can iterate
// them without guards.
func (in *Input) value() ast.Value {
	return in.valueOf(identityFields|requestFields, nil)
}

// valueOf builds the input document with only the fields in fields: a
// policy is not handed what it never reads. candidates, when the set
// includes fieldRouteCandidates, is input.route_candidates.
func (in *Input) valueOf(fields fieldSet, candidates *ast.Term) ast.Value {
	id := in.Identity
	r := &in.Request
	var idf, reqf [12][2]*ast.Term
	ids, reqs := idf[:0], reqf[:0]
	add := func(list [][2]*ast.Term, f fieldSet, name string, v func() *ast.Term) [][2]*ast.Term {
		if fields&f == 0 {
			return list
		}
		return append(list, field(name, v()))
	}
	ids = add(ids, fieldUser, "user", func() *ast.Term { return ast.StringTerm(id.User) })
	ids = add(ids, fieldGroups, "groups", func() *ast.Term { return stringsTerm(id.Groups) })
	ids = add(ids, fieldOrgUnits, "org_units", func() *ast.Term { return stringsTerm(id.OrgUnits) })
	ids = add(ids, fieldSubject, "subject", func() *ast.Term { return ast.StringTerm(id.Subject) })
	ids = add(ids, fieldIssuer, "issuer", func() *ast.Term { return ast.StringTerm(id.Issuer) })
	ids = add(ids, fieldSerial, "serial", func() *ast.Term { return ast.StringTerm(id.Serial) })
	ids = add(ids, fieldFingerprint, "fingerprint_sha256", func() *ast.Term { return ast.StringTerm(id.FingerprintSHA256) })
	ids = add(ids, fieldSANs, "sans", func() *ast.Term {
		return ast.ObjectTerm(
			field("dns", stringsTerm(id.SANs.DNS)),
			field("ip", stringsTerm(id.SANs.IP)),
			field("email", stringsTerm(id.SANs.Email)),
			field("uri", stringsTerm(id.SANs.URI)),
		)
	})
	ids = add(ids, fieldSPIFFEID, "spiffe_id", func() *ast.Term { return ast.StringTerm(id.SPIFFEID) })
	ids = add(ids, fieldNotBefore, "not_before", func() *ast.Term { return timeTerm(id.NotBefore) })
	ids = add(ids, fieldNotAfter, "not_after", func() *ast.Term { return timeTerm(id.NotAfter) })
	ids = add(ids, fieldSource, "source", func() *ast.Term { return ast.StringTerm(string(id.Source)) })

	reqs = add(reqs, fieldMethod, "method", func() *ast.Term { return ast.StringTerm(r.Method) })
	reqs = add(reqs, fieldPath, "path", func() *ast.Term { return ast.StringTerm(r.Path) })
	reqs = add(reqs, fieldRawPath, "raw_path", func() *ast.Term { return ast.StringTerm(r.RawPath) })
	reqs = add(reqs, fieldQuery, "query", func() *ast.Term { return queryTerm(r.Query) })
	reqs = add(reqs, fieldHeaders, "headers", func() *ast.Term { return headersTerm(r.Headers) })
	reqs = add(reqs, fieldHost, "host", func() *ast.Term { return ast.StringTerm(r.Host) })
	reqs = add(reqs, fieldScheme, "scheme", func() *ast.Term { return ast.StringTerm(r.Scheme) })
	reqs = add(reqs, fieldProtocol, "protocol", func() *ast.Term { return ast.StringTerm(r.Protocol) })

	var topf [3][2]*ast.Term
	top := topf[:0]
	if fields&identityFields != 0 {
		top = append(top, field("identity", ast.ObjectTerm(ids...)))
	}
	if fields&requestFields != 0 {
		top = append(top, field("request", ast.ObjectTerm(reqs...)))
	}
	if fields&fieldRouteCandidates != 0 && candidates != nil {
		top = append(top, field("route_candidates", candidates))
	}
	return ast.NewObject(top...)
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
