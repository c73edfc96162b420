package loadgen

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certgate/certgate/pki"
)

func TestParseRoutes(t *testing.T) {
	got, err := ParseRoutes("GET /api/v1/vm *1, /registry/pull/{id} *3,  DELETE /api/v2/{id} 403 ,")
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Method: "GET", Path: "/api/v1/vm", Expect: 200, Weight: 1},
		{Method: "GET", Path: "/registry/pull/{id}", Expect: 200, Weight: 3},
		{Method: "DELETE", Path: "/api/v2/{id}", Expect: 403, Weight: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", " , ", "GET", "/a *x", "/a *-1", "/a get", "/a, GET /a", "/a 2000"} {
		if _, err := ParseRoutes(bad); err == nil {
			t.Errorf("ParseRoutes(%q): want an error", bad)
		}
	}
}

func demoDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := pki.EnsureDemo(dir, time.Now); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTheScenarioHonoursTheRouteWeightsAndSendsCertificatesRoundRobin(t *testing.T) {
	fleet, err := IssueFleet(demoDir(t), FleetOptions{N: 7})
	if err != nil {
		t.Fatal(err)
	}
	routes, err := ParseRoutes("/api/v1/vm *1, /registry/pull/{id} *3, /api/v2/{id} 403 *0")
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewScenarioMix(Scenario{Certs: fleet, Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	n := len(mix.Schedule)
	if n < minSchedule || n%len(fleet) != 0 {
		t.Fatalf("schedule of %d slots, want at least %d and a multiple of %d", n, minSchedule, len(fleet))
	}
	byClass := map[Class]int{}
	for k, i := range mix.Schedule {
		r := mix.Requests[i]
		byClass[r.Class]++
		if string(r.Check.CertPEM) != string(fleet[k%len(fleet)].PEM) || r.Key != fleet[k%len(fleet)].Key {
			t.Fatalf("slot %d presents another certificate than fleet[%d]", k, k%len(fleet))
		}
	}
	// Shares within one request of the weights, and none for weight 0.
	for class, want := range map[Class]float64{"GET /api/v1/vm": 0.25, "GET /registry/pull/{id}": 0.75} {
		if got := byClass[class]; float64(got) < want*float64(n)-1 || float64(got) > want*float64(n)+1 {
			t.Errorf("class %s: %d of %d slots, want %.0f±1", class, got, n, want*float64(n))
		}
	}
	if byClass["GET /api/v2/{id}"] != 0 {
		t.Errorf("a route of weight 0 got %d slots", byClass["GET /api/v2/{id}"])
	}
	// The routes are spread over the pass, not in blocks.
	if first := mix.Requests[mix.Schedule[0]].Class; byClass[first] == n {
		t.Error("every slot has the same route")
	}
	if _, err := NewScenarioMix(Scenario{Certs: fleet, Routes: []Route{{Method: "GET", Path: "/a", Expect: 200}}}); err == nil {
		t.Error("all-zero weights: want an error")
	}
	if _, err := NewScenarioMix(Scenario{Routes: routes}); err == nil {
		t.Error("no certificates: want an error")
	}
}

func TestFleetCertificatesAreDistinctAndVerify(t *testing.T) {
	dir := demoDir(t)
	fleet, err := IssueFleet(dir, FleetOptions{N: 30, Key: pki.RSA2048, Keys: 2})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA in ca.pem")
	}
	seen, serials, keys := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, c := range fleet {
		certs, err := pki.ParseCertsPEM(c.PEM)
		if err != nil {
			t.Fatal(err)
		}
		cert := certs[0]
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("certificate %d does not verify against the demo CA: %v", i, err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() != 2048 {
			t.Errorf("certificate %d: key %T, want RSA-2048", i, cert.PublicKey)
		} else if !pub.Equal(c.Key.Public()) {
			t.Errorf("certificate %d: its key is not the one returned with it", i)
		}
		if cert.Subject.Organization[0] != "ci" {
			t.Errorf("certificate %d: O %v, want ci", i, cert.Subject.Organization)
		}
		seen[string(c.PEM)], serials[cert.SerialNumber.String()] = true, true
		keys[string(pub.N.Bytes())] = true
	}
	if len(seen) != 30 || len(serials) != 30 {
		t.Errorf("%d distinct certificates, %d distinct serials; want 30 each", len(seen), len(serials))
	}
	if len(keys) != 2 {
		t.Errorf("%d distinct keys, want the 2 asked for", len(keys))
	}
}

// recordingCheck answers 200 and records each X-Original-URI, as the HTTP
// check endpoint sees it.
func recordingCheck(t *testing.T) (addr string, seen func() []string) {
	t.Helper()
	var mu sync.Mutex
	var uris []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		uris = append(uris, r.Header.Get("X-Original-URI"))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), uris...)
	}
}

