package server

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// DecisionLogFlushInterval is how long a decision line may wait in the
// buffer of a BufferedWriter: at most this much of the log is lost if the
// process is killed (Envoy's access logs flush every second by default).
const DecisionLogFlushInterval = 200 * time.Millisecond

// BufferedWriter batches writes to w (a file, stdout) and flushes them
// every DecisionLogFlushInterval, when the buffer fills, and on Close: one
// system call per batch instead of one per decision. Each Write is kept
// whole, so JSON lines never interleave.
type BufferedWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewBufferedWriter starts the periodic flush; Close stops it.
func NewBufferedWriter(w io.Writer) *BufferedWriter {
	b := &BufferedWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushLoop()
	return b
}

// Write buffers p whole.
func (b *BufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Available() < len(p) && b.buf.Buffered() > 0 {
		if err := b.buf.Flush(); err != nil {
			return 0, err
		}
	}
	return b.buf.Write(p)
}

// Flush writes out what is buffered.
func (b *BufferedWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Flush()
}

// Close stops the periodic flush and flushes the rest.
func (b *BufferedWriter) Close() error {
	close(b.stop)
	<-b.done
	return b.Flush()
}

func (b *BufferedWriter) flushLoop() {
	defer close(b.done)
	t := time.NewTicker(DecisionLogFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}
