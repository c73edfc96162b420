package envoy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	// The typed_config types the configs use, so that protojson can
	// resolve their Any values.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

var configs = []string{"envoy.yaml", "envoy-http.yaml"}

// load reads an Envoy bootstrap the way Envoy does: YAML as proto JSON,
// unknown fields (a typo) are errors, and every typed_config resolves.
func load(data []byte) (*bootstrapv3.Bootstrap, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("yaml to json: %w", err)
	}
	var b bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, &b); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := validate(b.ProtoReflect()); err != nil {
		return nil, err
	}
	return &b, nil
}

type validator interface{ ValidateAll() error }

// validate runs the protoc-gen-validate rules of m and of every message
// packed in an Any below it, which ValidateAll on the bootstrap alone
// does not look into.
func validate(m protoreflect.Message) error {
	msg := m.Interface()
	if packed, ok := msg.(*anypb.Any); ok {
		inner, err := packed.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("%s: %w", packed.GetTypeUrl(), err)
		}
		return validate(inner.ProtoReflect())
	}
	if v, ok := msg.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s: %w", m.Descriptor().FullName(), err)
		}
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len() && err == nil; i++ {
				err = validate(v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				err = validate(mv.Message())
				return err == nil
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			err = validate(v.Message())
		}
		return err == nil
	})
	return err
}

