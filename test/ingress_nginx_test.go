package test

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/certgate/certgate/pki"
)

// ingressAnnotations reads the annotations of the Ingress in
// nginx/kubernetes/<file>.
func ingressAnnotations(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "nginx", "kubernetes", file))
	if err != nil {
		t.Fatal(err)
	}
	var ing struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(data, &ing); err != nil || ing.Kind != "Ingress" {
		t.Fatalf("%s: kind %q, %v; want an Ingress", file, ing.Kind, err)
	}
	return ing.Metadata.Annotations
}

// startIngressNGINX starts a real NGINX configured the way ingress-nginx configures
// itself for an Ingress of nginx/kubernetes (its nginx.tmpl, for the
// annotations these use: auth-url, auth-method, auth-response-headers,
// auth-tls-*, auth-snippet, configuration-snippet), the snippets copied
// from the manifest as ingress-nginx copies them.
func startIngressNGINX(t *testing.T, file, certgateHTTP string, w *world, keys map[string]*pki.Certificate, root *x509.Certificate, clientCA []byte) *nginxFront {
	t.Helper()
	const prefix = "nginx.ingress.kubernetes.io/"
	ann := ingressAnnotations(t, file)
	bin := nginxBinary(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	server := keys["nginx-server"]
	serverKey, err := server.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	// What ingress-nginx adds to the auth location for auth-method.
	authMethod := ""
	if m := ann[prefix+"auth-method"]; m != "" {
		authMethod = "proxy_method " + m + ";\n            proxy_set_header X-Original-URI $request_uri;\n            proxy_set_header X-Scheme $scheme;"
	}
	var authHeaders, setHeaders strings.Builder
	for i, h := range strings.Split(ann[prefix+"auth-response-headers"], ",") {
		fmt.Fprintf(&authHeaders, "auth_request_set $authHeader%d $upstream_http_%s;\n            ", i, strings.ReplaceAll(strings.ToLower(h), "-", "_"))
		fmt.Fprintf(&setHeaders, "proxy_set_header '%s' $authHeader%d;\n            ", h, i)
	}
	lis := listenLocal(t)
	upstream := startEchoUpstream(t)
	httpBlock := fmt.Sprintf(`
    upstream app { server %[1]s; }
    server {
        listen %[2]s ssl;
        ssl_certificate %[3]s;
        ssl_certificate_key %[4]s;
        ssl_client_certificate %[5]s;
        ssl_verify_client %[6]s;
        ssl_verify_depth %[7]s;
        location = /_external-auth {
            internal;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-Proto "";
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header Host certgate.certgate.svc.cluster.local;
            proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Sent-From "nginx-ingress-controller";
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Auth-Request-Redirect $request_uri;
            proxy_set_header ssl-client-cert $ssl_client_escaped_cert;
            proxy_set_header ssl-client-verify $ssl_client_verify;
            proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;
            proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;
            proxy_http_version 1.1;
            %[8]s
            %[9]s
            proxy_pass http://%[10]s/v1/check;
        }
        location / {
            auth_request /_external-auth;
            auth_request_set $auth_cookie $upstream_http_set_cookie;
            %[11]s
            %[12]s
            proxy_set_header ssl-client-cert $ssl_client_escaped_cert;
            proxy_set_header ssl-client-verify $ssl_client_verify;
            proxy_http_version 1.1;
            %[13]s
            proxy_pass http://app;
        }
    }
`, upstream.addr, lis.Addr().String(),
		write("server.pem", append(server.CertPEM(), w.issuing.CertPEM()...)), write("server-key.pem", serverKey), write("client-ca.pem", clientCA),
		ann[prefix+"auth-tls-verify-client"], ann[prefix+"auth-tls-verify-depth"],
		authMethod, ann[prefix+"auth-snippet"], certgateHTTP,
		authHeaders.String(), setHeaders.String(), ann[prefix+"configuration-snippet"])
	runNGINX(t, bin, dir, httpBlock, lis)
	return newNGINXFront(t, lis.Addr().String(), keys, root, upstream)
}

// TestIngressNGINXNeverRunsAMethodCertgateDidNotDecide: through a real
// NGINX configured as ingress-nginx configures itself for each shipped
// Ingress, a method override naming another method than the one decided
// never reaches the app (certgate refuses it on the auth subrequest: 400,
// answered as 500), and one that repeats the method is allowed; the
// snippet Ingress also clears it on the way to the app.
func TestIngressNGINXNeverRunsAMethodCertgateDidNotDecide(t *testing.T) {
	for _, tt := range []struct {
		file string
		// clears: the Ingress clears the headers on the way to the app.
		clears bool
	}{
		{"ingress.yaml", false},
		{"ingress-snippet.yaml", true},
	} {
		t.Run(tt.file, func(t *testing.T) {
			w, keys, root, clientCA := newWorldWithKeys(t)
			r := startCertgate(t, w, trustDev)
			n := startIngressNGINX(t, tt.file, r.httpAddr, w, keys, root, clientCA)
			for _, c := range []struct {
				name    string
				headers map[string]string
				want    int
			}{
				{"no override is allowed", nil, http.StatusOK},
				{"X-HTTP-Method-Override naming DELETE is refused", map[string]string{"X-HTTP-Method-Override": "DELETE"}, http.StatusInternalServerError},
				{"X-HTTP-Method naming PUT is refused", map[string]string{"X-HTTP-Method": "PUT"}, http.StatusInternalServerError},
				{"X-Method-Override naming delete is refused", map[string]string{"X-Method-Override": "delete"}, http.StatusInternalServerError},
				{"an override repeating the method is allowed", map[string]string{"X-HTTP-Method-Override": "POST"}, http.StatusOK},
			} {
				t.Run(c.name, func(t *testing.T) {
					before, _ := n.upstream.seen()
					status, saw := n.do(t, "jenkins", "POST", "/api/v1/vm", c.headers)
					after, last := n.upstream.seen()
					if status != c.want {
						t.Fatalf("POST /api/v1/vm as jenkins: %d, want %d", status, c.want)
					}
					if c.want != http.StatusOK {
						if after != before {
							t.Errorf("the refused request reached the app: %s", last)
						}
						return
					}
					if last != "POST /api/v1/vm" || saw["X-Certgate-User"] == nil {
						t.Errorf("the app saw %q with user %v, want POST /api/v1/vm as jenkins", last, saw["X-Certgate-User"])
					}
					for name := range c.headers {
						if _, got := saw[http.CanonicalHeaderKey(name)]; got == tt.clears {
							t.Errorf("the app saw %s: %v; the Ingress clears it: %v", name, got, tt.clears)
						}
					}
				})
			}
		})
	}
}
