package crlfetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// source is one CRL URL and what is known of it; every field past url and
// learned is guarded by Fetcher.mu.
type source struct {
	url     string
	learned bool

	good *Document
	info Info
	// etag and lastModified are the validators of good's response;
	// conditional says whether they may be sent (see validators).
	etag, lastModified string
	conditional        bool
	fromCache          bool

	lastAttempt, lastSuccess, nextAttempt time.Time
	lastErr                               string
	failures                              int
	counts                                [resultCount]uint64
}

// result is the outcome of one fetch, as counted.
type result int

const (
	resultChanged result = iota
	resultUnchanged
	resultFailure
	resultCount
)

var resultNames = [resultCount]string{"changed", "unchanged", "failure"}

// ErrTooLarge is a response body over Options.MaxBytes.
var ErrTooLarge = errors.New("CRL response larger than the limit")

// learnedKey marks the request of a learned source, whose redirects must
// stay within the allowed prefixes too.
type learnedKey struct{}

func (f *Fetcher) newClient() *http.Client {
	transport := f.opts.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = f.opts.Timeout
		t.MaxIdleConnsPerHost = 2
		transport = t
	}
	return &http.Client{
		Transport: transport,
		Timeout:   f.opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > f.opts.MaxRedirects {
				return fmt.Errorf("more than %d redirects", f.opts.MaxRedirects)
			}
			if err := CheckURL(req.URL.String()); err != nil {
				return fmt.Errorf("redirect: %w", err)
			}
			if req.Context().Value(learnedKey{}) != nil {
				if !f.learn.allowed(req.URL) {
					return fmt.Errorf("redirect to %s, outside trust.crl_distribution_points.allowed_prefixes", req.URL.Redacted())
				}
				return nil
			}
			if !sameOrigin(via[0].URL, req.URL) {
				return fmt.Errorf("redirect to %s: a configured CRL URL may redirect only within its own host", req.URL.Redacted())
			}
			return nil
		},
	}
}

// sameOrigin reports whether a redirect from a configured URL to to stays
// on from's host and port, over the same scheme or up to https. CRLs are
// mostly served over plain HTTP, where anyone on the path can answer: a
// redirect anywhere would let them send certgate's GET to an address only
// certgate reaches (a cloud metadata service, an internal admin endpoint).
func sameOrigin(from, to *url.URL) bool {
	return strings.EqualFold(from.Host, to.Host) && (from.Scheme == to.Scheme || to.Scheme == "https")
}

// fetch fetches s once and records the outcome. It reports whether s now
// has a new document.
func (f *Fetcher) fetch(ctx context.Context, s *source) bool {
	f.mu.Lock()
	prev, etag, lastModified, conditional := s.good, s.etag, s.lastModified, s.conditional
	f.mu.Unlock()
	if prev == nil {
		conditional = false // a 304 would leave nothing to use
	}
	resp, err := f.get(ctx, s, etag, lastModified, conditional)
	var info Info
	res := resultUnchanged
	switch {
	case err != nil:
		res = resultFailure
	case resp.notModified:
	case prev != nil && bytes.Equal(resp.body, prev.Data):
	default:
		doc := Document{URL: s.url, Data: resp.body}
		if info, err = f.opts.Check(doc, prev); err != nil {
			res = resultFailure
			break
		}
		res = resultChanged
		f.writeCache(s.url, resp, doc)
	}
	f.record(s, res, resp, info, err)
	return res == resultChanged
}

// response is what one GET brought.
type response struct {
	notModified        bool
	body               []byte
	etag, lastModified string
	conditional        bool
}

// get sends one GET for s, conditional when allowed.
func (f *Fetcher) get(ctx context.Context, s *source, etag, lastModified string, conditional bool) (*response, error) {
	if s.learned {
		ctx = context.WithValue(ctx, learnedKey{}, true)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/pkix-crl, application/x-pem-file;q=0.9, */*;q=0.1")
	// RFC 9110 13.1.3: If-None-Match wins; If-Modified-Since only without
	// an entity tag.
	if conditional && etag != "" {
		req.Header.Set("If-None-Match", etag)
	} else if conditional && lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	out := &response{etag: res.Header.Get("ETag"), lastModified: res.Header.Get("Last-Modified")}
	out.conditional = strongEnough(res.Header.Get("Date"), out.lastModified)
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		if req.Header.Get("If-None-Match") == "" && req.Header.Get("If-Modified-Since") == "" {
			return nil, errors.New("HTTP 304 to an unconditional request")
		}
		out.notModified = true
		if out.etag == "" {
			out.etag = etag
		}
		if out.lastModified == "" {
			out.lastModified = lastModified
		}
		return out, nil
	default:
		return nil, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	if res.ContentLength > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w: Content-Length %d > %d bytes", ErrTooLarge, res.ContentLength, f.opts.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.opts.MaxBytes)
	}
	out.body = body
	return out, nil
}

// strongEnough says whether a response's validators may be sent back:
// not when its Last-Modified is within a second of its Date. File servers
// (NGINX, Go's http.FileServer) stamp files in whole seconds and build their
// ETag from that stamp, so a CRL published again within the second the
// previous one was fetched would be answered 304 (RFC 9110 8.8.2.2 calls
// such a validator weak). The next request is then unconditional.
func strongEnough(date, lastModified string) bool {
	if lastModified == "" {
		return true
	}
	lm, err := http.ParseTime(lastModified)
	if err != nil {
		return false
	}
	d, err := http.ParseTime(date)
	if err != nil {
		return false
	}
	return d.Sub(lm) >= time.Second
}
