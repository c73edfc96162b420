// Package loadgen drives certgate (or any ext_authz server) with realistic
// traffic: a weighted mix of request classes whose expected status is known,
// sent over real gRPC or HTTP connections, with latency kept in mergeable
// log-bucket histograms. It also starts the no-op baseline server and an
// in-process certgate for `certgate bench`. It measures; it decides nothing.
package loadgen
