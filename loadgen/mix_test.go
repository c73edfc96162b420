package loadgen

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/pki"
)

func demoClients(t *testing.T) Clients {
	t.Helper()
	dir := t.TempDir()
	if _, err := pki.EnsureDemo(dir, time.Now); err != nil {
		t.Fatal(err)
	}
	clients, err := LoadClients(dir)
	if err != nil {
		t.Fatal(err)
	}
	return clients
}

func TestEnvoyShapedRequestsAreAboutTwoKilobytes(t *testing.T) {
	mix, err := NewMix(demoClients(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mix.Requests {
		req := client.EnvoyRequest(r.Check)
		if n := proto.Size(req); n < 1500 || n > 2500 {
			t.Errorf("%s %s: CheckRequest of %d bytes, want about 2 KB", r.Check.Method, r.Check.Target, n)
		}
		if h := req.GetAttributes().GetRequest().GetHttp().GetHeaders(); len(h) < 12 {
			t.Errorf("%s %s: %d headers, want a dozen or more", r.Check.Method, r.Check.Target, len(h))
		}
	}
}

func TestTheScheduleFollowsTheWeights(t *testing.T) {
	mix, err := NewMix(demoClients(t), nil, Weights{ClassAllowed: 70, ClassDenied: 15, ClassRevoked: 5, ClassUnknownRoute: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[Class]int{}
	for _, i := range mix.Schedule {
		got[mix.Requests[i].Class]++
	}
	want := map[Class]int{ClassAllowed: 700, ClassDenied: 150, ClassRevoked: 50, ClassUnknownRoute: 100}
	for c, n := range want {
		if got[c] != n {
			t.Errorf("class %s: %d of %d schedule slots, want %d", c, got[c], len(mix.Schedule), n)
		}
	}
	if _, err := NewMix(demoClients(t), nil, Weights{}); err == nil {
		t.Error("all-zero weights: want an error")
	}
}
