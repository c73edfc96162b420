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
	var topf [3][2]*ast.Term
	top := topf[:0]
	if fields&identityFields != 0 {
		top = append(top, field("identity", in.identityTerm(fields)))
	}
	if fields&requestFields != 0 {
		top = append(top, field("request", in.requestTerm(fields)))
	}
	if fields&fieldRouteCandidates != 0 && candidates != nil {
		top = append(top, field("route_candidates", candidates))
	}
	return ast.NewObject(top...)
}

func (in *Input) identityTerm(fields fieldSet) *ast.Term {
	id := in.Identity
	var buf [12][2]*ast.Term
	f := buf[:0]
	if fields&fieldUser != 0 {
		f = append(f, field("user", ast.StringTerm(id.User)))
	}
	if fields&fieldGroups != 0 {
		f = append(f, field("groups", stringsTerm(id.Groups)))
	}
	if fields&fieldOrgUnits != 0 {
		f = append(f, field("org_units", stringsTerm(id.OrgUnits)))
	}
	if fields&fieldSubject != 0 {
		f = append(f, field("subject", ast.StringTerm(id.Subject)))
	}
	if fields&fieldIssuer != 0 {
		f = append(f, field("issuer", ast.StringTerm(id.Issuer)))
	}
	if fields&fieldSerial != 0 {
		f = append(f, field("serial", ast.StringTerm(id.Serial)))
	}
	if fields&fieldFingerprint != 0 {
		f = append(f, field("fingerprint_sha256", ast.StringTerm(id.FingerprintSHA256)))
	}
	if fields&fieldSANs != 0 {
		f = append(f, field("sans", ast.ObjectTerm(
			field("dns", stringsTerm(id.SANs.DNS)),
			field("ip", stringsTerm(id.SANs.IP)),
			field("email", stringsTerm(id.SANs.Email)),
			field("uri", stringsTerm(id.SANs.URI)),
		)))
	}
	if fields&fieldSPIFFEID != 0 {
		f = append(f, field("spiffe_id", ast.StringTerm(id.SPIFFEID)))
	}
	if fields&fieldNotBefore != 0 {
		f = append(f, field("not_before", timeTerm(id.NotBefore)))
	}
	if fields&fieldNotAfter != 0 {
		f = append(f, field("not_after", timeTerm(id.NotAfter)))
	}
	if fields&fieldSource != 0 {
		f = append(f, field("source", ast.StringTerm(string(id.Source))))
	}
	return ast.ObjectTerm(f...)
}

func (in *Input) requestTerm(fields fieldSet) *ast.Term {
	r := &in.Request
	var buf [8][2]*ast.Term
	f := buf[:0]
	if fields&fieldMethod != 0 {
		f = append(f, field("method", ast.StringTerm(r.Method)))
	}
	if fields&fieldPath != 0 {
		f = append(f, field("path", ast.StringTerm(r.Path)))
	}
	if fields&fieldRawPath != 0 {
		f = append(f, field("raw_path", ast.StringTerm(r.RawPath)))
	}
	if fields&fieldQuery != 0 {
		f = append(f, field("query", queryTerm(r.Query)))
	}
	if fields&fieldHeaders != 0 {
		f = append(f, field("headers", headersTerm(r.Headers)))
	}
	if fields&fieldHost != 0 {
		f = append(f, field("host", ast.StringTerm(r.Host)))
	}
	if fields&fieldScheme != 0 {
		f = append(f, field("scheme", ast.StringTerm(r.Scheme)))
	}
	if fields&fieldProtocol != 0 {
		f = append(f, field("protocol", ast.StringTerm(r.Protocol)))
	}
	return ast.ObjectTerm(f...)
}

func field(name string, v *ast.Term) [2]*ast.Term {
	k, ok := inputKeys[name]
	if !ok {
		k = ast.StringTerm(name)
	}
	return [2]*ast.Term{k, v}
}

// inputKeys are the keys of the input document, made once: terms are never
// modified once built, and ast.InternedTerm interns only a few strings.
var inputKeys = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, k := range []string{
		"identity", "request", "route_candidates",
		"user", "groups", "org_units", "subject", "issuer", "serial", "fingerprint_sha256", "sans",
		"dns", "ip", "email", "uri", "spiffe_id", "not_before", "not_after", "source",
		"method", "path", "raw_path", "query", "headers", "host", "scheme", "protocol",
	} {
		m[k] = ast.StringTerm(k)
	}
	return m
}()

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
