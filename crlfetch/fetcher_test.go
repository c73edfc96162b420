package crlfetch_test

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/crlfetch"
	"github.com/certgate/certgate/pki"
	"github.com/certgate/certgate/pki/pkitest"
	"github.com/certgate/certgate/trust"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// world is a CA, the CRLs it signs, and the check certgate applies.
type world struct {
	ca  *pkitest.CA
	cas []*x509.Certificate
}

func newWorld(t *testing.T) *world {
	ca := pkitest.New(t, "crl ca", clock)
	return &world{ca: ca, cas: []*x509.Certificate{ca.Cert}}
}

// crl signs CRL number n, valid for a week from now.
func (w *world) crl(n int64) []byte {
	return w.ca.CRLWith(pki.CRLOptions{Number: big.NewInt(n), ThisUpdate: now.Add(time.Duration(n) * time.Second)}).Raw
}

func (w *world) check(doc crlfetch.Document, prev *crlfetch.Document) (crlfetch.Info, error) {
	var p *trust.CRLDocument
	if prev != nil {
		p = &trust.CRLDocument{Name: prev.URL, Data: prev.Data}
	}
	crls, err := trust.CheckCRLDocument(w.cas, trust.CRLDocument{Name: doc.URL, Data: doc.Data}, p, nil)
	if err != nil {
		return crlfetch.Info{}, err
	}
	return crlfetch.Info{ThisUpdate: crls[0].ThisUpdate, NextUpdate: crls[0].NextUpdate, Number: crls[0].Number.String()}, nil
}

// server serves one body with the validators it is told to, and records
// the conditional headers of each request.
type server struct {
	*httptest.Server
	mu           sync.Mutex
	body         []byte
	etag         string
	lastModified time.Time
	status       int
	requests     []http.Header
}

func newServer(t *testing.T, body []byte) *server {
	s := &server{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, r.Header.Clone())
		if s.status != 0 {
			rw.WriteHeader(s.status)
			return
		}
		if s.etag != "" {
			rw.Header().Set("ETag", s.etag)
			if r.Header.Get("If-None-Match") == s.etag {
				rw.WriteHeader(http.StatusNotModified)
				return
			}
		}
		if !s.lastModified.IsZero() {
			rw.Header().Set("Last-Modified", s.lastModified.UTC().Format(http.TimeFormat))
			if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !s.lastModified.After(ims) {
				rw.WriteHeader(http.StatusNotModified)
				return
			}
		}
		_, _ = rw.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) set(edit func(s *server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	edit(s)
}

func (s *server) lastRequest() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[len(s.requests)-1]
}

func newFetcher(t *testing.T, w *world, opts crlfetch.Options) *crlfetch.Fetcher {
	t.Helper()
	if opts.Check == nil {
		opts.Check = w.check
	}
	if opts.Now == nil {
		opts.Now = clock
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f, err := crlfetch.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func only(t *testing.T, f *crlfetch.Fetcher) crlfetch.Status {
	t.Helper()
	st := f.Status()
	if len(st) != 1 {
		t.Fatalf("%d sources, want 1", len(st))
	}
	return st[0]
}

func held(t *testing.T, f *crlfetch.Fetcher) []byte {
	t.Helper()
	docs := f.Documents()
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	return docs[0].Data
}

func TestAnETagMakesTheNextFetchConditional(t *testing.T) {
	w := newWorld(t)
	srv := newServer(t, w.crl(1))
	srv.etag = `"v1"`
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}})
	ctx := context.Background()
	f.Start(ctx)
	if got := srv.lastRequest().Get("If-None-Match"); got != "" {
		t.Fatalf("first request sent If-None-Match %q", got)
	}
	if f.FetchAll(ctx) {
		t.Fatal("a 304 counted as a change")
	}
	if got := srv.lastRequest().Get("If-None-Match"); got != `"v1"` {
		t.Fatalf("second request sent If-None-Match %q, want \"v1\"", got)
	}
	st := only(t, f)
	if st.Changed != 1 || st.Unchanged != 1 || st.ETag != `"v1"` || st.Number != "1" || !st.Available {
		t.Fatalf("status %+v", st)
	}
	srv.set(func(s *server) { s.body, s.etag = w.crl(2), `"v2"` })
	if !f.FetchAll(ctx) {
		t.Fatal("a new CRL behind a new ETag was not a change")
	}
	if st := only(t, f); st.Number != "2" || st.ETag != `"v2"` {
		t.Fatalf("after the new CRL: %+v", st)
	}
}

