package server

import (
	"log/slog"
	"testing"
)

func TestHTTPServerSetsEveryTimeoutAndTheHeaderLimit(t *testing.T) {
	srv := newHTTPServer(NewHTTPHandler(NewChecker(nil, Options{}), ListenerTrust{}), slog.New(slog.DiscardHandler))
	for name, got := range map[string]int64{
		"ReadHeaderTimeout": int64(srv.ReadHeaderTimeout),
		"ReadTimeout":       int64(srv.ReadTimeout),
		"WriteTimeout":      int64(srv.WriteTimeout),
		"IdleTimeout":       int64(srv.IdleTimeout),
		"MaxHeaderBytes":    int64(srv.MaxHeaderBytes),
	} {
		if got <= 0 {
			t.Errorf("%s is %d: net/http's default (none, or 1 MB of headers) would apply", name, got)
		}
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout || srv.MaxHeaderBytes != MaxHTTPHeaderBytes {
		t.Errorf("ReadHeaderTimeout %v > ReadTimeout %v, or MaxHeaderBytes %d != %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.MaxHeaderBytes, MaxHTTPHeaderBytes)
	}
}
