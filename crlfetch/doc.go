// Package crlfetch keeps CRLs fetched over HTTP current: a conditional GET
// (ETag, If-Modified-Since) every refresh interval and ahead of a CRL's
// nextUpdate, with a timeout, a size limit and few redirects. Each body is
// checked by the caller's CheckFunc (for certgate: trust.CheckCRLDocument)
// before it replaces the last good one, which a failed fetch, a bad body or
// an older CRL leave in place, and which a cache directory keeps across
// restarts. It also learns URLs from certificates within allowed prefixes.
// It does not decide what a missing CRL means: the trust store does.
package crlfetch
