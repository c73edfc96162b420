package policy

import (
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	shipped "github.com/certgate/certgate/rego"
)

// A decision memoized on the raw path never hits for /registry/pull/<id>:
// every id is a new key. When the policy reads the method and the path only
// to match routes, and matches them exactly as the route index does, its
// decision depends on them only through which routes match, and the memo
// can be keyed on that set instead (Engine.routeKeyed). A wrong memo hit is
// a wrong allow, so routeMatchOnly proves it of the modules and answers
// false whenever it cannot.
//
// The proof has three parts:
//
//  1. The rules that read input.request.method and input.request.path (the
//     matcher: matcherRules) and the rules that apply them to the candidates
//     (candidateRules) are the shipped policy's, rule for rule, in a module
//     with the shipped module's imports: their meaning is the one
//     FuzzRouteIndexMatchesThePolicy holds the index to.
//  2. No other rule reads the method or the path, refers to a matcher rule
//     (only matched_routes may), or reaches them through a reference that
//     could name them (data, data.certgate, data.certgate.authz[x], …); the
//     matcher refers to nothing outside itself, so no rule of the policy can
//     shadow a built-in it calls.
//  3. No "with" anywhere: it could replace the input, the candidates, a
//     matcher rule or a built-in under a rule's feet.
//
// Then every candidate the index offers matches, matched_routes is the
// candidate set, and a decision is a function of the candidates and the
// other fields the policy reads.

// authzPath is the package of the shipped policy.
var authzPath = ast.MustParseRef("data.certgate.authz")

// matcherRules read the method and the path; candidateRules apply them to
// input.route_candidates.
var (
	matcherRules   = []string{"method_matches", "request_segments", "path_matches", "prefix_matches", "segment_matches"}
	candidateRules = []string{"routes_to_match", "matched_routes"}
)

// routeTableRef is the one document the candidate rules read besides the
// trusted rules and the candidates (when certgate sends none).
var routeTableRef = ast.MustParseRef(routesQuery)

// shippedRules are the trusted rules of rego/authz.rego as parsed, and the
// imports of its module.
type shippedRules struct {
	rules   map[string][]*ast.Rule
	imports []*ast.Import
	err     error
}

var shippedMatcher = sync.OnceValue(func() shippedRules {
	src, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		return shippedRules{err: err}
	}
	m, err := ast.ParseModuleWithOpts("authz.rego", string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return shippedRules{err: err}
	}
	return shippedRules{rules: trustedRulesOf([]*ast.Module{m}), imports: m.Imports}
})

// trustedRule returns the name of the matcher or candidate rule the full
// reference ref defines or names, or "".
func trustedRule(ref ast.Ref) string {
	if len(ref) <= len(authzPath) || !ref.HasPrefix(authzPath) {
		return ""
	}
	name, ok := ref[len(authzPath)].Value.(ast.String)
	if !ok {
		return ""
	}
	if slices.Contains(matcherRules, string(name)) || slices.Contains(candidateRules, string(name)) {
		return string(name)
	}
	return ""
}

func trustedRulesOf(modules []*ast.Module) map[string][]*ast.Rule {
	rules := map[string][]*ast.Rule{}
	for _, m := range modules {
		for _, r := range m.Rules {
			if name := trustedRule(r.Ref()); name != "" {
				rules[name] = append(rules[name], r)
			}
		}
	}
	return rules
}

// routeMatchOnly reports whether the policy reads the method and the path
// only to match the candidates, as the shipped policy does (see above).
// parsed are the modules as parsed, compiled as the compiler left them.
func routeMatchOnly(parsed []*ast.Module, compiled map[string]*ast.Module) bool {
	return sameTrustedRules(parsed) && trustedRulesContained(compiled)
}

// sameTrustedRules is part 1 of the proof.
func sameTrustedRules(parsed []*ast.Module) bool {
	want := shippedMatcher()
	if want.err != nil {
		return false
	}
	for _, m := range parsed {
		if len(m.Package.Path) > len(authzPath) && refMayReachTrusted(m.Package.Path) {
			return false // a package named like a trusted rule
		}
		for _, r := range m.Rules {
			if name := trustedRule(r.Ref()); name != "" && !slices.EqualFunc(m.Imports, want.imports, (*ast.Import).Equal) {
				return false
			}
			if trustedRule(r.Ref()) == "" && refMayReachTrusted(r.Ref()) {
				return false // a rule with a variable in its head could define one
			}
		}
	}
	got := trustedRulesOf(parsed)
	for _, name := range append(slices.Clone(matcherRules), candidateRules...) {
		if !sameRules(got[name], want.rules[name]) {
			return false
		}
	}
	return true
}

