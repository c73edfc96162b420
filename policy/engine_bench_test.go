package policy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	shipped "github.com/certgate/certgate/rego"
)

// BenchmarkDecide is one decision of the shipped policy: remembered (hit),
// decided and remembered under a key not seen before (miss), and decided
// with the cache disabled (uncached).
func BenchmarkDecide(b *testing.B) {
	in := request("runner", []string{"ci", "builders"}, "GET", "/registry/pull/base-image")
	b.Run("hit", func(b *testing.B) {
		e := loadShipped(b)
		benchDecide(b, e, func(int) *Input { return in })
		if st := e.CacheStats(); st.Misses != 1 {
			b.Fatalf("CacheStats = %+v, want one miss", st)
		}
	})
	b.Run("miss", func(b *testing.B) {
		e := loadShipped(b)
		// Distinct paths, all matching /registry/pull/*: every lookup misses
		// and every decision is stored, evicting once the cache is full.
		ins := make([]*Input, 4*DefaultDecisionCacheSize)
		for i := range ins {
			ins[i] = request("runner", []string{"ci", "builders"}, "GET", fmt.Sprintf("/registry/pull/image-%d", i))
		}
		benchDecide(b, e, func(i int) *Input { return ins[i%len(ins)] })
		if st := e.CacheStats(); st.Hits != 0 && b.N > len(ins) {
			b.Logf("CacheStats = %+v", st)
		}
	})
	b.Run("fresh-id", func(b *testing.B) {
		// A new id on every call, as a fleet pulling images sends them: the
		// cost a request pays when its path's variable part was never seen.
		e := loadShipped(b)
		benchDecide(b, e, func(i int) *Input {
			return request("runner", []string{"ci", "builders"}, "GET", "/registry/pull/"+strconv.Itoa(i))
		})
	})
	b.Run("uncached", func(b *testing.B) {
		e, err := Load(b.Context(), "", WithDecisionCache(0))
		if err != nil {
			b.Fatal(err)
		}
		benchDecide(b, e, func(int) *Input { return in })
	})
}

func benchDecide(b *testing.B, e *Engine, next func(int) *Input) {
	b.Helper()
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d, err := e.Decide(ctx, next(i))
		if err != nil {
			b.Fatal(err)
		}
		if !d.Allow {
			b.Fatalf("Decide = %+v, want allow", d)
		}
		i++
	}
}

// BenchmarkDecideRoutes measures how an uncached decision scales with the
// route table: the shipped policy with n synthetic pattern routes, the
// matching one last, and as many literal routes again.
func BenchmarkDecideRoutes(b *testing.B) {
	policy, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{40, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e, err := LoadFS(b.Context(), fstest.MapFS{
				"authz.rego": {Data: policy},
				"data.json":  {Data: syntheticRoutes(b, n)},
			}, WithDecisionCache(0))
			if err != nil {
				b.Fatal(err)
			}
			in := request("runner", []string{"ci"}, "GET", fmt.Sprintf("/api/v1/resource%d/x/items/a/b", n-1))
			want := allowed(fmt.Sprintf("perm_%d", n-1))
			if got, err := e.Decide(b.Context(), in); err != nil || got.Permission != want.Permission {
				b.Fatalf("Decide = %+v, %v; want %+v", got, err, want)
			}
			benchDecide(b, e, func(int) *Input { return in })
		})
	}
}

// syntheticRoutes is a data.json with n pattern routes
// (GET /api/v1/resource<i>/*/items/**) and n literal ones, the group ci
// holding the last pattern route's permission.
func syntheticRoutes(tb testing.TB, n int) []byte {
	tb.Helper()
	routes := make([]map[string]string, 0, 2*n)
	for i := range n {
		routes = append(routes, map[string]string{
			"permission": fmt.Sprintf("perm_%d", i),
			"method":     "GET",
			"path":       fmt.Sprintf("/api/v1/resource%d/*/items/**", i),
		}, map[string]string{
			"permission": fmt.Sprintf("lit_%d", i),
			"method":     []string{"GET", "POST", "PUT", "DELETE"}[i%4],
			"path":       fmt.Sprintf("/api/v1/literal%d", i),
		})
	}
	data, err := json.Marshal(map[string]any{"certgate": map[string]any{
		"routes": routes,
		"groups": map[string][]string{"ci": {fmt.Sprintf("perm_%d", n-1)}},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkDecideDepth weighs the alternative to keying the memo by
// route: a policy that evaluates in shallow, constant depth. Uncached
// decisions of GET /registry/pull/<id> by the shipped policy and by one
// that takes the candidates as matched without re-matching them (what a
// shallow policy would do; not shipped: opa test could no longer check the
// matching), each on the benchmark's goroutine (stack already grown) and
// on a fresh goroutine per decision, as a gRPC server without stream
// workers runs them (the stack regrows every time).
func BenchmarkDecideDepth(b *testing.B) {
	policy, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		b.Fatal(err)
	}
	data, err := shipped.Default.ReadFile("data.json")
	if err != nil {
		b.Fatal(err)
	}
	shallow := strings.Replace(string(policy), `	some route in routes_to_match
	method_matches(route.method)
	path_matches(route.path)`, `	some route in routes_to_match`, 1)
	if shallow == string(policy) {
		b.Fatal("the matcher of matched_routes moved")
	}
	for _, p := range []struct{ name, rego string }{{"shipped", string(policy)}, {"shallow", shallow}} {
		e, err := LoadFS(b.Context(), fstest.MapFS{
			"authz.rego": {Data: []byte(p.rego)},
			"data.json":  {Data: data},
		}, WithDecisionCache(0))
		if err != nil {
			b.Fatal(err)
		}
		next := func(i int) *Input {
			return request("runner", []string{"ci", "builders"}, "GET", "/registry/pull/"+strconv.Itoa(i))
		}
		b.Run(p.name+"/same-goroutine", func(b *testing.B) { benchDecide(b, e, next) })
		b.Run(p.name+"/fresh-goroutine", func(b *testing.B) {
			ctx := b.Context()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				in := next(i)
				done := make(chan error, 1)
				go func() {
					d, err := e.Decide(ctx, in)
					if err == nil && !d.Allow {
						err = fmt.Errorf("Decide = %+v, want allow", d)
					}
					done <- err
				}()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
