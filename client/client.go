// Package client builds the requests a proxy sends to certgate — Envoy's
// ext_authz v3 CheckRequest and NGINX's auth_request subrequest — from a
// certificate and a method and path. `certgate check`, the end-to-end tests
// and the load tool use it, so they all speak exactly what the proxies speak.
package client

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
)

// EscapePEM percent-encodes a PEM document the way NGINX's
// $ssl_client_escaped_cert and Envoy's peer certificate attribute do: every
// byte outside the URI unreserved set is escaped ("+", "/" and "=" included),
// so newlines and spaces travel safely in a header.
func EscapePEM(pem []byte) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(pem) + len(pem)/8)
	for _, c := range pem {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Check describes one request to ask certgate about.
type Check struct {
	// CertPEM is the client certificate (leaf first); nil for none.
	CertPEM []byte
	Method  string
	// Target is the origin-form request target, query included.
	Target string
	Host   string
	// Headers are extra request headers (any case; sent lower-cased to Envoy).
	Headers map[string]string
}

// EnvoyRequest returns the CheckRequest Envoy sends for c with
// include_peer_certificate: true. Like Envoy, it puts the raw query in the
// path and leaves the query field empty.
func EnvoyRequest(c Check) *authv3.CheckRequest {
	headers := map[string]string{":method": c.Method, ":path": c.Target, ":authority": c.Host, ":scheme": "https"}
	for k, v := range c.Headers {
		headers[strings.ToLower(k)] = v
	}
	source := &authv3.AttributeContext_Peer{}
	if c.CertPEM != nil {
		source.Certificate = EscapePEM(c.CertPEM)
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: source,
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method:   c.Method,
			Path:     c.Target,
			Host:     c.Host,
			Scheme:   "https",
			Protocol: "HTTP/1.1",
			Headers:  headers,
		}},
	}}
}

// NGINXRequest returns the auth_request subrequest NGINX sends to baseURL
// (e.g. "http://127.0.0.1:9192") with the shipped snippet: the original
// method and URI in X-Original-*, the certificate in Ssl-Client-Cert and the
// TLS verdict in Ssl-Client-Verify ("SUCCESS" when a certificate is given,
// "NONE" otherwise).
func NGINXRequest(baseURL string, c Check) (*http.Request, error) {
	u, err := url.JoinPath(baseURL, "/v1/check")
	if err != nil {
		return nil, fmt.Errorf("check URL from %q: %w", baseURL, err)
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build check request: %w", err)
	}
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Original-Method", c.Method)
	req.Header.Set("X-Original-URI", c.Target)
	if c.CertPEM != nil {
		req.Header.Set("Ssl-Client-Cert", EscapePEM(c.CertPEM))
		req.Header.Set("Ssl-Client-Verify", "SUCCESS")
	} else {
		req.Header.Set("Ssl-Client-Verify", "NONE")
	}
	if c.Host != "" {
		req.Header.Set("X-Forwarded-Host", c.Host)
	}
	return req, nil
}
