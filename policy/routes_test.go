package policy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	shipped "github.com/certgate/certgate/rego"
)

func TestRouteIndexCandidates(t *testing.T) {
	ix := newRouteIndex(ast.MustParseTerm(`[
		{"permission": "a", "method": "GET", "path": "/items"},
		{"permission": "b", "method": "get", "path": "/items/*"},
		{"permission": "c", "method": "*", "path": "/items/*"},
		{"permission": "d", "method": "GET", "path": "/files/**"},
		{"permission": "e", "method": "GET", "path": "/"},
		{"permission": "f", "method": "GET", "path": "/**"},
		{"permission": "g", "method": "GET", "path": "/a/*/c/**"},
		{"permission": "h", "method": "GET", "path": "/items"},
		{"permission": "i", "method": 1, "path": "/items"},
		{"permission": "j", "method": "GET"},
		"not a route",
		{"permission": "k", "method": "GET", "path": "/x*y/**/z"}
	]`).Value)
	tests := []struct {
		method, path string
		want         string // permissions of the candidates, in table order
	}{
		{"GET", "/items", "a f h"},
		{"GET", "/items/1", "b c f"},
		{"POST", "/items/1", "c"},
		{"get", "/items/1", "c"},
		{"GET", "/items/", ""},
		{"GET", "/", "e"},
		{"GET", "//", ""},
		{"GET", "/files", "f"},
		{"GET", "/files/a", "d f"},
		{"GET", "/files/a/b", "d f"},
		{"GET", "/files/a/", ""},
		{"GET", "/files//a", ""},
		{"GET", "/a/b/c", "f"},
		{"GET", "/a/b/c/d", "f g"},
		{"GET", "/a//c/d", ""},
		{"GET", "/x*y/**/z", "f k"},
		{"DELETE", "/nowhere", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var got []string
			ix.candidates(tt.method, tt.path).Value.(*ast.Array).Foreach(func(r *ast.Term) {
				got = append(got, string(r.Value.(ast.Object).Get(ast.StringTerm("permission")).Value.(ast.String)))
			})
			if diff := cmp.Diff(strings.Fields(tt.want), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("candidates mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRouteIndexOnlyForArrays(t *testing.T) {
	if ix := newRouteIndex(ast.MustParseTerm(`{"a": {"method": "GET", "path": "/"}}`).Value); ix != nil {
		t.Errorf("newRouteIndex(object) = %v, want nil: the policy must scan it", ix)
	}
}

// TestRouteIndexAgreesWithThePolicy compares, for random route tables and
// requests, the routes the index offers with the routes the policy matches
// when it scans the whole table, and the decisions made both ways.
func TestRouteIndexAgreesWithThePolicy(t *testing.T) {
	policy, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	segments := []string{"a", "b", "", "*", "**"}
	methods := []string{"GET", "POST", "get", "*"}
	randomPath := func(pattern bool) string {
		n := rng.IntN(4)
		parts := []string{""}
		for range n {
			s := segments[rng.IntN(len(segments))]
			if !pattern && (s == "*" || s == "**") && rng.IntN(2) == 0 {
				s = "a"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "/")
	}
	for table := range 20 {
		var routes []map[string]string
		for i := range 30 {
			routes = append(routes, map[string]string{
				"permission": fmt.Sprintf("p%d", i),
				"method":     methods[rng.IntN(len(methods))],
				"path":       randomPath(true),
			})
		}
		data, err := json.Marshal(map[string]any{"certgate": map[string]any{
			"routes": routes, "groups": map[string][]string{"g": {"p1", "p3", "p5", "p7"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		e, err := LoadFS(t.Context(), fstest.MapFS{"authz.rego": {Data: policy}, "data.json": {Data: data}}, WithDecisionCache(0))
		if err != nil {
			t.Fatalf("table %d: LoadFS: %v", table, err)
		}
		if e.routes == nil {
			t.Fatalf("table %d: no route index", table)
		}
		// The same table with the decision memo, keyed on the matching
		// routes: its decisions must be the scan's too.
		memoized, err := LoadFS(t.Context(), fstest.MapFS{"authz.rego": {Data: policy}, "data.json": {Data: data}})
		if err != nil {
			t.Fatalf("table %d: LoadFS: %v", table, err)
		}
		if !memoized.routeKeyed {
			t.Fatalf("table %d: decisions are not keyed on the routes", table)
		}
		for range 50 {
			in := request("u", []string{"g"}, []string{"GET", "POST", "PUT"}[rng.IntN(3)], randomPath(false))
			scanned, err := evalValue(t.Context(), e.matched.pq, rego.EvalParsedInput(in.value()))
			if err != nil {
				t.Fatalf("matched_routes: %v", err)
			}
			offered := ast.NewSet()
			e.routes.candidates(in.Request.Method, in.Request.Path).Value.(*ast.Array).Foreach(offered.Add)
			if scanned.Compare(offered) != 0 {
				t.Fatalf("table %s\n%s %s: index offers %v, policy matches %v", data, in.Request.Method, in.Request.Path, offered, scanned)
			}
			viaIndex, err := e.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			v, err := evalValue(t.Context(), e.decision, rego.EvalParsedInput(in.value()))
			if err != nil {
				t.Fatal(err)
			}
			viaScan, err := decodeDecision(v)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(viaScan, viaIndex); diff != "" {
				t.Fatalf("%s %s: decision with the index differs from the scan (-scan +index):\n%s", in.Request.Method, in.Request.Path, diff)
			}
			viaMemo, err := memoized.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(viaScan, viaMemo); diff != "" {
				t.Fatalf("%s %s: remembered decision differs from the scan (-scan +memo):\n%s", in.Request.Method, in.Request.Path, diff)
			}
		}
	}
}

func TestRoutesFromRulesAreNotIndexed(t *testing.T) {
	policy, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		t.Fatal(err)
	}
	e, err := LoadFS(t.Context(), fstest.MapFS{
		"authz.rego": {Data: policy},
		"routes.rego": {Data: []byte(`package certgate

# Without input (at load) this is [{... "path": "/home/nobody"}].
routes := [{"permission": "own", "method": "GET", "path": concat("/", ["", "home", home_user])}]

default home_user := "nobody"

home_user := input.identity.user
`)},
		"data.json": {Data: []byte(`{"certgate": {"groups": {"g": ["own"]}}}`)},
	})
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	if e.routes != nil {
		t.Error("routes defined by a rule were indexed")
	}
	d, err := e.Decide(t.Context(), request("alice", []string{"g"}, "GET", "/home/alice"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(allowed("own"), d); diff != "" {
		t.Errorf("Decide mismatch (-want +got):\n%s", diff)
	}
}