func TestLastModifiedMakesTheNextFetchConditionalUnlessItIsTooFresh(t *testing.T) {
	w := newWorld(t)
	srv := newServer(t, w.crl(1))
	srv.lastModified = time.Now().Add(-time.Hour)
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}})
	ctx := context.Background()
	f.Start(ctx)
	f.FetchAll(ctx)
	if got := srv.lastRequest().Get("If-Modified-Since"); got != srv.lastModified.UTC().Format(http.TimeFormat) {
		t.Fatalf("If-Modified-Since %q", got)
	}
	if st := only(t, f); st.Unchanged != 1 {
		t.Fatalf("the 304 was not counted as unchanged: %+v", st)
	}

	// A file stamped in the second it is served may change again within
	// that second with the same stamp: its validator is not sent back.
	srv.set(func(s *server) { s.body, s.lastModified = w.crl(2), time.Now() })
	if !f.FetchAll(ctx) {
		t.Fatal("new CRL not fetched")
	}
	srv.set(func(s *server) { s.body = w.crl(3) })
	if !f.FetchAll(ctx) {
		t.Fatal("a CRL published again within the same second was missed")
	}
	if got := srv.lastRequest().Get("If-Modified-Since"); got != "" {
		t.Fatalf("a Last-Modified as fresh as the response was sent back: %q", got)
	}
}

func TestAFailedFetchKeepsTheLastGoodCRL(t *testing.T) {
	w := newWorld(t)
	other := pkitest.New(t, "crl ca", clock) // same name, another key
	good := w.crl(5)
	tests := []struct {
		name  string
		edit  func(s *server)
		limit int64
		want  string
	}{
		{name: "a body over the size limit", edit: func(s *server) { s.body = append(w.crl(6), make([]byte, 4096)...) }, limit: int64(len(good)) + 100, want: "larger than the limit"},
		{name: "a signature of another key", edit: func(s *server) {
			s.body = other.CRLWith(pki.CRLOptions{Number: big.NewInt(9)}).Raw
		}, want: "signature does not verify"},
		{name: "an older CRL", edit: func(s *server) { s.body = w.crl(4) }, want: "goes back"},
		{name: "an HTML error page", edit: func(s *server) { s.body = []byte("<html>down for maintenance</html>") }, want: "CRL http"},
		{name: "HTTP 500", edit: func(s *server) { s.status = http.StatusInternalServerError }, want: "HTTP 500"},
		{name: "a 304 to an unconditional request", edit: func(s *server) { s.status = http.StatusNotModified }, want: "304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, good)
			f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, MaxBytes: tt.limit})
			ctx := context.Background()
			f.Start(ctx)
			srv.set(tt.edit)
			if tt.name == "a 304 to an unconditional request" {
				// The fetcher sends no validator it has none of.
				f = newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}})
				f.Start(ctx)
				if st := only(t, f); st.Available || !strings.Contains(st.LastError, tt.want) {
					t.Fatalf("status %+v", st)
				}
				return
			}
			if f.FetchAll(ctx) {
				t.Fatal("counted as a change")
			}
			st := only(t, f)
			if !strings.Contains(st.LastError, tt.want) || st.Failures != 1 || st.Failed != 1 {
				t.Fatalf("status %+v, want error with %q", st, tt.want)
			}
			if string(held(t, f)) != string(good) || st.Number != "5" {
				t.Fatal("the last good CRL was replaced")
			}
		})
	}
}

func TestAnOversizedBodyWithoutContentLengthIsRefused(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		flusher := rw.(http.Flusher)
		for range 64 {
			_, _ = rw.Write(make([]byte, 1024))
			flusher.Flush() // chunked: no Content-Length to refuse early
		}
	}))
	t.Cleanup(srv.Close)
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, MaxBytes: 8 << 10})
	f.Start(context.Background())
	if st := only(t, f); st.Available || !strings.Contains(st.LastError, crlfetch.ErrTooLarge.Error()) {
		t.Fatalf("status %+v", st)
	}
}

// TestAConfiguredURLIsNotRedirectedToAnotherHost: CRLs travel over plain
// HTTP, where anyone on the path may answer with a redirect; following it
// to another host would send certgate's GET wherever they like (a metadata
// service, an internal endpoint), which a CRL body check after the fact
// does not undo. Within the host (and up to https) a redirect is followed.
func TestAConfiguredURLIsNotRedirectedToAnotherHost(t *testing.T) {
	w := newWorld(t)
	body := w.crl(1)
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = rw.Write(body)
	}))
	t.Cleanup(elsewhere.Close)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(rw, r, elsewhere.URL+"/ca.crl", http.StatusFound)
		case "/moved":
			http.Redirect(rw, r, srv.URL+"/ca.crl", http.StatusMovedPermanently)
		default:
			_, _ = rw.Write(body)
		}
	}))
	t.Cleanup(srv.Close)
	away := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL + "/away"}})
	away.Start(context.Background())
	if st := only(t, away); st.Available || !strings.Contains(st.LastError, "within its own host") || hits.Load() != 0 {
		t.Fatalf("a redirect to another host: available %v, error %q, %d requests there", st.Available, st.LastError, hits.Load())
	}
	moved := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL + "/moved"}})
	moved.Start(context.Background())
	if st := only(t, moved); !st.Available {
		t.Fatalf("a redirect within the host: %s", st.LastError)
	}
}

