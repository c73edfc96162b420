package crlfetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults for Options left zero.
const (
	DefaultRefresh      = 5 * time.Minute
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBytes     = 16 << 20
	DefaultMaxRedirects = 3
	DefaultMaxLearned   = 16
)

// Document is the body of one CRL source.
type Document struct {
	URL  string
	Data []byte
}

// Info is what a CheckFunc read from a document it accepted.
type Info struct {
	// ThisUpdate is the latest thisUpdate, NextUpdate the earliest
	// nextUpdate, Number the CRL number of the document's CRLs (of the
	// first one, in decimal; "" without one).
	ThisUpdate, NextUpdate time.Time
	Number                 string
}

// CheckFunc decides whether doc may replace prev, the source's last good
// document (nil when there is none). An error keeps prev.
type CheckFunc func(doc Document, prev *Document) (Info, error)

// Options configure a Fetcher.
type Options struct {
	// URLs are the configured sources, fetched by Start.
	URLs []string
	// Refresh is the most time between two fetches of a source (less
	// when its CRL's nextUpdate comes sooner, or after a failure).
	Refresh time.Duration
	// Timeout bounds one fetch, connection to last byte.
	Timeout time.Duration
	// MaxBytes is the largest body accepted; a larger one is a failure.
	MaxBytes int64
	// MaxRedirects is how many redirects one fetch follows.
	MaxRedirects int
	// CacheDir, when set, keeps each source's last good document, read
	// back (through Check) when a restart cannot fetch it.
	CacheDir string
	// ReadOnlyCache reads CacheDir but never writes it (nor creates it):
	// for one-shot commands, which may run as another user than the
	// service that owns the cache (as root, they would leave files that
	// service cannot replace or, being another user's, would not read).
	ReadOnlyCache bool
	// Learn says which URLs Learn may add.
	Learn LearnOptions
	// Check must accept a document before it is used; required.
	Check CheckFunc
	// OnChange runs, in the fetching goroutine, after a source's document
	// was replaced (not after Start's fetches: the caller loads then).
	OnChange func(ctx context.Context)
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// Now is the clock of schedules and status; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Fetcher keeps the documents of its sources current. Its methods are safe
// for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex
	sources []*source
	byURL   map[string]*source
	learn   learnState
	// run is the context of Run, for sources learned while it runs, and
	// loops its sources' goroutines, which Run waits for: none fetches
	// (nor calls OnChange) once Run has returned.
	run   context.Context
	loops sync.WaitGroup
}

// New checks opts and returns a Fetcher; nothing is fetched yet.
func New(opts Options) (*Fetcher, error) {
	if opts.Check == nil {
		return nil, errors.New("crlfetch: a CheckFunc is required")
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.Learn.Max <= 0 {
		opts.Learn.Max = DefaultMaxLearned
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fetcher{opts: opts, log: opts.Logger, byURL: map[string]*source{}}
	if f.log == nil {
		f.log = slog.Default()
	}
	prefixes, err := parsePrefixes(opts.Learn.AllowedPrefixes)
	if err != nil {
		return nil, err
	}
	f.learn.prefixes = prefixes
	f.client = f.newClient()
	for _, u := range opts.URLs {
		if err := CheckURL(u); err != nil {
			return nil, err
		}
		if _, dup := f.byURL[u]; !dup {
			f.add(&source{url: u})
		}
	}
	return f, nil
}

// CheckURL says why u cannot be a CRL source: only absolute http and https
// URLs without user information are.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("CRL URL %q: %w", u, err)
	}
	if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("CRL URL %q: want an absolute http:// or https:// URL", u)
	}
	if p.User != nil {
		return fmt.Errorf("CRL URL %q: user information in a URL is not supported", u)
	}
	return nil
}

// add registers s; f.mu is held or f is not shared yet.
func (f *Fetcher) add(s *source) {
	f.sources = append(f.sources, s)
	f.byURL[s.url] = s
}

// Start reads each configured source's cached document, then fetches every
// source once (FetchAll). A source that neither fetch nor cache provides
// is logged as an error: what covers its certificates is missing.
func (f *Fetcher) Start(ctx context.Context) {
	f.mu.Lock()
	list := append([]*source(nil), f.sources...)
	f.mu.Unlock()
	for _, s := range list {
		f.readCache(s)
	}
	f.FetchAll(ctx)
}

// FetchAll fetches every source now, all at the same time, and returns when
// each fetch has ended (within Timeout). It reports whether a source got a
// new document; OnChange is not called.
func (f *Fetcher) FetchAll(ctx context.Context) bool {
	f.mu.Lock()
	list := append([]*source(nil), f.sources...)
	f.mu.Unlock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	changed := false
	for _, s := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.fetch(ctx, s) {
				mu.Lock()
				changed = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return changed
}

// Run fetches each source when its schedule says, and the sources Learn
// adds, until ctx ends.
func (f *Fetcher) Run(ctx context.Context) {
	f.mu.Lock()
	f.run = ctx
	for _, s := range f.sources {
		f.startLoop(ctx, s)
	}
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.run = nil // Learn starts no more loops
	f.mu.Unlock()
	f.loops.Wait()
}

// startLoop runs s's loop in a goroutine Run waits for; f.mu is held.
func (f *Fetcher) startLoop(ctx context.Context, s *source) {
	f.loops.Add(1)
	go func() {
		defer f.loops.Done()
		f.loop(ctx, s)
	}()
}

// loop fetches s whenever it is due, until ctx ends.
func (f *Fetcher) loop(ctx context.Context, s *source) {
	for {
		f.mu.Lock()
		wait := s.nextAttempt.Sub(f.opts.Now())
		f.mu.Unlock()
		timer := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		if f.fetch(ctx, s) && f.opts.OnChange != nil {
			f.opts.OnChange(ctx)
		}
	}
}

// Documents returns the last good document of every source that has one:
// the configured sources in their order, then the learned ones.
func (f *Fetcher) Documents() []Document {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Document
	for _, s := range f.sources {
		if s.good != nil {
			out = append(out, *s.good)
		}
	}
	return out
}
