// Package test holds certgate's end-to-end tests: a real gRPC connection
// to the ext_authz server, a real HTTP check endpoint and, where installed, a
// real NGINX in front of it. Certificates are made at test time.
//
// The fault tests (fault_*_test.go) run the real `certgate serve` binary
// under load while its files break, its CRL goes stale, SIGHUPs pour in or
// it is killed; each logs one line of figures, also appended to the file
// FAULT_REPORT names, if set.
package test
