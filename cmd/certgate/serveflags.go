package main

import (
	"flag"

	"github.com/certgate/certgate/config"
)

// registerServe adds the flags only serve has: where the admin API listens.
func (f *configFlags) registerServe(fs *flag.FlagSet) {
	fs.StringVar(&f.adminListen, "admin-listen", "", "admin API `address`: unix:PATH, or host:port with admin.cert_file and key_file; \"off\" disables it "+
		"(default "+config.DefaultAdminSocket+" for root, else $"+config.EnvXDGRuntimeDir+"/certgate/admin.sock; here "+config.Default().Admin.Listen+")")
}
