// Package trust verifies client certificate chains against the configured CA
// certificates and checks every certificate of the chain against CRLs (RFC
// 5280 §6.3, for the parts it implements: docs/validation.md lists them and
// how each unsupported feature fails closed), and holds each CA to the users
// and groups its Binding allows. It does not parse requests or decide
// permissions.
package trust
