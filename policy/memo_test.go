package policy

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/identity"
)

func TestMemoRemembersAndCounts(t *testing.T) {
	m := newMemo(16, DefaultDecisionCacheBytes)
	d := func(s string) Decision { return Decision{Reason: s} }
	m.put([]byte("a"), d("a"))
	m.put([]byte("b"), d("b"))
	m.put([]byte("a"), d("other")) // decided concurrently: the first stays
	for key, want := range map[string]bool{"a": true, "b": true, "c": false} {
		got, ok := m.get([]byte(key))
		if ok != want || (ok && got.Reason != key) {
			t.Errorf("get(%s) = %+v, %v; want found %v", key, got, ok, want)
		}
	}
	if diff := cmp.Diff(CacheStats{Hits: 2, Misses: 1, Entries: 2}, m.stats()); diff != "" {
		t.Errorf("stats mismatch (-want +got):\n%s", diff)
	}
}

func TestMemoStaysWithinItsSize(t *testing.T) {
	for _, size := range []int{1, 7, 16, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			m := newMemo(size, DefaultDecisionCacheBytes)
			for i := range 10 * size {
				m.put(fmt.Appendf(nil, "k%d", i), Decision{Reason: "granted"})
			}
			m.cache.CleanUp()
			if got := m.stats().Entries; got > size || got == 0 {
				t.Errorf("entries = %d after %d puts, want 1 to %d", got, 10*size, size)
			}
		})
	}
	for _, bounds := range [][2]int{{0, 1 << 20}, {-1, 1 << 20}, {100, 0}, {100, -1}} {
		if newMemo(bounds[0], bounds[1]) != nil {
			t.Errorf("newMemo(%d, %d) is not nil", bounds[0], bounds[1])
		}
	}
}

// TestMemoStaysWithinItsBytes: decisions near maxMemoDecision are held
// by the byte bound, far below the entry bound.
func TestMemoStaysWithinItsBytes(t *testing.T) {
	const maxBytes = 1 << 20
	m := newMemo(65_536, maxBytes)
	big := Decision{Reason: "granted", Headers: map[string]string{"x-echo": strings.Repeat("p", maxMemoDecision-100)}}
	if decisionSize(big) > maxMemoDecision {
		t.Fatalf("the test's decision (%d bytes) is over maxMemoDecision", decisionSize(big))
	}
	for i := range 10_000 {
		m.put(fmt.Appendf(nil, "k%d", i), big)
	}
	m.cache.CleanUp()
	n := m.stats().Entries
	if n == 0 {
		t.Fatal("no decision remembered")
	}
	if held := n * memoEntrySize(big); held > maxBytes {
		t.Errorf("%d decisions of %d bytes = %d bytes, over the bound of %d", n, memoEntrySize(big), held, maxBytes)
	}
	if w := m.cache.WeightedSize(); w > maxBytes {
		t.Errorf("weighted size %d over the bound of %d", w, maxBytes)
	}
}

// TestMemoKeepsHittingUnderRoundRobin: the fleet mix asks for more keys
// than fit, each in turn; an LRU would miss every time, W-TinyLFU keeps
// the ones it admitted.
func TestMemoKeepsHittingUnderRoundRobin(t *testing.T) {
	const size, keys, rounds = 1000, 3000, 10
	m := newMemo(size, DefaultDecisionCacheBytes)
	for range rounds {
		for i := range keys {
			k := fmt.Appendf(nil, "device-%d GET /api/v1/vm", i)
			if _, ok := m.get(k); !ok {
				m.put(k, Decision{Allow: true, Status: 200, Reason: "granted"})
			}
		}
	}
	m.cache.CleanUp()
	st := m.stats()
	if st.Entries > size {
		t.Errorf("entries = %d, over the bound of %d", st.Entries, size)
	}
	t.Logf("%+v", st)
	// Under LRU every lookup misses; at least half the share that fits
	// (size/keys) must hit.
	if rate := float64(st.Hits) / float64(st.Hits+st.Misses); rate < 0.5*size/keys {
		t.Errorf("hit rate %.3f (%+v) under a round robin over %d keys, %d fit", rate, st, keys, size)
	}
}

