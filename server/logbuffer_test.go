package server

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certgate/certgate/internal/testlog"
)

func TestBufferedWriterKeepsLinesWholeAndFlushes(t *testing.T) {
	var out testlog.Buffer
	w := NewBufferedWriter(&out)
	line := strings.Repeat("x", 1000) + "\n"
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				if _, err := w.Write([]byte(line)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// Without Close, the periodic flush delivers everything in time.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "\n") < 400 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for i, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if l != line[:len(line)-1] {
			t.Fatalf("line %d is cut or mixed: %d bytes", i, len(l))
		}
	}
	if n := strings.Count(out.String(), "\n"); n != 400 {
		t.Fatalf("%d lines flushed, want 400", n)
	}
	if _, err := w.Write([]byte("last\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "last\n") {
		t.Error("Close did not flush the last line")
	}
}
