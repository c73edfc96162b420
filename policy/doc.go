// Package policy loads Rego policies and data, prepares the decision query
// data.certgate.authz.decision once per load, and evaluates it per request
// with a typed Input and a typed Decision. Per load it also indexes the
// route table (handed to the policy as input.route_candidates), works out
// which input fields the policy reads, and keeps a bounded cache of
// decisions keyed on them.
//
// It does not verify certificates (package trust does) nor swap engines on
// reload: an Engine is immutable but for its cache, and the caller
// publishes it atomically.
package policy
