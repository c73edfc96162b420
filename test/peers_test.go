package test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/certgate/certgate/client"
)

// TestOnlyTheAllowedPeersAreAnswered: with listen.allowed_peers naming
// 127.0.0.1, the same allowed request is answered from 127.0.0.1 and denied
// 403 peer_not_allowed from 127.0.0.2 (another process on this host), over
// gRPC and HTTP, with a decision line for each.
func TestOnlyTheAllowedPeersAreAnswered(t *testing.T) {
	w := newWorld(t)
	cfg := w.config(trustDev)
	cfg.Listen.AllowedPeers = []string{"127.0.0.1"}
	r := startCertgateConfig(t, cfg)
	get := client.Check{CertPEM: w.keys["viewer"].CertPEM(), Method: "GET", Target: "/api/v1/vm"}
	for _, tt := range []struct {
		name  string
		from  *net.TCPAddr
		allow bool
	}{
		{"from 127.0.0.1, an allowed peer", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, true},
		{"from 127.0.0.2, another peer", otherPeer, false},
	} {
		t.Run(tt.name+" over gRPC", func(t *testing.T) {
			resp, err := r.authzClient(t, tt.from).Check(context.Background(), client.EnvoyRequest(get))
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetOkResponse() != nil; got != tt.allow {
				t.Fatalf("allowed %v, want %v (%v)", got, tt.allow, resp.GetStatus())
			}
			if !tt.allow && resp.GetDeniedResponse().GetStatus().GetCode() != http.StatusForbidden {
				t.Errorf("denied with %v, want 403", resp.GetDeniedResponse().GetStatus())
			}
		})
		t.Run(tt.name+" over HTTP", func(t *testing.T) {
			d := &net.Dialer{LocalAddr: tt.from, Timeout: 5 * time.Second}
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
			req, err := client.NGINXRequest("http://"+r.httpAddr, get)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			want := http.StatusOK
			if !tt.allow {
				want = http.StatusForbidden
			}
			if resp.StatusCode != want {
				t.Errorf("HTTP check: %d, want %d", resp.StatusCode, want)
			}
		})
	}
	denied := 0
	for _, l := range r.logs.Records(t, "decision") {
		if l["cause"] == "peer_not_allowed" {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d decision lines with cause peer_not_allowed, want 2", denied)
	}
}
