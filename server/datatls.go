package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/certgate/certgate/config"
)

// dataTLS is the data listeners' TLS configuration, read again when one of
// its files changes (a rotated certificate, a new proxy CA: cert-manager
// renews them in place), so that new connections use the new files
// without a restart. A change that cannot be loaded (a key that does not
// match yet, a file cut short) keeps the last good configuration and is
// logged; the next change is tried again. The files are looked at once per
// handshake, which the proxies' long-lived connections make rare.
type dataTLS struct {
	files config.ListenTLS
	log   *slog.Logger
	mu    sync.Mutex // one reload at a time
	cur   atomic.Pointer[tlsGeneration]
}

// tlsGeneration is one loaded configuration and the file stamps it was
// loaded at (or last failed to replace it at).
type tlsGeneration struct {
	cfg   *tls.Config
	stamp string
}

// newDataTLS loads files once: a first load that fails is the error.
func newDataTLS(files config.ListenTLS, log *slog.Logger) (*dataTLS, error) {
	d := &dataTLS{files: files, log: log}
	stamp := d.stamp()
	cfg, err := dataTLSConfig(files)
	if err != nil {
		return nil, err
	}
	d.cur.Store(&tlsGeneration{cfg: cfg, stamp: stamp})
	return d, nil
}

// config is the listeners' TLS configuration: each handshake gets the
// current generation.
func (d *dataTLS) config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return d.current(), nil
	}}
}

// current returns the configuration of the files as they are now, loading
// them again when they changed.
func (d *dataTLS) current() *tls.Config {
	stamp := d.stamp()
	if g := d.cur.Load(); g.stamp == stamp {
		return g.cfg
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.cur.Load()
	if g.stamp == stamp {
		return g.cfg
	}
	cfg, err := dataTLSConfig(d.files)
	if err != nil {
		d.log.Warn("listen.tls files changed but cannot be loaded; new connections keep the last good certificate and client CAs", "error", err.Error())
		d.cur.Store(&tlsGeneration{cfg: g.cfg, stamp: stamp})
		return g.cfg
	}
	d.log.Info("listen.tls files reloaded: new connections use them")
	d.cur.Store(&tlsGeneration{cfg: cfg, stamp: stamp})
	return cfg
}

// stamp is the size and modification time of every file, or why it
// cannot be read: it changes whenever one of them is replaced.
func (d *dataTLS) stamp() string {
	var b strings.Builder
	for _, name := range append([]string{d.files.CertFile, d.files.KeyFile}, d.files.ClientCAFiles...) {
		fi, err := os.Stat(name)
		if err != nil {
			fmt.Fprintf(&b, "%s:missing;", name)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", name, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// forProtocols returns c for a listener that speaks protos (ALPN: gRPC
// needs h2), carried into each handshake's configuration too.
func forProtocols(c *tls.Config, protos ...string) *tls.Config {
	if c == nil {
		return nil
	}
	out := c.Clone()
	out.NextProtos = protos
	if get := c.GetConfigForClient; get != nil {
		out.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			cfg, err := get(h)
			if err != nil || cfg == nil {
				return cfg, err
			}
			cfg = cfg.Clone()
			cfg.NextProtos = protos
			return cfg, nil
		}
	}
	return out
}
