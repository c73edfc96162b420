package crlfetch

import (
	"fmt"
	"net/url"
	"strings"
)

// LearnOptions say which CRL URLs Learn may add: those under one of
// AllowedPrefixes, at most Max of them (DefaultMaxLearned when zero).
// Without prefixes Learn adds nothing.
type LearnOptions struct {
	AllowedPrefixes []string
	Max             int
}

// learnState is guarded by Fetcher.mu.
type learnState struct {
	prefixes         []*url.URL
	learned          int
	dropped, refused uint64
	warnedAtTheBound bool
}

// parsePrefixes reads allowed prefixes: absolute http(s) URLs whose path
// ends in "/", so that "http://crl.example/" does not also allow
// "http://crl.example.evil/" nor "/crls" allow "/crls-attacker".
func parsePrefixes(list []string) ([]*url.URL, error) {
	var out []*url.URL
	for _, p := range list {
		if err := CheckURL(p); err != nil {
			return nil, fmt.Errorf("allowed prefix: %w", err)
		}
		u, _ := url.Parse(p)
		if u.Path == "" {
			u.Path = "/"
		}
		if !strings.HasSuffix(u.Path, "/") || u.RawQuery != "" || u.Fragment != "" || u.RawPath != "" {
			return nil, fmt.Errorf("allowed prefix %q: want scheme://host[:port]/path/ ending in a slash, without query or escapes", p)
		}
		out = append(out, u)
	}
	return out, nil
}

// CheckPrefixes says why one of the allowed prefixes cannot be used.
func CheckPrefixes(list []string) error {
	_, err := parsePrefixes(list)
	return err
}

// allowed reports whether u lies under an allowed prefix: the same scheme
// and host (port included), a path below the prefix's path, and nothing
// that could be read two ways (no dot segments, escapes, query, fragment
// or user information).
func (l *learnState) allowed(u *url.URL) bool {
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.RawPath != "" || u.Opaque != "" {
		return false
	}
	if strings.IndexFunc(u.Path, ambiguousPathRune) >= 0 {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	for _, p := range l.prefixes {
		if strings.EqualFold(u.Scheme, p.Scheme) && strings.EqualFold(u.Host, p.Host) && strings.HasPrefix(u.Path, p.Path) {
			return true
		}
	}
	return false
}

// ambiguousPathRune is a character of a decoded path that a server may read
// another way than the prefix check did: a '%' left by a double escape
// ("%252e%252e" is ".." to a server that decodes twice), a backslash, a
// space or a control character (a NUL ends the path for some).
func ambiguousPathRune(r rune) bool {
	return r == '%' || r == '\\' || r <= ' ' || r == 0x7f
}

// Learn adds the CRL URLs a certificate names (its CRL distribution
// points) as sources, fetched at once and then on their schedule. Only
// pass URLs of certificates that verified against the configured CAs: the
// URL of a certificate anyone can make is a request anyone can make
// certgate send. A URL outside the allowed prefixes, or past the bound, is
// counted and not fetched. Learn never blocks on the network.
func (f *Fetcher) Learn(urls ...string) {
	if len(f.learn.prefixes) == 0 || len(urls) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, raw := range urls {
		if _, known := f.byURL[raw]; known {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || CheckURL(raw) != nil || !f.learn.allowed(u) {
			f.learn.refused++
			continue
		}
		if f.learn.learned >= f.opts.Learn.Max {
			f.learn.dropped++
			if !f.learn.warnedAtTheBound {
				f.learn.warnedAtTheBound = true
				f.log.Warn("CRL distribution point not learned: trust.crl_distribution_points.max_urls reached; configure it in trust.crl_urls or raise the bound",
					"url", raw, "max_urls", f.opts.Learn.Max)
			}
			continue
		}
		s := &source{url: raw, learned: true, nextAttempt: f.opts.Now()}
		f.add(s)
		f.learn.learned++
		f.log.Info("CRL distribution point learned", "url", raw, "learned", f.learn.learned)
		if f.run != nil {
			f.startLoop(f.run, s)
		}
	}
}
