package server

import (
	"testing"

	"github.com/certgate/certgate/config"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/policy"
)

// TestDecisionCacheOptionsReachTheEngines: cache.decisions configures the
// decision cache of the policy and of the shadow policy a snapshot loads;
// left 0 it is on with the defaults, negative it is off.
func TestDecisionCacheOptionsReachTheEngines(t *testing.T) {
	w := newDiskWorld(t)
	dir := t.TempDir()
	w.write(t, dir, dir, version{})
	in := &policy.Input{Identity: &identity.Identity{User: "alice", Groups: []string{"viewers"}},
		Request: policy.Request{Method: "GET", Path: "/api/v1/vm"}}
	for _, tc := range []struct {
		name   string
		cache  config.DecisionCache
		cached bool
	}{
		{"defaults", config.DecisionCache{}, true},
		{"bounded", config.DecisionCache{MaxEntries: 10, MaxBytes: 1 << 20}, true},
		{"entries off", config.DecisionCache{MaxEntries: -1}, false},
		{"bytes off", config.DecisionCache{MaxBytes: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := Inputs{Trust: w.trustConfig(dir), Policy: PolicyDir(dir), Shadow: dir, PolicyOptions: DecisionCacheOptions(tc.cache)}
			snap, err := src.Load(t.Context(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if snap.Shadow == nil {
				t.Fatalf("no shadow: %v", snap.ShadowErr)
			}
			for name, e := range map[string]*policy.Engine{"policy": snap.Policy, "shadow": snap.Shadow} {
				for range 2 {
					if _, err := e.Decide(t.Context(), in); err != nil {
						t.Fatal(err)
					}
				}
				st := e.CacheStats()
				if got := st.Hits == 1 && st.Misses == 1; got != tc.cached {
					t.Errorf("%s: stats %+v after deciding twice; want cached %v", name, st, tc.cached)
				}
			}
		})
	}
}
