package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
)

// dataTLSFlags are the proxy's side of listen.tls: the client certificate
// a data listener with TLS requires, and the CA of certgate's server
// certificate. None set means plaintext, as to a listener without it.
type dataTLSFlags struct {
	cert, key, ca string
}

func (f *dataTLSFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cert, "tls-cert", "", "client certificate `file` for data listeners with listen.tls (the proxy's certificate, of listen.tls.client_ca_files); turns on TLS")
	fs.StringVar(&f.key, "tls-key", "", "the --tls-cert key `file`")
	fs.StringVar(&f.ca, "tls-ca", "", "CA `file` of certgate's listen.tls server certificate (default: the system roots); turns on TLS")
}

// enabled says whether the data listeners are asked over TLS.
func (f dataTLSFlags) enabled() bool { return f.cert != "" || f.key != "" || f.ca != "" }

// config is the client TLS configuration, nil when no flag is set.
func (f dataTLSFlags) config() (*tls.Config, error) {
	if !f.enabled() {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.cert != "" || f.key != "" {
		if f.cert == "" || f.key == "" {
			return nil, fmt.Errorf("--tls-cert and --tls-key go together")
		}
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if f.ca != "" {
		data, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("--tls-ca: no certificate in %s", f.ca)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
