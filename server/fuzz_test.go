package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/certgate/certgate/client"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/policy"
)

// FuzzNormalizePath checks that whatever NormalizePath accepts is clean
// (absolute, no empty or dot segment, no backslash, control byte, encoded
// separator, '#' or path parameter) and normalizes to itself.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{
		"/", "/api/v1/vm", "//api//v1/vm/", "/api/v1/vm/../node", "/api/v1/vm/%2e%2e/node", "/api/%2F", "/api/%5c",
		"/api\\vm", "/../x", "/a/./b/.", "/a%00b", "/%zz", "/%252e%252e/", "/a;b=c/d", "/a?b/../c", "https://x/y", "",
		"/%41%7e%2D", "/a/%2e", "/a/%2E%2E", "/\x7f", "/.", "/..", "/a/%", "/a%2Fb",
		"/a#/../b", "/a?x#y", "/a#", "/a%23b", "/a/..;/b", "/a/.%2E;x/b", "/a/%2e%2e%3b/b", "/a%3Bb", "/a?b;c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		got, err := NormalizePath(target)
		if err != nil {
			if !strings.Contains(err.Error(), ErrAmbiguousPath.Error()) {
				t.Fatalf("error %v does not wrap ErrAmbiguousPath", err)
			}
			return
		}
		p := got.Path
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.ContainsAny(p, "\\?#;") || hasControl(p) {
			t.Fatalf("NormalizePath(%q).Path = %q: not a clean absolute path", target, p)
		}
		if strings.Contains(got.RawQuery, "#") {
			t.Fatalf("NormalizePath(%q).RawQuery = %q keeps a '#'", target, got.RawQuery)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("NormalizePath(%q).Path = %q keeps a dot segment", target, p)
			}
		}
		if up := strings.ToUpper(p); strings.Contains(up, "%2F") || strings.Contains(up, "%5C") || strings.Contains(up, "%2E") || strings.Contains(up, "%3B") {
			t.Fatalf("NormalizePath(%q).Path = %q keeps an encoded separator, dot or ';'", target, p)
		}
		again, err := NormalizePath(p)
		if err != nil || again.Path != p {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", target, p, again.Path, err)
		}
	})
}

// lineCounter counts the log records written to it.
type lineCounter struct{ n atomic.Int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(strings.Count(string(p), "\n")))
	return len(p), nil
}

// FuzzHTTPCheck runs the whole HTTP check handler, the way NGINX calls it,
// on arbitrary methods, targets and certificate headers. Whatever comes in,
// the answer is a contract status, a deny carries the JSON body, an allow
// carries certgate's identity headers, and the decision is logged once.
func FuzzHTTPCheck(f *testing.F) {
	engine, err := policy.Load(context.Background(), "")
	if err != nil {
		f.Fatal(err)
	}
	lines := &lineCounter{}
	checker, inter := checkerWith(f, engine, Options{Logger: slog.New(slog.NewJSONHandler(lines, nil))})
	handler := NewHTTPHandler(checker, loopbackTrust)
	jenkins := inter.Leaf("jenkins", pkitest.Orgs("ci"))
	cert := client.EscapePEM(jenkins.CertPEM())
	f.Add("GET", "/v1/check", "POST", "/api/v1/vm", cert, "SUCCESS")
	f.Add("GET", "/v1/check", "DELETE", "/api/v1/vm/%2e%2e/node", cert, "SUCCESS")
	f.Add("GET", "/v1/check", "get", "/api/v1/vm", cert, "SUCCESS")
	f.Add("PUT", "/v1/check/api/v1/vm?x=1", "", "", cert, "SUCCESS")
	f.Add("GET", "/v1/check", "GET", "/api/v1%2Fvm", cert+","+cert, "SUCCESS")
	f.Add("GET", "/v1/check", "GET", "/api/v1/vm", cert, "NONE")
	f.Add("GET", "/v1/check?x", "GET", "https://evil/api/v1/vm", "%zz", "SUCCESS")
	f.Add("CONNECT", "/v1/check", "CONNECT", "/", strings.ReplaceAll(cert, "%20", "+"), "SUCCESS")
	f.Add("GET", "/v1/check", "PUT", "/api/v1/config#/../vm", cert, "SUCCESS")
	f.Add("GET", "/v1/check/api/v1/logs/..;/config", "", "", cert, "SUCCESS")
	f.Add("GET", "/v1/check", "", "/api/v1/vm", cert, "SUCCESS")
	f.Fuzz(func(t *testing.T, method, target, origMethod, origURI, sslCert, verify string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || (target != CheckPath && !strings.HasPrefix(target, CheckPath+"/") && !strings.HasPrefix(target, CheckPath+"?")) {
			return // net/http and the mux route it elsewhere
		}
		r := &http.Request{Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "certgate", Header: http.Header{}}
		r = r.WithContext(context.Background())
		for name, v := range map[string]string{"X-Original-Method": origMethod, "X-Original-Uri": origURI, "Ssl-Client-Cert": sslCert, "Ssl-Client-Verify": verify} {
			if v != "" {
				r.Header.Set(name, v)
			}
		}
		before := lines.n.Load()
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		if got := lines.n.Load() - before; got != 1 {
			t.Fatalf("%d decision log lines, want 1", got)
		}
		switch rec.Code {
		case http.StatusOK:
			if rec.Header().Get(HeaderUser) != "jenkins" || rec.Header().Get(HeaderGroups) != "ci" {
				t.Fatalf("allow without certgate's identity headers: %v", rec.Header())
			}
			// Only the one certificate certgate trusts, however it was
			// spelled, with NGINX's verdict, may be allowed.
			got, err := identity.DecodeEscapedPEM(sslCert, 1)
			if err != nil || !got[0].Equal(jenkins.Cert) || verify != "SUCCESS" {
				t.Fatalf("allowed with ssl-client-cert %.60q verify %q", sslCert, verify)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError:
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["status"] != "FAIL" {
				t.Fatalf("deny %d with body %q", rec.Code, rec.Body.String())
			}
			if rec.Header().Get(HeaderUser) != "" {
				t.Fatalf("deny %d carries an identity header", rec.Code)
			}
		default:
			t.Fatalf("status %d is not in the contract", rec.Code)
		}
	})
}
