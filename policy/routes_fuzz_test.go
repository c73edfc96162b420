package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	shipped "github.com/certgate/certgate/rego"
)

// FuzzRouteIndexMatchesThePolicy holds the route index to the shipped
// policy: for a route table and a request, the routes the index finds must
// be exactly the routes data.certgate.authz.matched_routes matches when
// the real policy scans the whole table (given as input.route_candidates,
// so it compares every route). The decision memo is keyed on the index's
// result (Engine.routeKeyed) on the strength of this equality: a route the
// index offered and the policy would not match would be a wrong allow.
//
// table is one route per line, "METHOD PATH"; a line without a space is a
// route without a path, and a line "!" an entry that is not an object.
// Besides path, the request is tried with each route's method and with
// paths made from each pattern: the pattern itself, its wildcards filled
// with segments of path, and each of those with a trailing slash.
func FuzzRouteIndexMatchesThePolicy(f *testing.F) {
	data, err := shipped.Default.ReadFile("data.json")
	if err != nil {
		f.Fatal(err)
	}
	var shippedTable strings.Builder
	ast.MustParseTerm(string(data)).Value.(ast.Object).Get(ast.StringTerm("certgate")).Value.(ast.Object).
		Get(ast.StringTerm("routes")).Value.(*ast.Array).Foreach(func(r *ast.Term) {
		m, _ := stringAt(r.Value.(ast.Object), "method")
		p, _ := stringAt(r.Value.(ast.Object), "path")
		shippedTable.WriteString(m + " " + p + "\n")
	})
	// The shipped table is longer than maxFuzzRoutes: its first and its
	// last routes are seeds of their own.
	lines := strings.Split(strings.TrimSuffix(shippedTable.String(), "\n"), "\n")
	head := strings.Join(lines[:min(maxFuzzRoutes, len(lines))], "\n")
	tail := strings.Join(lines[max(0, len(lines)-maxFuzzRoutes):], "\n")
	seeds := []struct{ table, method, path string }{
		{tail, "GET", "/registry/pull/base-image"},
		{tail, "GET", "/registry/download/a/b/c"},
		{tail, "GET", "/registry/files/"},
		{head, "PUT", "/api/v1/permission-groups/*"},
		{head, "GET", "/api/v1/logs/a/../b"},
		{"GET /a/*\nget /a/b\n* /a/**\nPOST /a/*/c/**", "GET", "/a/b"},
		{"GET /a/*\n* /**\nGET /", "GET", "/a/../b"},
		{"GET /a/./*\nGET /a/*/.", "GET", "/a/./."},
		{"GET /a/*\nGET /a%2Fb", "GET", "/a%2Fb"},
		{"GET /a/*/\nGET /a//b\nGET //**", "GET", "//a/"},
		{"GET /ünï/*\nǅ /ünï/**\nǆ /x", "Ǆ", "/ünï/cödé"},
		{"GET *\nGET **\nGET \n* /**/**\nGET /x*y/**", "GET", "**"},
		{"!\nGET\nDELETE /a/**", "DELETE", "/a/b//c"},
		{"GET /a/*", "GET", "/a/\xff"},
	}
	for _, s := range seeds {
		f.Add(s.table, s.method, s.path)
	}
	// Only matched_routes of the real policy is prepared (not a whole
	// Engine): each fuzzing worker compiles it once, under the fuzzer's
	// coverage counters.
	src, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		f.Fatal(err)
	}
	matched, err := rego.New(rego.Query(matchedQuery), rego.SetRegoVersion(ast.RegoV1),
		rego.Module("authz.rego", string(src))).PrepareForEval(f.Context())
	if err != nil {
		f.Fatal(err)
	}
	id := request("u", []string{"g"}, "GET", "/").Identity
	f.Fuzz(func(t *testing.T, table, method, path string) {
		if len(table) > maxFuzzTable || len(path) > maxFuzzPath || len(method) > maxFuzzPath {
			return // a long path costs the policy time per segment, and finds nothing a short one misses
		}
		routes, methods, patterns := parseRouteTable(table)
		ix := newRouteIndex(routes.Value)
		for _, m := range firstDistinct(append([]string{method}, methods...), maxFuzzMethods) {
			for _, p := range requestPaths(path, patterns) {
				in := &Input{Identity: id, Request: Request{Method: m, Path: p}}
				scanned, err := evalValue(t.Context(), matched, rego.EvalParsedInput(in.valueOf(allFields, routes)))
				if err != nil {
					t.Fatalf("matched_routes: %v", err)
				}
				found := ast.NewSet()
				var buf [8]int
				ix.term(ix.match(m, p, buf[:0])).Value.(*ast.Array).Foreach(found.Add)
				if scanned.Compare(found) != 0 {
					t.Fatalf("table\n%s\n%q %q: the index finds %v, the policy matches %v", table, m, p, found, scanned)
				}
			}
		}
	})
}

// A fuzzed table has at most maxFuzzRoutes routes; the requests tried for
// one input take at most maxFuzzMethods methods and the paths made from
// at most maxFuzzPatterns patterns, so that one input is a few dozen
// evaluations (the fuzzer's coverage counters slow OPA down a lot).
const (
	maxFuzzTable    = 2048
	maxFuzzPath     = 256
	maxFuzzRoutes   = 24
	maxFuzzMethods  = 3
	maxFuzzPatterns = 4
)

// firstDistinct is the first n distinct strings of ss.
func firstDistinct(ss []string, n int) []string {
	var out []string
	for _, s := range ss {
		if len(out) == n {
			break
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// parseRouteTable reads FuzzRouteIndexMatchesThePolicy's table.
func parseRouteTable(table string) (routes *ast.Term, methods, patterns []string) {
	var terms []*ast.Term
	for i, line := range strings.Split(table, "\n") {
		if i == maxFuzzRoutes {
			break
		}
		if line == "!" {
			terms = append(terms, ast.StringTerm("not a route"))
			continue
		}
		perm := [2]*ast.Term{ast.StringTerm("permission"), ast.StringTerm("p" + string(rune('a'+i%26)))}
		method, pattern, ok := strings.Cut(line, " ")
		methods = append(methods, method)
		if !ok {
			terms = append(terms, ast.ObjectTerm(perm, [2]*ast.Term{ast.StringTerm("method"), ast.StringTerm(method)}))
			continue
		}
		patterns = append(patterns, pattern)
		terms = append(terms, ast.ObjectTerm(perm,
			[2]*ast.Term{ast.StringTerm("method"), ast.StringTerm(method)},
			[2]*ast.Term{ast.StringTerm("path"), ast.StringTerm(pattern)}))
	}
	return ast.ArrayTerm(terms...), methods, patterns
}

// requestPaths are path and the paths made from each pattern (see
// FuzzRouteIndexMatchesThePolicy).
func requestPaths(path string, patterns []string) []string {
	fill := strings.Split(path, "/")
	paths := []string{path, path + "/"}
	for _, pattern := range firstDistinct(patterns, maxFuzzPatterns) {
		segments := strings.Split(pattern, "/")
		for i, s := range segments {
			switch s {
			case "*":
				segments[i] = fill[i%len(fill)]
			case "**":
				segments[i] = strings.Trim(path, "/")
			}
		}
		filled := strings.Join(segments, "/")
		paths = append(paths, pattern, filled, filled+"/")
	}
	return firstDistinct(paths, len(paths))
}