func TestRedirectsAreBounded(t *testing.T) {
	w := newWorld(t)
	body := w.crl(1)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmtSscan(r.URL.Path, &n); err == nil && n > 0 {
			http.Redirect(rw, r, srv.URL+"/"+itoa(n-1), http.StatusFound)
			return
		}
		_, _ = rw.Write(body)
	}))
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		hops int
		ok   bool
	}{{2, true}, {3, true}, {4, false}} {
		f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL + "/" + itoa(tt.hops)}, MaxRedirects: 3})
		f.Start(context.Background())
		if st := only(t, f); st.Available != tt.ok {
			t.Errorf("%d redirects: available %v, want %v (%s)", tt.hops, st.Available, tt.ok, st.LastError)
		}
	}
}

func TestTheCacheServesARestartWhileTheServerIsDown(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	three := w.crl(3)
	srv := newServer(t, three)
	srv.etag = `"three"`
	ctx := context.Background()
	first := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, CacheDir: dir})
	first.Start(ctx)
	if !only(t, first).Available {
		t.Fatal("first fetch failed")
	}
	url := srv.URL
	srv.Close()

	restarted := newFetcher(t, w, crlfetch.Options{URLs: []string{url}, CacheDir: dir})
	restarted.Start(ctx)
	st := only(t, restarted)
	if !st.Available || !st.FromCache || st.Number != "3" || st.LastError == "" || st.ETag != `"three"` {
		t.Fatalf("status after a restart with the server down: %+v", st)
	}
	if string(held(t, restarted)) != string(three) {
		t.Fatal("the cached CRL is not the one fetched")
	}

	// A cache that no longer passes the checks (another CA now) is not used.
	other := newWorld(t)
	strict := newFetcher(t, other, crlfetch.Options{URLs: []string{url}, CacheDir: dir})
	strict.Start(ctx)
	if st := only(t, strict); st.Available {
		t.Fatalf("a cached CRL of a CA no longer configured was used: %+v", st)
	}
}

func TestNoServerAndNoCacheLeavesTheSourceMissing(t *testing.T) {
	w := newWorld(t)
	srv := newServer(t, nil)
	url := srv.URL
	srv.Close()
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{url}, CacheDir: t.TempDir(), Timeout: time.Second})
	f.Start(context.Background())
	if st := only(t, f); st.Available || st.Failures != 1 || st.LastError == "" || !st.NextAttempt.Equal(now.Add(time.Second)) {
		t.Fatalf("status %+v, want a retry in 1s", st)
	}
	f.FetchAll(context.Background())
	if st := only(t, f); st.Failures != 2 || !st.NextAttempt.Equal(now.Add(2*time.Second)) {
		t.Fatalf("status %+v, want the retry delay doubled", st)
	}
	if len(f.Documents()) != 0 {
		t.Fatal("a document without a fetch")
	}
}

func TestTheNextFetchComesBeforeNextUpdate(t *testing.T) {
	w := newWorld(t)
	soon := w.ca.CRLWith(pki.CRLOptions{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(30 * time.Second)}).Raw
	srv := newServer(t, soon)
	var at time.Time
	tick := func() time.Time { return at }
	at = now
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, Refresh: 5 * time.Minute, Now: tick})
	f.Start(context.Background())
	if got := only(t, f).NextAttempt; !got.Equal(now.Add(15 * time.Second)) {
		t.Fatalf("next attempt %v, want half way to nextUpdate (%v)", got, now.Add(15*time.Second))
	}
	at = now.Add(29 * time.Second)
	f.FetchAll(context.Background())
	if got := only(t, f).NextAttempt; !got.Equal(at.Add(time.Second)) {
		t.Fatalf("next attempt %v, want a second later", got)
	}
	at = now.Add(time.Minute) // stale now
	f.FetchAll(context.Background())
	if got := only(t, f).NextAttempt; !got.Equal(at.Add(10 * time.Second)) {
		t.Fatalf("next attempt %v for a stale CRL, want 10s later", got)
	}
}

