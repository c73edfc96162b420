package policy

import (
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/certgate/certgate/identity"
)

// Request is the part of an HTTP request the policy sees as input.request;
// the json tags are the names the policy sees (inputFields).
type Request struct {
	// Method is the request method as the proxy sent it (upper-case).
	Method string `json:"method"`
	// Path is the normalized path; RawPath is the path as received.
	Path    string `json:"path"`
	RawPath string `json:"raw_path"`
	// Query holds the decoded query parameters.
	Query map[string][]string `json:"query"`
	// Headers holds the request headers with lower-case names.
	Headers  map[string]string `json:"headers"`
	Host     string            `json:"host"`
	Scheme   string            `json:"scheme"`
	Protocol string            `json:"protocol"`
}

// Input is what one decision is made about: a verified identity and a request.
type Input struct {
	Identity *identity.Identity `json:"identity"`
	Request  Request            `json:"request"`
}

// value builds the whole Rego input document directly as an AST value;
// going through encoding/json on every request would cost a marshal and a
// parse. Field names follow the json tags of identity.Identity and Request
// (inputFields) so that the policy sees the same document the decision log
// records. Nil slices and maps become empty arrays and objects, never
// null, so a policy can iterate them without guards.
func (in *Input) value() ast.Value {
	return in.valueOf(identityFields|requestFields, nil)
}

// valueOf builds the input document with only the fields in fields: a
// policy is not handed what it never reads. candidates, when the set
// includes fieldRouteCandidates, is input.route_candidates.
func (in *Input) valueOf(fields fieldSet, candidates *ast.Term) ast.Value {
	var topf [3][2]*ast.Term
	top := topf[:0]
	for _, p := range inputParts {
		if fields&p.fields != 0 {
			top = append(top, [2]*ast.Term{p.key, in.partTerm(fields & p.fields)})
		}
	}
	if fields&fieldRouteCandidates != 0 && candidates != nil {
		top = append(top, [2]*ast.Term{routeCandidatesKey, candidates})
	}
	return ast.NewObject(top...)
}

// routeCandidatesKey is the key of input.route_candidates.
var routeCandidatesKey = ast.StringTerm("route_candidates")

// identityTerm is input.identity with every field.
func (in *Input) identityTerm() *ast.Term {
	return in.partTerm(identityFields)
}

// partTerm is the object of the fields in fields, which lie in one part.
func (in *Input) partTerm(fields fieldSet) *ast.Term {
	var buf [len(inputFields)][2]*ast.Term
	f := buf[:0]
	for i := range inputFields {
		if fields&(1<<i) != 0 {
			row := &inputFields[i]
			f = append(f, [2]*ast.Term{row.nameTerm, row.term(in)})
		}
	}
	return ast.ObjectTerm(f...)
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
