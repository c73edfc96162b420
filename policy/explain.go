package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Granted returns the permissions the policy grants the identity of in,
// whatever the request: data.certgate.authz.granted_permissions, sorted. It
// returns an error wrapping ErrUndefined when the policy does not define
// that document.
func (e *Engine) Granted(ctx context.Context, in *Input) ([]string, error) {
	if in == nil || in.Identity == nil {
		return nil, errors.New("policy: granted: input has no identity")
	}
	if e.granted.err != nil {
		return nil, fmt.Errorf("policy: granted: %w", e.granted.err)
	}
	v, err := evalValue(ctx, e.granted.pq, rego.EvalParsedInput(in.value()), rego.EvalExternalCancel(cancelOf(ctx)))
	if err != nil {
		return nil, fmt.Errorf("policy: granted: %s: %w", grantedQuery, err)
	}
	names, err := stringsOf(v)
	if err != nil {
		return nil, fmt.Errorf("policy: granted: %s: %w", grantedQuery, err)
	}
	return names, nil
}

// Explain decides in as Decide does, but always evaluates (the cache is
// neither read nor filled) and also returns the routes the policy matched
// (data.certgate.authz.matched_routes; none when the policy does not
// define it) and, when trace is set, OPA's
// evaluation trace of the decision, one line per event.
func (e *Engine) Explain(ctx context.Context, in *Input, trace bool) (Decision, []MatchedRoute, []string, error) {
	if in == nil || in.Identity == nil {
		return Decision{}, nil, nil, errors.New("policy: explain: input has no identity")
	}
	var opts []rego.EvalOption
	var tracer *topdown.BufferTracer
	if trace {
		tracer = topdown.NewBufferTracer()
		opts = append(opts, rego.EvalQueryTracer(tracer))
	}
	d, err := e.eval(ctx, in, opts...)
	if err != nil {
		return Decision{}, nil, nil, err
	}
	var lines []string
	if trace {
		var b strings.Builder
		topdown.PrettyTraceWithLocation(&b, *tracer)
		lines = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	}
	if e.matched.err != nil {
		return Decision{}, nil, nil, fmt.Errorf("policy: explain: %w", e.matched.err)
	}
	matched, err := evalValue(ctx, e.matched.pq, rego.EvalParsedInput(e.input(in)), rego.EvalExternalCancel(cancelOf(ctx)))
	if errors.Is(err, ErrUndefined) {
		return d, nil, lines, nil
	}
	if err != nil {
		return Decision{}, nil, nil, fmt.Errorf("policy: explain: %s: %w", matchedQuery, err)
	}
	return d, matchedRoutes(matched), lines, nil
}

// MatchedRoute is a route of data.certgate.routes that matched a request.
type MatchedRoute struct{ Permission, Method, Path string }

// String is "METHOD path -> permission".
func (r MatchedRoute) String() string { return r.Method + " " + r.Path + " -> " + r.Permission }

// matchedRoutes reads data.certgate.authz.matched_routes, sorted; a route
// of another shape is kept whole, as Rego prints it, in Path.
func matchedRoutes(v ast.Value) []MatchedRoute {
	var out []MatchedRoute
	add := func(t *ast.Term) {
		if obj, ok := t.Value.(ast.Object); ok {
			method, ok1 := stringAt(obj, "method")
			path, ok2 := stringAt(obj, "path")
			perm, ok3 := stringAt(obj, "permission")
			if ok1 && ok2 && ok3 {
				out = append(out, MatchedRoute{Permission: perm, Method: method, Path: path})
				return
			}
		}
		out = append(out, MatchedRoute{Path: t.String()})
	}
	if !eachTerm(v, add) {
		out = append(out, MatchedRoute{Path: v.String()})
	}
	slices.SortFunc(out, func(a, b MatchedRoute) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// stringsOf reads a set or array of strings, sorted.
func stringsOf(v ast.Value) ([]string, error) {
	var out []string
	var err error
	add := func(t *ast.Term) {
		s, ok := t.Value.(ast.String)
		if !ok {
			err = fmt.Errorf("holds %s, want strings", ast.ValueName(t.Value))
			return
		}
		out = append(out, string(s))
	}
	if !eachTerm(v, add) {
		return nil, fmt.Errorf("is %s, want a set of strings", ast.ValueName(v))
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// eachTerm calls f for each element of a set or array; it reports false,
// calling nothing, for any other value.
func eachTerm(v ast.Value, f func(*ast.Term)) bool {
	switch c := v.(type) {
	case ast.Set:
		c.Foreach(f)
	case *ast.Array:
		c.Foreach(f)
	default:
		return false
	}
	return true
}
