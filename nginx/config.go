package nginx

import "fmt"

// Config is a whole nginx.conf for an unprivileged NGINX started with
// `-p prefix`: in the foreground, one worker, its pid file, error log and
// temporary files under prefix (logs/ and tmp/ must exist), no access log,
// and httpBlock inside http { }. The end-to-end tests and `certgate bench
// --mode nginx` run NGINX this way.
func Config(prefix, httpBlock string) string {
	return fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
%[2]s
}
`, prefix, httpBlock)
}
