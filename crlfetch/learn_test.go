package crlfetch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/certgate/certgate/crlfetch"
)

func learnedURLs(f *crlfetch.Fetcher) []string {
	var out []string
	for _, s := range f.Status() {
		if s.Learned {
			out = append(out, s.URL)
		}
	}
	return out
}

func TestLearnAddsOnlyURLsUnderAnAllowedPrefix(t *testing.T) {
	w := newWorld(t)
	f := newFetcher(t, w, crlfetch.Options{Learn: crlfetch.LearnOptions{AllowedPrefixes: []string{"http://crl.example.com/pki/", "https://ca.example.org"}}})
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://crl.example.com/pki/issuing.crl", true},
		{"http://CRL.example.com/pki/sub/root.crl", true},
		{"https://ca.example.org/any.crl", true},
		{"http://crl.example.com/pkix.crl", false},             // beside the prefix, not below it
		{"http://crl.example.com.evil.net/pki/x.crl", false},   // another host that starts the same
		{"http://crl.example.com:8080/pki/x.crl", false},       // another port
		{"https://crl.example.com/pki/x.crl", false},           // another scheme
		{"http://crl.example.com/pki/../admin", false},         // a dot segment
		{"http://crl.example.com/pki/%2e%2e/admin", false},     // an escaped one
		{"http://crl.example.com/pki/%252e%252e/admin", false}, // a double escape
		{"http://crl.example.com/pki/x.crl%00.txt", false},     // a NUL
		{"http://crl.example.com/pki/a%20b.crl", false},        // a space
		{"http://crl.example.com/pki/x.crl?u=http://internal/", false},
		{"http://user@crl.example.com/pki/x.crl", false},
		{"ldap://crl.example.com/pki/x.crl", false},
		{"http://169.254.169.254/latest/meta-data/", false},
	} {
		before := len(learnedURLs(f))
		f.Learn(tt.url)
		if got := len(learnedURLs(f)) > before; got != tt.ok {
			t.Errorf("Learn(%s): learned %v, want %v", tt.url, got, tt.ok)
		}
	}
	if l := f.LearnStatus(); l.Learned != 3 || l.Refused != 13 {
		t.Fatalf("learn status %+v, want 3 learned and 13 refused", l)
	}
}

func TestLearnWithoutPrefixesLearnsNothing(t *testing.T) {
	w := newWorld(t)
	f := newFetcher(t, w, crlfetch.Options{})
	f.Learn("http://crl.example.com/a.crl")
	if len(f.Status()) != 0 {
		t.Fatal("learned a URL with no allowed prefix")
	}
}

func TestLearnStopsAtTheBound(t *testing.T) {
	w := newWorld(t)
	f := newFetcher(t, w, crlfetch.Options{URLs: []string{"http://crl.example.com/configured.crl"},
		Learn: crlfetch.LearnOptions{AllowedPrefixes: []string{"http://crl.example.com/"}, Max: 2}})
	for _, u := range []string{"a", "b", "a", "c", "d", "configured"} {
		f.Learn("http://crl.example.com/" + u + ".crl")
	}
	if got := learnedURLs(f); len(got) != 2 || got[0] != "http://crl.example.com/a.crl" || got[1] != "http://crl.example.com/b.crl" {
		t.Fatalf("learned %v, want a and b", got)
	}
	if l := f.LearnStatus(); l.Dropped != 2 || l.Learned != 2 {
		t.Fatalf("learn status %+v, want 2 dropped (c, d)", l)
	}
}

func TestALearnedURLIsNotRedirectedOutOfItsPrefix(t *testing.T) {
	w := newWorld(t)
	body := w.crl(1)
	inside := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { _, _ = rw.Write(body) }))
	t.Cleanup(inside.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/crl/in" {
			http.Redirect(rw, r, "/crl/real.crl", http.StatusFound)
			return
		}
		if r.URL.Path == "/crl/real.crl" {
			_, _ = rw.Write(body)
			return
		}
		http.Redirect(rw, r, inside.URL+"/elsewhere.crl", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	f := newFetcher(t, w, crlfetch.Options{Learn: crlfetch.LearnOptions{AllowedPrefixes: []string{redirector.URL + "/crl/"}}})
	f.Learn(redirector.URL+"/crl/in", redirector.URL+"/crl/out")
	f.FetchAll(context.Background())
	for _, s := range f.Status() {
		want := s.URL == redirector.URL+"/crl/in"
		if s.Available != want {
			t.Errorf("%s: available %v, want %v (%s)", s.URL, s.Available, want, s.LastError)
		}
	}
}

// TestRunEndsWithTheLoopsOfLearnedURLs: Run returns only once every
// source's goroutine has ended, those of URLs learned while it ran too, so
// that no fetch (nor OnChange reload) outlives the service that ran it.
func TestRunEndsWithTheLoopsOfLearnedURLs(t *testing.T) {
	w := newWorld(t)
	body := w.crl(1)
	started := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/crl/slow.crl" {
			once.Do(func() { close(started) })
			<-r.Context().Done() // until the fetch gives up
			return
		}
		_, _ = rw.Write(body)
	}))
	t.Cleanup(srv.Close)
	running := make(chan struct{}, 1)
	f := newFetcher(t, w, crlfetch.Options{
		URLs:     []string{srv.URL + "/crl/configured.crl"},
		Learn:    crlfetch.LearnOptions{AllowedPrefixes: []string{srv.URL + "/crl/"}},
		OnChange: func(context.Context) { running <- struct{}{} },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	<-running // Run fetched the configured URL: it runs
	f.Learn(srv.URL + "/crl/slow.crl")
	<-started
	cancel()
	<-done
	for _, st := range f.Status() {
		if st.Learned && st.Failures != 1 {
			t.Fatalf("the learned URL's fetch had not ended when Run returned: %+v", st)
		}
	}
}
