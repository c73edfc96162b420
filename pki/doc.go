// Package pki issues certificate authorities, intermediates, leaf certificates
// and CRLs. It replaces the openssl recipes of vendor guides for tests, for
// `certgate dev` and for `certgate pki`. It keeps no state on disk itself: callers
// persist what it returns.
package pki
