// Package identity reads the client certificate chain a proxy forwards (Envoy's
// peer certificate, NGINX's Ssl-Client-Cert header, Envoy's XFCC header, the RFC
// 9440 Client-Cert headers) and turns the leaf into an Identity, refusing a
// leaf that names more than one holder. It parses; it does not verify: chain
// validation and revocation belong to package trust.
package identity
