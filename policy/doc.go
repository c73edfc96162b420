// Package policy loads Rego policies and data, prepares the decision query
// data.certgate.authz.decision once per load, and evaluates it per request
// with a typed Input and a typed Decision.
//
// It does not verify certificates (package trust does) nor swap engines on
// reload: an Engine is immutable, and the caller publishes it atomically.
package policy