func TestMemoKeysDoNotCollide(t *testing.T) {
	in := func(user string, groups ...string) *Input {
		return &Input{Identity: &identity.Identity{User: user, Groups: groups}, Request: Request{Method: "GET", Path: "/"}}
	}
	fields := fieldsNamed("identity.user", "identity.groups") | fieldRouteCandidates
	pairs := [][2]*Input{
		{in("u", "a,b"), in("u", "a", "b")},
		{in("u", "ab"), in("u", "a", "b")},
		{in("ua"), in("u", "a")},
		{in("u"), in("u", "")},
	}
	for _, p := range pairs {
		a, b := appendKey(nil, p[0], fields), appendKey(nil, p[1], fields)
		if string(a) == string(b) {
			t.Errorf("%+v and %+v share the key %q", p[0].Identity, p[1].Identity, a)
		}
	}
	// The candidates stand for method and path.
	x, y := in("u"), in("u")
	y.Request.Path = "/x"
	if string(appendKey(nil, x, fields)) == string(appendKey(nil, y, fields)) {
		t.Error("two paths share a key although the policy reads the route candidates")
	}
}

func TestDecideRemembersDecisions(t *testing.T) {
	e := loadShipped(t)
	if diff := cmp.Diff(CacheStats{}, e.CacheStats()); diff != "" {
		t.Errorf("a fresh Engine's stats (-want +got):\n%s", diff)
	}
	steps := []struct {
		in   *Input
		want Decision
	}{
		{request("viewer", []string{"viewers"}, "GET", "/api/v1/vm"), allowed("list_vms")},
		{request("viewer", []string{"viewers"}, "GET", "/api/v1/vm"), allowed("list_vms")},
		// Fields the policy does not read do not split the key.
		{withHost(request("viewer", []string{"viewers"}, "GET", "/api/v1/vm"), "other.example"), allowed("list_vms")},
		{request("viewer", []string{"viewers"}, "POST", "/api/v1/vm"), missing("start_vm")},
		{request("viewer", []string{"ci"}, "POST", "/api/v1/vm"), allowed("start_vm")},
		{request("viewer", []string{"viewers"}, "POST", "/api/v1/vm"), missing("start_vm")},
	}
	for i, s := range steps {
		got, err := e.Decide(t.Context(), s.in)
		if err != nil {
			t.Fatalf("step %d: Decide: %v", i, err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("step %d: Decide mismatch (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff(CacheStats{Hits: 3, Misses: 3, Entries: 3}, e.CacheStats()); diff != "" {
		t.Errorf("stats mismatch (-want +got):\n%s", diff)
	}
}

func withHost(in *Input, host string) *Input {
	in.Request.Host = host
	return in
}

func TestDecideDoesNotRemember(t *testing.T) {
	headerPolicy := strings.Replace(minimalPolicy, "allow if input.identity.user in data.certgate.users",
		`allow if input.request.headers["x-allow"] == "yes"`, 1)
	timePolicy := strings.Replace(minimalPolicy, "allow if input.identity.user in data.certgate.users",
		`allow if time.now_ns() > 0`, 1)
	shippedPolicy, err := Load(t.Context(), "", WithDecisionCache(0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		e    *Engine
	}{
		{"with the cache disabled", shippedPolicy},
		{"a policy reading headers", mustLoad(t, headerPolicy)},
		{"a policy calling time.now_ns", mustLoad(t, timePolicy)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := request("alice", nil, "GET", "/api/v1/vm")
			in.Request.Headers = map[string]string{"x-allow": "yes"}
			for range 3 {
				if _, err := tt.e.Decide(t.Context(), in); err != nil {
					t.Fatalf("Decide: %v", err)
				}
			}
			if diff := cmp.Diff(CacheStats{}, tt.e.CacheStats()); diff != "" {
				t.Errorf("stats mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a key past the limit", func(t *testing.T) {
		e := loadShipped(t)
		// The shipped policy's key holds the user, the groups and the
		// matching routes (not the path): a long group name makes it long.
		in := request("viewer", []string{strings.Repeat("g", maxMemoKey)}, "GET", "/api/v1/status")
		for range 2 {
			if _, err := e.Decide(t.Context(), in); err != nil {
				t.Fatalf("Decide: %v", err)
			}
		}
		if diff := cmp.Diff(CacheStats{}, e.CacheStats()); diff != "" {
			t.Errorf("stats mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestDecideWithAHeaderPolicySeesHeaders(t *testing.T) {
	// The input is pruned to the fields a policy reads: one that reads
	// headers must still get them, and decide by them on every request.
	e := mustLoad(t, strings.Replace(minimalPolicy, "allow if input.identity.user in data.certgate.users",
		`allow if input.request.headers["x-allow"] == "yes"`, 1))
	for _, h := range []string{"yes", "no", "yes"} {
		in := request("alice", nil, "GET", "/")
		in.Request.Headers = map[string]string{"x-allow": h}
		d, err := e.Decide(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != (h == "yes") {
			t.Errorf("x-allow: %s gave allow %v", h, d.Allow)
		}
	}
}

func mustLoad(tb testing.TB, policy string) *Engine {
	tb.Helper()
	e, err := LoadFS(tb.Context(), fstest.MapFS{
		"authz.rego":         {Data: []byte(policy)},
		"certgate/data.json": {Data: []byte(`{"users": ["alice"]}`)},
	})
	if err != nil {
		tb.Fatalf("LoadFS: %v", err)
	}
	return e
}

// TestMemoHoldsNoDecisionOverItsBound: a memo entry is a 32-byte digest
// of the key (memoKey) and a decision of at most maxMemoDecision.
func TestMemoHoldsNoDecisionOverItsBound(t *testing.T) {
	m := newMemo(4, DefaultDecisionCacheBytes)
	long := []byte(strings.Repeat("k", maxMemoKey))
	m.put(long, Decision{Reason: "granted"})
	if _, ok := m.get(long); !ok {
		t.Fatal("a key of maxMemoKey bytes is not remembered")
	}
	if _, ok := m.get(long[1:]); ok {
		t.Fatal("another key finds its decision")
	}
	big := Decision{Reason: "granted", Headers: map[string]string{"x-echo": strings.Repeat("p", maxMemoDecision)}}
	m.put([]byte("big"), big)
	if _, ok := m.get([]byte("big")); ok {
		t.Error("a decision over maxMemoDecision is remembered")
	}
	small := Decision{Reason: "granted", Permission: "list_vms", Headers: map[string]string{"x-certgate-permission": "list_vms"}}
	if n := decisionSize(small); n > maxMemoDecision/8 {
		t.Errorf("the shipped policy's decision is estimated at %d bytes", n)
	}
}

// TestMemoSizeEstimate: memoEntrySize bounds what a remembered decision
// keeps alive (its strings, header map, digest and the cache's node), so
// that max_bytes bounds the memory.
func TestMemoSizeEstimate(t *testing.T) {
	for name, headers := range map[string]int{"no headers": 0, "one header": 1, "three headers": 3, "response headers": -2} {
		t.Run(name, func(t *testing.T) { testMemoSizeEstimate(t, headers) })
	}
}

// testMemoSizeEstimate measures decisions with headers request headers,
// or -headers response headers.
func testMemoSizeEstimate(t *testing.T, headers int) {
	const n = 4000
	m := newMemo(DefaultDecisionCacheSize, DefaultDecisionCacheBytes)
	inputs := make([][]byte, n)
	for i := range n {
		inputs[i] = fmt.Appendf(nil, "device-%d GET /api/v1/vm", i)
	}
	heap := func() int {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int(ms.HeapAlloc)
	}
	before := heap()
	estimated := 0
	for i := range n {
		perm := fmt.Sprintf("list_vms_%d", i)
		d := Decision{Allow: true, Status: 200, Reason: strings.Clone("granted"), Permission: perm}
		if headers != 0 {
			h := make(map[string]string)
			for j := range max(headers, -headers) {
				h[fmt.Sprintf("x-certgate-h%d", j)] = fmt.Sprintf("device-%d", i)
			}
			if headers > 0 {
				d.Headers = h
			} else {
				d.ResponseHeaders = h
			}
		}
		estimated += memoEntrySize(d)
		m.put(inputs[i], d)
	}
	m.cache.CleanUp()
	measured := heap() - before
	t.Logf("%d decisions: estimated %d bytes each, measured %d", n, estimated/n, measured/n)
	if got := m.stats().Entries; got != n {
		t.Fatalf("%d entries, want %d", got, n)
	}
	if measured > estimated || estimated > 4*measured {
		t.Errorf("estimated %d bytes, measured %d: the estimate must bound it, within 4×", estimated, measured)
	}
	runtime.KeepAlive(inputs)
	runtime.KeepAlive(m)
}
