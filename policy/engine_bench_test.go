package policy

import (
	"encoding/json"
	"fmt"
	"testing"
	"testing/fstest"

	shipped "github.com/certgate/certgate/rego"
)

func BenchmarkDecide(b *testing.B) {
	e := loadShipped(b)
	in := request("runner", []string{"ci", "builders"}, "GET", "/registry/pull/base-image")
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideRoutes measures how decisions scale with the route table:
// the shipped policy compiled with n synthetic routes, the matching one last.
func BenchmarkDecideRoutes(b *testing.B) {
	policy, err := shipped.Default.ReadFile("authz.rego")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{40, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			routes := make([]map[string]string, n)
			for i := range routes {
				routes[i] = map[string]string{
					"permission": fmt.Sprintf("perm_%d", i),
					"method":     "GET",
					"path":       fmt.Sprintf("/api/v1/resource%d/*/items/**", i),
				}
			}
			data, err := json.Marshal(map[string]any{"certgate": map[string]any{
				"routes": routes,
				"groups": map[string][]string{"ci": {fmt.Sprintf("perm_%d", n-1)}},
			}})
			if err != nil {
				b.Fatal(err)
			}
			e, err := LoadFS(b.Context(), fstest.MapFS{
				"authz.rego": {Data: policy},
				"data.json":  {Data: data},
			})
			if err != nil {
				b.Fatal(err)
			}
			in := request("runner", []string{"ci"}, "GET", fmt.Sprintf("/api/v1/resource%d/x/items/a/b", n-1))
			want := allowed(fmt.Sprintf("perm_%d", n-1))
			if got, err := e.Decide(b.Context(), in); err != nil || got.Permission != want.Permission {
				b.Fatalf("Decide = %+v, %v; want %+v", got, err, want)
			}
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Decide(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
