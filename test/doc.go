// Package test holds certgate's end-to-end tests: a real gRPC connection
// to the ext_authz server, a real HTTP check endpoint and, where installed, a
// real NGINX in front of it. Certificates are made at test time.
package test
