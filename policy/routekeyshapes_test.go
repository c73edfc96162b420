package policy

import "testing"

// TestRouteKeyNeverSharesADecisionThePathChanges: the shipped policy with
// one more way to grant pull_vm that depends on the path beyond the route
// it matches (/registry/pull/* either way). Whatever way the extra rule
// reaches the path, a remembered decision for one id must never answer the
// other: the engine keys on the path, or does not remember.
func TestRouteKeyNeverSharesADecisionThePathChanges(t *testing.T) {
	const authz = "package certgate.authz\n\n"
	viaOther := authz + `permitted("pull_vm") if data.other.public`
	tests := []struct {
		name, src string
		other     string // y.rego, when the rule lives in package other
	}{
		// name, x.rego, y.rego
		{"the path read directly", authz + `permitted("pull_vm") if startswith(input.request.path, "/registry/pull/public")`, ""},
		{"the request through object.get", authz + `permitted("pull_vm") if startswith(object.get(input.request, "path", ""), "/registry/pull/public")`, ""},
		{"the input through json.marshal", authz + `permitted("pull_vm") if contains(json.marshal(input), "/registry/pull/public")`, ""},
		{"the input through walk", authz + `permitted("pull_vm") if walk(input, [["request", "path"], "/registry/pull/public"])`, ""},
		{"a template string", authz + `permitted("pull_vm") if $"{input.request.path}" == "/registry/pull/public"`, ""},
		{"the matcher's segments", authz + `permitted("pull_vm") if request_segments[3] == "public"`, ""},
		{"the matcher's segments from another package", "package other\n\npublic if data.certgate.authz.request_segments[3] == \"public\"", viaOther},
		{"a function given the request", authz + "is_public(r) if r.path == \"/registry/pull/public\"\n\npermitted(\"pull_vm\") if is_public(input.request)", ""},
		{"a rule of another package", "package other\n\npublic if input.request.path == \"/registry/pull/public\"", viaOther},
		{"a ref head from the parent package", "package certgate\n\nauthz.permitted(\"pull_vm\") if input.request.path == \"/registry/pull/public\"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := map[string]string{"x.rego": tt.src}
			if tt.other != "" {
				extra["y.rego"] = tt.other
			}
			e, err := LoadFS(t.Context(), shippedFS(t, nil, extra))
			if err != nil {
				t.Fatalf("LoadFS: %v", err)
			}
			public := func() *Input { return request("stranger", nil, "GET", "/registry/pull/public") }
			private := func() *Input { return request("stranger", nil, "GET", "/registry/pull/private") }
			for round := range 2 {
				for _, step := range []struct {
					in    func() *Input
					allow bool
				}{{public, true}, {private, false}, {public, true}} {
					d, err := e.Decide(t.Context(), step.in())
					if err != nil {
						t.Fatalf("Decide: %v", err)
					}
					if d.Allow != step.allow {
						t.Fatalf("round %d: %s allow = %v, want %v (routeKeyed %v)", round, step.in().Request.Path, d.Allow, step.allow, e.routeKeyed)
					}
				}
			}
		})
	}
}
