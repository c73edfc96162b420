package envoy_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// uncommentBlock returns data with the lines between "# BEGIN name" and
// "# END name" uncommented (their first "# " removed), and whether the
// block was found.
func uncommentBlock(data, name string) (string, bool) {
	lines := strings.Split(data, "\n")
	found, in := false, false
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		switch {
		case trimmed == "# BEGIN "+name:
			in, found = true, true
		case trimmed == "# END "+name:
			in = false
		case in:
			lines[i] = strings.Replace(l, "# ", "", 1)
		}
	}
	return strings.Join(lines, "\n"), found && !in
}

// TestTheListenTLSExampleValidates: the commented UpstreamTlsContext of
// the certgate cluster in envoy.yaml, uncommented, is a valid Envoy config
// that presents a client certificate and verifies certgate's.
func TestTheListenTLSExampleValidates(t *testing.T) {
	data, err := os.ReadFile("envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text, ok := uncommentBlock(string(data), "listen.tls example")
	if !ok {
		t.Fatal("envoy.yaml has no complete listen.tls example block")
	}
	if !regexp.MustCompile(`(?m)^    transport_socket:$`).MatchString(text) {
		t.Fatal("the uncommented block is not the certgate cluster's transport_socket")
	}
	b, err := load([]byte(text))
	if err != nil {
		t.Fatalf("envoy.yaml with the listen.tls example: %v", err)
	}
	var found bool
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != "certgate" {
			continue
		}
		found = true
		ts := c.GetTransportSocket()
		if ts == nil {
			t.Fatal("the certgate cluster has no transport_socket")
		}
		up := unpack(t, ts.GetTypedConfig(), &tlsv3.UpstreamTlsContext{})
		ctx := up.GetCommonTlsContext()
		if n := len(ctx.GetTlsCertificates()); n != 1 || ctx.GetTlsCertificates()[0].GetPrivateKey().GetFilename() == "" {
			t.Errorf("%d tls_certificates, want Envoy's client certificate and key", n)
		}
		if ctx.GetValidationContext().GetTrustedCa().GetFilename() == "" || len(ctx.GetValidationContext().GetMatchTypedSubjectAltNames()) == 0 {
			t.Error("the example does not verify certgate's certificate (trusted_ca and a SAN match)")
		}
		if got := ctx.GetAlpnProtocols(); len(got) != 1 || got[0] != "h2" {
			t.Errorf("alpn_protocols %v, want [h2] (gRPC)", got)
		}
	}
	if !found {
		t.Fatal("no certgate cluster")
	}
}
