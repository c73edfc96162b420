// Package pki issues certificate authorities, intermediates, leaf certificates
// and CRLs. It replaces the openssl recipes of vendor guides for tests, for
// `certgate dev` and for `certgate pki`. CA, Issue and CRL keep no state; an
// Authority keeps its CA in a PKI directory with a JSON state file (issued
// serials, revocations, CRL number) updated under a file lock and replaced
// atomically, so concurrent commands and crashes never lose a revocation.
package pki