func sameRules(a, b []*ast.Rule) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, (*ast.Rule).Compare)
	slices.SortFunc(b, (*ast.Rule).Compare)
	return slices.EqualFunc(a, b, (*ast.Rule).Equal)
}

// refMayReach reports whether ref may name target or a document below or
// above it: it does not diverge from target at a ground term before one of
// them ends, or a variable could take target's term there.
func refMayReach(ref, target ast.Ref) bool {
	if len(ref) == 0 || !ref[0].Equal(target[0]) {
		return false // the head is a variable (data, input, a local) or a call
	}
	for i := 1; i < min(len(ref), len(target)); i++ {
		if !ref[i].IsGround() {
			return true
		}
		if !ref[i].Equal(target[i]) {
			return false
		}
	}
	return true
}

// refMayReachTrusted reports whether ref may name a trusted rule without
// naming it by its name (data.certgate.authz, data.certgate[x], data).
func refMayReachTrusted(ref ast.Ref) bool {
	if !refMayReach(ref, authzPath) {
		return false
	}
	if len(ref) <= len(authzPath) {
		return true
	}
	next := ref[len(authzPath)]
	if !next.IsGround() { // data.certgate.authz[x]
		return true
	}
	name, ok := next.Value.(ast.String)
	if !ok {
		return false
	}
	return slices.Contains(matcherRules, string(name)) || slices.Contains(candidateRules, string(name))
}

// trustedRulesContained is parts 2 and 3 of the proof, on the compiled
// modules, where every reference to a rule is a full data reference.
func trustedRulesContained(compiled map[string]*ast.Module) bool {
	for _, m := range compiled {
		for _, r := range m.Rules {
			if !ruleContained(r, trustedRule(r.Ref())) {
				return false
			}
		}
	}
	return true
}

// ruleContained checks the references of rule r, which is the trusted rule
// called name, or an untrusted one when name is "".
func ruleContained(r *ast.Rule, name string) bool {
	inMatcher := slices.Contains(matcherRules, name)
	ok := true
	var vis *ast.GenericVisitor
	vis = ast.NewGenericVisitor(func(x any) bool {
		if !ok {
			return true
		}
		switch x := x.(type) {
		case *ast.With:
			ok = false
		case ast.Var:
			if x.Equal(ast.InputRootDocument.Value) && !inMatcher {
				ok = false // input as a whole
			}
		case ast.Ref:
			if !refContained(x, name, inMatcher) {
				ok = false
			}
			// Walk the operands (input.a[input.b]) but not the head again.
			for _, t := range x[1:] {
				vis.Walk(t)
			}
			if _, isVar := x[0].Value.(ast.Var); !isVar {
				vis.Walk(x[0])
			}
			return true
		}
		return false
	})
	vis.Walk(r)
	return ok
}

// refContained checks one reference made by the rule name (see ruleContained).
func refContained(x ast.Ref, name string, inMatcher bool) bool {
	switch {
	case x.HasPrefix(ast.InputRootRef):
		return inMatcher || refFields(x)&(fieldMethod|fieldPath) == 0
	case !x.HasPrefix(ast.DefaultRootRef):
		return true
	}
	target := trustedRule(x)
	switch {
	case target == "" && refMayReachTrusted(x):
		return false
	case target == "" && name != "":
		// The trusted rules read nothing else but the route table.
		return !inMatcher && x.Equal(routeTableRef)
	case slices.Contains(matcherRules, target):
		return inMatcher || name == "matched_routes"
	}
	return true
}

// authzData reports whether the data files put anything under
// data.certgate.authz, beside the rules the proof is about: the route key
// is then not used.
func authzData(data map[string]any) bool {
	certgate, ok := data["certgate"].(map[string]any)
	if !ok {
		return false
	}
	_, ok = certgate["authz"]
	return ok
}
