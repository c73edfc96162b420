package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
)

// faultTarget is steady load on both of p's check adapters.
func faultTarget(p *certgateProc, w *world, classes []loadClass) loadTarget {
	return loadTarget{GRPC: p.grpcAddr, HTTP: "http://" + p.httpAddr, PEMs: w.clients, Classes: classes}
}

// waitStatus polls GetStatus every 10 ms until ok accepts it or limit
// passes, and returns how long after since it was accepted.
func waitStatus(ctx context.Context, admin adminv1.AdminServiceClient, since time.Time, limit time.Duration,
	ok func(*adminv1.GetStatusResponse) bool,
) (time.Duration, *adminv1.GetStatusResponse, error) {
	deadline := time.Now().Add(limit)
	var last *adminv1.GetStatusResponse
	var lastErr error
	for time.Now().Before(deadline) {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := admin.GetStatus(callCtx, &adminv1.GetStatusRequest{})
		cancel()
		if err == nil {
			last = st
			if ok(st) {
				return time.Since(since), st, nil
			}
		}
		lastErr = err
		time.Sleep(10 * time.Millisecond)
	}
	if lastErr != nil {
		return 0, last, fmt.Errorf("status not reached within %v (last status %v): %w", limit, last, lastErr)
	}
	return 0, last, fmt.Errorf("status not reached within %v (last status %v)", limit, last)
}

// reloadedAfter accepts a status whose last reload was attempted after at
// and ended with result.
func reloadedAfter(at time.Time, result adminv1.ReloadResult) func(*adminv1.GetStatusResponse) bool {
	return func(st *adminv1.GetStatusResponse) bool {
		lr := st.GetLastReload()
		return lr != nil && !lr.GetAttemptedAt().AsTime().Before(at) && lr.GetResult() == result
	}
}

// writeInPlace truncates and rewrites path, as an editor saving in place
// or `cat > file` does.
func writeInPlace(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

// writeRename writes a hidden temporary file beside path and renames it
// over path, as atomic writers (and most deploy tools) do.
func writeRename(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
