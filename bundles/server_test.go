package bundles_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/certgate/certgate/rego"
)

// bundleServer is an OPA bundle server: it serves one tarball with an
// ETag, answers 304 to a matching If-None-Match and, when the client asks
// for it (Prefer: wait=N), holds a request until the bundle changes, as
// OPA's long polling does. It can be told to fail.
type bundleServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	etag    string
	status  int // when not 0, every request gets it
	delay   time.Duration
	changed chan struct{}
}

func newBundleServer(t *testing.T) *bundleServer {
	t.Helper()
	s := &bundleServer{changed: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.set(nil, http.StatusServiceUnavailable) // releases held requests
		s.Close()
	})
	return s
}

// slow makes every answer wait d before its headers.
func (s *bundleServer) slow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// set serves body from now on, or status when it is not 0.
func (s *bundleServer) set(body []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = body, status
	sum := sha256.Sum256(body)
	s.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *bundleServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	changed := s.changed
	long := strings.Contains(r.Header.Get("Prefer"), "wait=")
	if s.status == 0 && long && strings.Contains(r.Header.Get("If-None-Match"), s.etag) {
		s.mu.Unlock()
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-time.After(5 * time.Second):
		}
		s.mu.Lock()
	}
	body, etag, status, delay := s.body, s.etag, s.status, s.delay
	s.mu.Unlock()
	select {
	case <-time.After(delay):
	case <-r.Context().Done():
		return
	}
	if long {
		w.Header().Set("Content-Type", "application/vnd.openpolicyagent.bundles")
	}
	switch {
	case status != 0:
		w.WriteHeader(status)
	case strings.Contains(r.Header.Get("If-None-Match"), etag):
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
	default:
		w.Header().Set("ETag", etag)
		_, _ = w.Write(body)
	}
}

// shippedBundle is the shipped policy and data as `opa build` bundles them,
// at revision, with a route for permission extra added when it is not "".
func shippedBundle(t *testing.T, revision, extra string) *bundle.Bundle {
	t.Helper()
	b := &bundle.Bundle{Manifest: bundle.Manifest{Revision: revision}}
	for _, name := range []string{"authz.rego", "admin.rego"} {
		src, err := fs.ReadFile(rego.Default, name)
		if err != nil {
			t.Fatal(err)
		}
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: "/" + name, Path: "/" + name, RelativePath: "/" + name, Raw: src})
	}
	raw, err := fs.ReadFile(rego.Default, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &b.Data); err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		cg := b.Data["certgate"].(map[string]any)
		cg["routes"] = append(cg["routes"].([]any), map[string]any{"permission": extra, "method": "GET", "path": "/" + extra})
	}
	b.Manifest.Init()
	return b
}

// tarball writes b as a .tar.gz, signed with an HS256 secret under keyID
// when secret is not "".
func tarball(t *testing.T, b *bundle.Bundle, keyID, secret string) []byte {
	t.Helper()
	if secret != "" {
		if err := b.GenerateSignature(bundle.NewSigningConfig(secret, "HS256", ""), keyID, false); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(*b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
