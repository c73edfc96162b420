package server

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
)

// OPA's evaluator recurses deeply: on a goroutine that has just been
// started, a decision the policy's cache does not hold spends about a
// third of its time growing the stack (copying it at each doubling).
// gRPC streams therefore run on a fixed set of worker goroutines
// (grpc.NumStreamWorkers), and the first HTTP check of a connection is
// handed to a warmPool, so that a decision runs on a stack that has
// already grown.

// streamWorkers is how many goroutines serve gRPC streams and HTTP checks:
// eight per P. A call that finds every worker busy runs on a goroutine of
// its own, with a fresh stack, and a proxy keeps more calls in flight than
// there are cores: with 16 Checks in flight on 2 cores, stack growth was
// 26 % of the CPU with 2 workers, 20 % with 4, 14 % with 8 and 1 % with 16
// (BenchmarkGRPCCheckMiss). An idle worker costs its stack, which the
// garbage collector shrinks.
func streamWorkers() int {
	return 8 * runtime.GOMAXPROCS(0)
}

// warmPool runs checks on long-lived goroutines, whose stacks keep the
// size the deepest evaluation gave them (until the garbage collector
// halves an idle one). A check that finds no worker idle runs on the
// caller's goroutine: the pool never queues, so it adds no wait and no
// limit on concurrency. A nil *warmPool runs every check on the caller's
// goroutine.
type warmPool struct {
	jobs chan *warmJob
	stop chan struct{}
	once sync.Once // of close
	wg   sync.WaitGroup
}

// warmJob is one check handed to a worker; done is closed when res is set.
type warmJob struct {
	ctx     context.Context
	checker *Checker
	req     *Request
	res     Result
	done    chan struct{}
}

// newWarmPool starts n workers; close stops them.
func newWarmPool(n int) *warmPool {
	p := &warmPool{jobs: make(chan *warmJob), stop: make(chan struct{})}
	for range n {
		p.wg.Go(p.work)
	}
	return p
}

func (p *warmPool) work() {
	for {
		select {
		case <-p.stop:
			return
		case j := <-p.jobs:
			j.res = j.checker.Check(j.ctx, j.req)
			close(j.done)
		}
	}
}

// check runs checker.Check(ctx, req) on an idle worker, or on the
// caller's goroutine when there is none. The worker gets ctx, so a
// cancelled request stops evaluating as it would inline; the caller waits
// for its Result either way, so every decision is logged exactly once.
func (p *warmPool) check(ctx context.Context, checker *Checker, req *Request) Result {
	if p == nil {
		return checker.Check(ctx, req)
	}
	j := &warmJob{ctx: ctx, checker: checker, req: req, done: make(chan struct{})}
	select {
	case p.jobs <- j:
		<-j.done
		return j.res
	default:
		return checker.Check(ctx, req)
	}
}

// close stops the workers once they finish the check in hand; closing
// again does nothing. Checks handed in after close run on the caller's
// goroutine.
func (p *warmPool) close() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
}

// connRequests counts the requests of one HTTP connection: net/http
// serves an HTTP/1.x connection's requests one after another on the
// goroutine it started for the connection, so only the first one runs on
// a fresh stack; a handoff for the others would cost more than it saves
// (BenchmarkHTTPCheckMiss).
type connRequests struct{ n atomic.Uint64 }

type connRequestsKey struct{}

// countRequests is the check listener's http.Server.ConnContext.
func countRequests(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connRequestsKey{}, &connRequests{})
}

// onFreshGoroutine says whether r is likely served on a goroutine whose
// stack has not grown yet: the first request of an HTTP/1.x connection,
// every HTTP/2 one (a goroutine per stream), and any request of a server
// that does not count them.
func onFreshGoroutine(r *http.Request) bool {
	c, ok := r.Context().Value(connRequestsKey{}).(*connRequests)
	return !ok || r.ProtoMajor != 1 || c.n.Add(1) == 1
}

// check decides req: on a warm worker when r's goroutine is fresh,
// inline otherwise.
func (h *httpCheck) check(r *http.Request, req *Request) Result {
	if onFreshGoroutine(r) {
		return h.workers.check(r.Context(), h.checker, req)
	}
	return h.checker.Check(r.Context(), req)
}
