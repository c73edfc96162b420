package main

import (
	"flag"

	"github.com/certgate/certgate/config"
)

// registerServe adds the flags only serve has: where the admin API listens
// and who may ask the data listeners (listen.tls, listen.allowed_peers),
// and the shadow policy.
func (f *configFlags) registerServe(fs *flag.FlagSet) {
	fs.StringVar(&f.adminListen, "admin-listen", "", "admin API `address`: unix:PATH, or host:port with admin.cert_file and key_file; \"off\" disables it "+
		"(default "+config.DefaultAdminSocket+" for root, else $"+config.EnvXDGRuntimeDir+"/certgate/admin.sock; here "+config.Default().Admin.Listen+")")
	fs.StringVar(&f.tlsCert, "listen-tls-cert", "", "serve the data listeners over TLS with this certificate `file` (listen.tls.cert_file; needs --listen-tls-key and --listen-tls-client-ca)")
	fs.StringVar(&f.tlsKey, "listen-tls-key", "", "the data listeners' TLS key `file` (listen.tls.key_file)")
	fs.Var(&f.tlsClientCAs, "listen-tls-client-ca", "CA `file` of the proxies' client certificates the data listeners require (listen.tls.client_ca_files; repeatable)")
	fs.Var(&f.allowedPeers, "allowed-peers", "`addresses` or CIDRs that may ask the data listeners; others get 403 peer_not_allowed (listen.allowed_peers; \"\" for every peer)")
	fs.StringVar(&f.shadowDir, "policy-shadow-dir", "", "shadow policy `dir`ectory, evaluated beside the serving policy without changing any decision (policy.shadow.dir; \"\" for none)")
}