func loadFile(t *testing.T, name string) *bootstrapv3.Bootstrap {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func unpack[T proto.Message](t *testing.T, a *anypb.Any, m T) T {
	t.Helper()
	if err := a.UnmarshalTo(m); err != nil {
		t.Fatalf("unpack %s: %v", a.GetTypeUrl(), err)
	}
	return m
}

// parts returns the listener's TLS context and HTTP connection manager,
// and the HTTP filters by name.
func parts(t *testing.T, b *bootstrapv3.Bootstrap) (*tlsv3.DownstreamTlsContext, *hcmv3.HttpConnectionManager, map[string]*hcmv3.HttpFilter, []string) {
	t.Helper()
	listeners := b.GetStaticResources().GetListeners()
	if len(listeners) != 1 || len(listeners[0].GetFilterChains()) != 1 {
		t.Fatalf("want one listener with one filter chain, got %d listeners", len(listeners))
	}
	chain := listeners[0].GetFilterChains()[0]
	tls := unpack(t, chain.GetTransportSocket().GetTypedConfig(), &tlsv3.DownstreamTlsContext{})
	if len(chain.GetFilters()) != 1 {
		t.Fatalf("want one network filter, got %d", len(chain.GetFilters()))
	}
	hcm := unpack(t, chain.GetFilters()[0].GetTypedConfig(), &hcmv3.HttpConnectionManager{})
	byName := map[string]*hcmv3.HttpFilter{}
	var order []string
	for _, f := range hcm.GetHttpFilters() {
		byName[f.GetName()] = f
		order = append(order, f.GetName())
	}
	return tls, hcm, byName, order
}

func TestConfigsLoadAndValidate(t *testing.T) {
	for _, name := range configs {
		t.Run(name, func(t *testing.T) {
			b := loadFile(t, name)
			tls, hcm, filters, order := parts(t, b)

			if !tls.GetRequireClientCertificate().GetValue() {
				t.Error("require_client_certificate is not true")
			}
			ctx := tls.GetCommonTlsContext()
			if got := ctx.GetValidationContext().GetTrustedCa().GetFilename(); got != ".certgate-dev/ca.pem" {
				t.Errorf("trusted_ca = %q", got)
			}
			if n := len(ctx.GetTlsCertificates()); n != 1 {
				t.Errorf("%d tls_certificates, want 1", n)
			}
			if got := hcm.GetForwardClientCertDetails(); got != hcmv3.HttpConnectionManager_SANITIZE_SET {
				t.Errorf("forward_client_cert_details = %v, want SANITIZE_SET", got)
			}
			xfcc := hcm.GetSetCurrentClientCertDetails()
			if !xfcc.GetSubject().GetValue() || !xfcc.GetCert() || !xfcc.GetChain() || !xfcc.GetUri() || !xfcc.GetDns() {
				t.Errorf("set_current_client_cert_details = %v, want subject, cert, chain, uri and dns", xfcc)
			}
			want := []string{"envoy.filters.http.header_mutation", "envoy.filters.http.ext_authz", "envoy.filters.http.router"}
			if diff := cmp.Diff(want, order); diff != "" {
				t.Errorf("http filters (-want +got):\n%s", diff)
			}

			mutation := unpack(t, filters["envoy.filters.http.header_mutation"].GetTypedConfig(), &headermutationv3.HeaderMutation{})
			var removed, prefixes []string
			for _, m := range mutation.GetMutations().GetRequestMutations() {
				if r := m.GetRemove(); r != "" {
					removed = append(removed, r)
				}
				if p := m.GetRemoveOnMatch().GetKeyMatcher().GetPrefix(); p != "" {
					prefixes = append(prefixes, p)
				}
			}
			wantRemoved := []string{"x-certgate-user", "x-certgate-groups", "x-certgate-permission", "x-certgate-fingerprint", "ssl-client-cert", "ssl-client-verify", "client-cert", "client-cert-chain"}
			var wantPrefixes []string
			if name == "envoy-http.yaml" {
				// certgate can neither see nor remove the client's headers.
				wantRemoved = []string{"x-http-method-override", "x-http-method", "x-method-override", "ssl-client-cert", "ssl-client-verify", "client-cert", "client-cert-chain"}
				wantPrefixes = []string{"x-certgate-"}
			}
			if diff := cmp.Diff(wantRemoved, removed); diff != "" {
				t.Errorf("header_mutation removes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantPrefixes, prefixes); diff != "" {
				t.Errorf("header_mutation removes prefixes (-want +got):\n%s", diff)
			}

			authz := unpack(t, filters["envoy.filters.http.ext_authz"].GetTypedConfig(), &extauthzv3.ExtAuthz{})
			if got := authz.GetTransportApiVersion(); got != corev3.ApiVersion_V3 {
				t.Errorf("transport_api_version = %v, want V3", got)
			}
			if authz.GetFailureModeAllow() {
				t.Error("failure_mode_allow is true: certgate down would let every request through")
			}
			if got := authz.GetStatusOnError().GetCode(); got != 503 {
				t.Errorf("status_on_error = %v, want 503", got)
			}
			if authz.GetWithRequestBody() != nil {
				t.Error("with_request_body is set: certgate decides from headers only")
			}
			switch name {
			case "envoy.yaml":
				g := authz.GetGrpcService()
				if got := g.GetEnvoyGrpc().GetClusterName(); got != "certgate" {
					t.Errorf("grpc cluster = %q", got)
				}
				if got := g.GetTimeout().AsDuration(); got != 250*time.Millisecond {
					t.Errorf("grpc timeout = %v", got)
				}
				if !authz.GetIncludePeerCertificate() {
					t.Error("include_peer_certificate is not true")
				}
			case "envoy-http.yaml":
				h := authz.GetHttpService()
				if got := h.GetServerUri().GetCluster(); got != "certgate_http" {
					t.Errorf("http cluster = %q", got)
				}
				if got := h.GetServerUri().GetTimeout().AsDuration(); got != 250*time.Millisecond {
					t.Errorf("http timeout = %v", got)
				}
				if got := h.GetPathPrefix(); got != "/v1/check" {
					t.Errorf("path_prefix = %q", got)
				}
				added := map[string]string{}
				for _, hv := range h.GetAuthorizationRequest().GetHeadersToAdd() {
					added[hv.GetKey()] = hv.GetValue()
				}
				wantAdded := map[string]string{"ssl-client-cert": "%DOWNSTREAM_PEER_CERT%", "ssl-client-verify": "SUCCESS", "x-forwarded-proto": "https"}
				if diff := cmp.Diff(wantAdded, added); diff != "" {
					t.Errorf("headers_to_add (-want +got):\n%s", diff)
				}
				var upstream []string
				for _, p := range h.GetAuthorizationResponse().GetAllowedUpstreamHeaders().GetPatterns() {
					upstream = append(upstream, p.GetExact())
				}
				wantUp := []string{"x-certgate-user", "x-certgate-groups", "x-certgate-permission", "x-certgate-fingerprint"}
				if diff := cmp.Diff(wantUp, upstream); diff != "" {
					t.Errorf("allowed_upstream_headers (-want +got):\n%s", diff)
				}
			}

			clusters := map[string]bool{}
			for _, c := range b.GetStaticResources().GetClusters() {
				clusters[c.GetName()] = true
				if c.GetName() == "certgate" {
					opts := c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
					if opts == nil || !strings.Contains(protojson.Format(opts), "http2ProtocolOptions") {
						t.Error("cluster certgate does not speak HTTP/2")
					}
				}
				if strings.HasPrefix(c.GetName(), "certgate") && len(c.GetHealthChecks()) != 1 {
					t.Errorf("cluster %s has no health check", c.GetName())
				}
			}
			for _, route := range hcm.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
				if c := route.GetRoute().GetCluster(); !clusters[c] {
					t.Errorf("route to unknown cluster %q", c)
				}
			}
		})
	}
}

func TestATypoFailsTheConfig(t *testing.T) {
	cases := []struct{ name, file, from, to string }{
		{"a misspelt bootstrap field", "envoy.yaml", "static_resources:", "static_resource:"},
		{"a misspelt field inside the TLS typed_config", "envoy.yaml", "require_client_certificate:", "require_client_certificat:"},
		{"a misspelt field inside the ext_authz typed_config", "envoy.yaml", "include_peer_certificate:", "include_peer_certificates:"},
		{"a misspelt field inside http_service", "envoy-http.yaml", "path_prefix:", "path_prefx:"},
		{"an unknown enum value", "envoy.yaml", "forward_client_cert_details: SANITIZE_SET", "forward_client_cert_details: SANITISE_SET"},
		{"an unknown typed_config type", "envoy.yaml", "router.v3.Router", "router.v3.Routr"},
		{"a validation rule broken (no cluster)", "envoy-http.yaml", "cluster: certgate_http", "cluster: \"\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.from) {
				t.Fatalf("%s no longer contains %q", tc.file, tc.from)
			}
			broken := strings.Replace(string(data), tc.from, tc.to, 1)
			_, err = load([]byte(broken))
			if err == nil {
				t.Fatalf("%s with %q -> %q loaded without error", tc.file, tc.from, tc.to)
			}
			t.Log(err)
		})
	}
}
