package policy

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	shipped "github.com/certgate/certgate/rego"
)

// shippedFS is the shipped policy and data with authz.rego changed by
// replace (old, new pairs) and extra files added.
func shippedFS(tb testing.TB, replace []string, extra map[string]string) fstest.MapFS {
	tb.Helper()
	fsys := fstest.MapFS{}
	for _, name := range []string{"authz.rego", "admin.rego", "data.json"} {
		b, err := shipped.Default.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	authz := string(fsys["authz.rego"].Data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(authz, replace[i]) {
			tb.Fatalf("authz.rego has no %q", replace[i])
		}
		authz = strings.Replace(authz, replace[i], replace[i+1], 1)
	}
	fsys["authz.rego"] = &fstest.MapFile{Data: []byte(authz)}
	for name, src := range extra {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return fsys
}

// echoPath makes the shipped policy's allow echo the path in a header.
var echoPath = []string{`"headers": {"x-certgate-permission": permission},`,
	`"headers": {"x-certgate-permission": permission, "x-path": input.request.path},`}

// noSecretSegment makes the shipped matcher stricter than the index: a
// "*" no longer matches the segment "secret".
var noSecretSegment = []string{`segment_matches("*", s) if s != ""`,
	`segment_matches("*", s) if {
	s != ""
	s != "secret"
}`}

func TestRouteMatchOnly(t *testing.T) {
	const authz = "package certgate.authz\n\n"
	tests := []struct {
		name    string
		replace []string
		extra   map[string]string
		want    bool
	}{
		{name: "the shipped policy reads the path only to match routes", want: true},
		{name: "other fields read elsewhere are keyed as before", want: true, extra: map[string]string{
			"x.rego": authz + "q := input.request.query\n\nr := input.request.raw_path\n\nh := input.request.host",
		}},
		{name: "the matched routes may be read anywhere", want: true, extra: map[string]string{
			"x.rego": "package other\n\nn := count(data.certgate.authz.matched_routes)",
		}},
		{name: "a decision echoing the path", replace: echoPath},
		{name: "a stricter matcher than the index", replace: noSecretSegment},
		{name: "a matcher rule defined once more in another file", extra: map[string]string{
			"x.rego": authz + "path_matches(p) if startswith(input.request.path, p)",
		}},
		{name: "a matcher rule called by another rule", extra: map[string]string{
			"x.rego": authz + `x if path_matches("/a")`,
		}},
		{name: "a matcher value read by another rule", extra: map[string]string{
			"x.rego": "package other\n\nx := data.certgate.authz.request_segments",
		}},
		{name: "the whole package read", extra: map[string]string{
			"x.rego": "package other\n\nx := data.certgate.authz",
		}},
		{name: "a variable key that may name a matcher rule", extra: map[string]string{
			"x.rego": "package other\n\nx contains k if some k, _ in data.certgate",
		}},
		{name: "a with anywhere", extra: map[string]string{
			"x.rego": "package other\n\nx if data.certgate.authz.decision.allow with input.route_candidates as []",
		}},
		{name: "the request read whole", extra: map[string]string{
			"x.rego": "package other\n\nx := input.request",
		}},
		{name: "the method read by another rule", extra: map[string]string{
			"x.rego": "package other\n\nx if input.request.method == \"GET\"",
		}},
		{name: "data under the policy's package", extra: map[string]string{
			"certgate/authz/data.json": `{"note": "x"}`,
		}},
		{name: "a rule shadowing a built-in the matcher calls", extra: map[string]string{
			"x.rego": authz + "upper(x) := x",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := LoadFS(t.Context(), shippedFS(t, tt.replace, tt.extra))
			if err != nil {
				t.Fatalf("LoadFS: %v", err)
			}
			if e.routeKeyed != tt.want {
				t.Errorf("routeKeyed = %v, want %v", e.routeKeyed, tt.want)
			}
		})
	}
}

// TestDecideRemembersByRoute: with the shipped policy one decision serves
// every id in a wildcard route, and every path no route matches.
func TestDecideRemembersByRoute(t *testing.T) {
	e := loadShipped(t)
	if !e.routeKeyed {
		t.Fatal("the shipped policy is not keyed by route")
	}
	const n = 50
	for i := range n {
		runner := func(path string) *Input { return request("runner", []string{"builders"}, "GET", path) }
		steps := []struct {
			in   *Input
			want Decision
		}{
			{runner(fmt.Sprintf("/registry/pull/image-%d", i)), allowed("pull_vm")},
			{runner(fmt.Sprintf("/registry/download/image-%d/layer/%d", i, i)), allowed("download_vm")},
			{runner(fmt.Sprintf("/registry/nothing/%d", i)), noRoute},
			{runner(fmt.Sprintf("/registry/pull/image-%d/", i)), noRoute},
			{request("runner", []string{"builders"}, "DELETE", fmt.Sprintf("/registry/vm/image-%d", i)), missing("delete_vm")},
		}
		for _, s := range steps {
			got, err := e.Decide(t.Context(), s.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s.want, got); diff != "" {
				t.Fatalf("%s %s (-want +got):\n%s", s.in.Request.Method, s.in.Request.Path, diff)
			}
		}
	}
	// Four keys: pull, download, no route (both paths), delete.
	if diff := cmp.Diff(CacheStats{Hits: 5*n - 4, Misses: 4, Entries: 4}, e.CacheStats()); diff != "" {
		t.Errorf("stats mismatch (-want +got):\n%s", diff)
	}
}

// TestDecideByPathWhenThePolicyReadsIt: a policy whose decision depends on
// the path beyond the matching routes keeps the path in the key, and a
// remembered allow never answers a path it would deny.
func TestDecideByPathWhenThePolicyReadsIt(t *testing.T) {
	t.Run("a stricter matcher", func(t *testing.T) {
		e, err := LoadFS(t.Context(), shippedFS(t, noSecretSegment, nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			path string
			want Decision
		}{
			{"/registry/pull/base", allowed("pull_vm")},
			{"/registry/pull/secret", noRoute},
			{"/registry/pull/base", allowed("pull_vm")},
			{"/registry/pull/secret", noRoute},
		} {
			got, err := e.Decide(t.Context(), request("runner", []string{"builders"}, "GET", step.path))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(step.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", step.path, diff)
			}
		}
	})
	t.Run("a decision echoing the path", func(t *testing.T) {
		e, err := LoadFS(t.Context(), shippedFS(t, echoPath, nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a", "b", "a"} {
			got, err := e.Decide(t.Context(), request("runner", []string{"builders"}, "GET", "/registry/pull/"+id))
			if err != nil {
				t.Fatal(err)
			}
			if got.Headers["x-path"] != "/registry/pull/"+id {
				t.Errorf("id %s: x-path %q", id, got.Headers["x-path"])
			}
		}
	})
}