func TestRunFetchesOnScheduleAndReportsChanges(t *testing.T) {
	w := newWorld(t)
	srv := newServer(t, w.crl(1))
	changed := make(chan struct{}, 8)
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, Refresh: 20 * time.Millisecond, Now: time.Now,
		OnChange: func(context.Context) { changed <- struct{}{} }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx)
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	srv.set(func(s *server) { s.body = w.crl(2) })
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported within 10s")
	}
	if only(t, f).Number != "2" {
		t.Fatalf("status %+v", only(t, f))
	}
	cancel()
	<-done
}

func TestNewRefusesWhatCannotBeFetched(t *testing.T) {
	w := newWorld(t)
	for _, u := range []string{"file:///etc/crl.pem", "crl.pem", "http://user:pw@crl.example/x", "ldap://crl.example/cn=x"} {
		if _, err := crlfetch.New(crlfetch.Options{URLs: []string{u}, Check: w.check}); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if _, err := crlfetch.New(crlfetch.Options{URLs: []string{"http://crl.example/a.crl"}}); err == nil {
		t.Error("accepted without a CheckFunc")
	}
	_ = errors.New
}

func TestMetricsHaveOneSeriesSetPerSource(t *testing.T) {
	w := newWorld(t)
	srv := newServer(t, w.crl(1))
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL, "http://127.0.0.1:1/down.crl"}, Timeout: time.Second,
		Learn: crlfetch.LearnOptions{AllowedPrefixes: []string{"http://crl.example.com/"}, Max: 1}})
	f.Start(context.Background())
	f.Learn("http://crl.example.com/a.crl", "http://crl.example.com/b.crl", "http://elsewhere.example/c.crl")
	reg := prometheus.NewRegistry()
	reg.MustRegister(f)
	for _, tt := range []struct {
		name  string
		value float64
	}{
		{`certgate_crl_fetches_total{result="changed",url="` + srv.URL + `"}`, 1},
		{`certgate_crl_fetches_total{result="failure",url="http://127.0.0.1:1/down.crl"}`, 1},
		{`certgate_crl_source_available{url="` + srv.URL + `"}`, 1},
		{`certgate_crl_source_available{url="http://127.0.0.1:1/down.crl"}`, 0},
		{`certgate_crl_source_failing{url="http://127.0.0.1:1/down.crl"}`, 1},
		{`certgate_crl_learned_urls`, 1},
		{`certgate_crl_learned_urls_dropped_total`, 1},
		{`certgate_crl_learned_urls_refused_total`, 1},
	} {
		if got := gathered(t, reg, tt.name); got != tt.value {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.value)
		}
	}
}

// gathered returns the value of the series named like name{label="v",…}
// (labels sorted by name), or -1 when there is none.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			id := mf.GetName()
			if len(labels) > 0 {
				id += "{" + strings.Join(labels, ",") + "}"
			}
			if id != name {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// TestAReadOnlyCacheIsReadButNeverWritten: a one-shot command's fetcher
// uses what serve cached when the server is down, and neither creates the
// cache directory nor writes an entry after a fetch of its own.
func TestAReadOnlyCacheIsReadButNeverWritten(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	three := w.crl(3)
	srv := newServer(t, three)

	absent := filepath.Join(t.TempDir(), "cache")
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, CacheDir: absent, ReadOnlyCache: true})
	f.Start(ctx)
	if !only(t, f).Available {
		t.Fatal("the fetch failed")
	}
	if _, err := os.Stat(absent); !os.IsNotExist(err) {
		t.Errorf("a read-only cache directory was created (stat: %v)", err)
	}

	dir := t.TempDir()
	newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, CacheDir: dir}).Start(ctx) // serve's
	before := cacheFiles(t, dir)
	if len(before) != 1 {
		t.Fatalf("serve's fetcher cached %v, want one entry", before)
	}
	oneShot := newFetcher(t, w, crlfetch.Options{URLs: []string{srv.URL}, CacheDir: dir, ReadOnlyCache: true})
	oneShot.Start(ctx)
	if after := cacheFiles(t, dir); !cmp.Equal(before, after) {
		t.Errorf("a read-only fetch changed the cache: %v, then %v", before, after)
	}
	url := srv.URL
	srv.Close()
	down := newFetcher(t, w, crlfetch.Options{URLs: []string{url}, CacheDir: dir, ReadOnlyCache: true})
	down.Start(ctx)
	if st := only(t, down); !st.Available || !st.FromCache || string(held(t, down)) != string(three) {
		t.Errorf("with the server down a read-only cache was not read: %+v", st)
	}
}

// cacheFiles lists dir's files with their modification times and sizes.
func cacheFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.ModTime().String() + " " + strconv.FormatInt(fi.Size(), 10)
	}
	return out
}