func TestEveryRequestOfATemplateCarriesAFreshID(t *testing.T) {
	fleet, err := IssueFleet(demoDir(t), FleetOptions{N: 3})
	if err != nil {
		t.Fatal(err)
	}
	routes, err := ParseRoutes("/registry/pull/{id}?tag=base *1, /api/v1/vm *1")
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewScenarioMix(Scenario{Certs: fleet, Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	addr, seen := recordingCheck(t)
	target := NewHTTPTarget(addr, 4)
	defer func() { _ = target.Close() }()
	opts := Options{Concurrency: 4, Requests: 2 * len(mix.Schedule), Timeout: testTimeout}
	// Two runs over the same schedule: ids never repeat, in a run or across.
	for range 2 {
		if res, err := Run(context.Background(), target, mix, opts); err != nil || res.Errors != 0 {
			t.Fatalf("run: %v, %+v", err, res)
		}
	}
	ids, static := map[string]bool{}, 0
	for _, uri := range seen() {
		if uri == "/api/v1/vm" {
			static++
			continue
		}
		id, ok := strings.CutPrefix(uri, "/registry/pull/")
		id, ok2 := strings.CutSuffix(id, "?tag=base")
		if !ok || !ok2 || id == "" || strings.Contains(id, "{") {
			t.Fatalf("request for %q, want /registry/pull/<id>?tag=base", uri)
		}
		if ids[id] {
			t.Fatalf("id %q sent twice", id)
		}
		ids[id] = true
	}
	if len(ids)+static != 4*len(mix.Schedule) || len(ids) == 0 || static == 0 {
		t.Errorf("%d requests with ids and %d static, want %d in all", len(ids), static, 4*len(mix.Schedule))
	}
}

func TestParseProcStat(t *testing.T) {
	// The command may hold spaces and parentheses.
	line := []byte("4242 (certgate (x) y) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 12345 0 0\n")
	got, err := parseProcStat(line)
	if err != nil || got.ppid != 17 || got.cpu != 325*clockTick {
		t.Errorf("parseProcStat = %+v, %v; want ppid 17, cpu %v", got, err, 325*clockTick)
	}
	if _, err := parseProcStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("short stat: want an error")
	}
	self, err := ProcessCPU(func() []int { return []int{os.Getpid()} })()
	if err != nil || self < 0 {
		t.Errorf("CPU of this process: %v, %v", self, err)
	}
}

func TestTheRatioIsTheMedianOfTheRounds(t *testing.T) {
	got := MedianComparison([]Comparison{{Throughput: 0.9, P99: 3, P50: 1}, {Throughput: 0.5, P99: 1, P50: 2}, {Throughput: 0.7, P99: 2, P50: 3}})
	if want := (Comparison{Throughput: 0.7, P99: 2, P50: 2}); got != want {
		t.Errorf("median %+v, want %+v", got, want)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of four = %v, want 2.5", got)
	}
}

// statusTarget answers request i with statuses[i] (or fails it when 0).
type statusTarget []int

func (s statusTarget) Name() string            { return "fixed" }
func (s statusTarget) Prepare([]Request) error { return nil }
func (s statusTarget) Close() error            { return nil }
func (s statusTarget) Do(_ context.Context, _, i int) (int, error) {
	if s[i] == 0 {
		return 0, errors.New("connection refused")
	}
	return s[i], nil
}

func TestOutageAnswersAreCountedApartButAnAllowNeverIs(t *testing.T) {
	mix := &Mix{Classes: []Class{"allowed", "denied"}, Schedule: []int{0, 1, 2, 3, 4},
		Requests: []Request{{Class: "allowed", Expect: 200}, {Class: "denied", Expect: 403}, {Class: "denied", Expect: 403}, {Class: "denied", Expect: 403}, {Class: "allowed", Expect: 200}}}
	// An outage 500 for each class, one wrong allow, one error.
	target := Spread{statusTarget{500, 500, 200, 403, 0}}
	res, err := Run(context.Background(), target, mix, Options{Concurrency: 1, Requests: 5, CheckExpect: true, Outage: 500,
		ErrorKind: func(err error) string { return err.Error() }, Timeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outage != 2 || res.Mismatches != 1 || res.WrongAllows != 1 || res.Errors != 1 || res.ErrorKinds["connection refused"] != 1 {
		t.Errorf("outage %d, mismatches %d, wrong allows %d, errors %d %v; want 2, 1, 1, 1 refused", res.Outage, res.Mismatches, res.WrongAllows, res.Errors, res.ErrorKinds)
	}
}

func TestAFleetCAIssuesTheFleetWithItsOwnKeyTypeAndIsReused(t *testing.T) {
	dir := t.TempDir()
	ca, err := EnsureFleetCA(dir, pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := IssueFleet(dir, FleetOptions{N: 4, CA: &ca})
	if err != nil {
		t.Fatal(err)
	}
	again, err := EnsureFleetCA(dir, pki.RSA2048)
	if err != nil || again != ca {
		t.Fatalf("second EnsureFleetCA = %+v, %v; want the same files", again, err)
	}
	pool := func(file string) *x509.CertPool {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p := x509.NewCertPool()
		if !p.AppendCertsFromPEM(data) {
			t.Fatalf("no certificate in %s", file)
		}
		return p
	}
	opts := x509.VerifyOptions{Roots: pool(filepath.Join(dir, "ca.pem")), Intermediates: pool(ca.CertFile), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for i, c := range fleet {
		certs, err := pki.ParseCertsPEM(c.PEM)
		if err != nil {
			t.Fatal(err)
		}
		if certs[0].SignatureAlgorithm != x509.SHA256WithRSA {
			t.Errorf("certificate %d signed with %v, want the fleet CA's RSA key", i, certs[0].SignatureAlgorithm)
		}
		if _, err := certs[0].Verify(opts); err != nil {
			t.Errorf("certificate %d does not verify through the fleet CA: %v", i, err)
		}
	}
	if _, err := os.Stat(ca.CRLFile); err != nil {
		t.Errorf("no CRL of the fleet CA: %v", err)
	}
}
