// Package trust verifies client certificate chains against the configured CA
// certificates and checks every certificate of the chain against CRLs (RFC
// 5280 §6.3, for the parts it implements). It does not parse requests or
// decide permissions.
package trust
