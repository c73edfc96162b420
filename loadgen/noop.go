package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// Noop is the baseline: an ext_authz server (gRPC and HTTP) that allows
// everything without looking, so a run against it measures the transport,
// the load generator and the machine, and nothing of certgate.
type Noop struct {
	GRPCAddr, HTTPAddr string
	grpc               *grpc.Server
	http               *http.Server
	done               chan struct{}
}

type noopAuthz struct {
	authv3.UnimplementedAuthorizationServer
	ok *authv3.CheckResponse
}

func (n *noopAuthz) Check(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return n.ok, nil
}

// StartNoop listens on 127.0.0.1 with fresh ports and serves until Close.
func StartNoop() (*Noop, error) {
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("no-op server: %w", err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = gl.Close()
		return nil, fmt.Errorf("no-op server: %w", err)
	}
	n := &Noop{GRPCAddr: gl.Addr().String(), HTTPAddr: hl.Addr().String(), done: make(chan struct{}, 2)}
	n.grpc = grpc.NewServer()
	ok := &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{}},
	}
	authv3.RegisterAuthorizationServer(n.grpc, &noopAuthz{ok: ok})
	n.http = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = n.grpc.Serve(gl); n.done <- struct{}{} }()
	go func() {
		if err := n.http.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = gl.Close()
		}
		n.done <- struct{}{}
	}()
	return n, nil
}

// Close stops both servers and waits for them.
func (n *Noop) Close() error {
	n.grpc.Stop()
	_ = n.http.Close()
	<-n.done
	<-n.done
	return nil
}
