package server

import (
	"context"
	"net"
	"slices"
	"testing"

	"google.golang.org/grpc/peer"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki/pkitest"
)

// An allow removes the forwarded certificate headers the client sent that
// the listener does not believe from its peer, in the order of
// identity.ForwardedCertHeaders and before the other removals, and keeps
// the one it believes (Envoy's own x-forwarded-client-cert).
func TestAllowRemovesTheForwardedCertificateHeadersNotBelieved(t *testing.T) {
	c, ca, _, _ := sourceChecker(t)
	leaf := ca.Leaf("alice", pkitest.Orgs("ci"))
	sent := map[string]string{
		"x-forwarded-client-cert": "By=spiffe://forged", "ssl-client-verify": "SUCCESS", "ssl-client-cert": "forged",
		"client-cert": ":Zm9yZ2Vk:", "x-certgate-extra": "1", "user-agent": "curl",
	}
	proxy := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
	xfccOnly := ListenerTrust{Families: identity.XFCC, Proxies: loopbackTrust.Proxies}
	for _, tc := range []struct {
		name  string
		trust ListenerTrust
		want  []string
	}{
		{"none believed", ListenerTrust{}, []string{"ssl-client-cert", "ssl-client-verify", "x-forwarded-client-cert", "client-cert"}},
		{"xfcc believed from the proxy", xfccOnly, []string{"ssl-client-cert", "ssl-client-verify", "client-cert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: proxy})
			resp, err := NewAuthorizationServer(c, tc.trust).Check(ctx, client.EnvoyRequest(client.Check{CertPEM: leaf.CertPEM(), Method: "GET", Target: "/read", Headers: sent}))
			if err != nil {
				t.Fatal(err)
			}
			ok := resp.GetOkResponse()
			if ok == nil {
				t.Fatalf("denied: %v", resp.GetStatus())
			}
			removed := ok.GetHeadersToRemove()
			var forwarded []string
			for _, name := range removed {
				if slices.Contains(identity.ForwardedCertHeaders, name) {
					forwarded = append(forwarded, name)
				}
			}
			wantOrder := slices.Clone(tc.want)
			slices.SortFunc(wantOrder, func(a, b string) int {
				return slices.Index(identity.ForwardedCertHeaders, a) - slices.Index(identity.ForwardedCertHeaders, b)
			})
			if !slices.Equal(forwarded, wantOrder) || !slices.Equal(removed[:len(wantOrder)], wantOrder) {
				t.Errorf("removed %q, want %q first", removed, wantOrder)
			}
			if !slices.Contains(removed, "x-certgate-extra") || !slices.Contains(removed, "x-http-method-override") {
				t.Errorf("removed %q, want x-certgate-extra and the method override headers too", removed)
			}
		})
	}
}
