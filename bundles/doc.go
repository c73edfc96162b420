// Package bundles serves certgate's policy and data from OPA bundles,
// configured with OPA's own schema (services, bundles, keys) and downloaded
// with OPA's downloader (ETags, long polling, signature verification). Each
// downloaded bundle becomes a snapshot through the server's Reloader, so a
// bundle that does not compile or decide keeps the serving one. It does not
// fetch CAs or CRLs; those stay files.
package bundles
