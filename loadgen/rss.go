package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSS returns the resident set size of this process in bytes, from
// /proc/self/status (VmRSS), so it works on Linux only.
func RSS() (int64, error) { return rssOf("/proc/self/status") }

// RSSOf returns the resident set size of process pid (Linux only), for a
// certgate running in its own process.
func RSSOf(pid int) (int64, error) {
	return rssOf("/proc/" + strconv.Itoa(pid) + "/status")
}

func rssOf(file string) (int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	return parseVmRSS(data)
}

func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("read RSS: unexpected VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read RSS: %w", err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("read RSS: no VmRSS line in /proc/self/status")
}

// ServerMemory is the memory of the certgate a run loaded.
type ServerMemory struct {
	RSSBytes int64
	// CachedVerdicts is the in-process certgate's verdict cache size (0
	// for another process).
	CachedVerdicts int
	// IncludesLoadTool says the RSS is of this process: server and load
	// tool together.
	IncludesLoadTool bool
}

// MeasureServerMemory reads the RSS of process pid when pid > 0, else of
// this process when cg (an in-process certgate) is set; the zero value
// when there is neither.
func MeasureServerMemory(pid int, cg *Certgate) (ServerMemory, error) {
	switch {
	case pid > 0:
		rss, err := RSSOf(pid)
		return ServerMemory{RSSBytes: rss}, err
	case cg != nil:
		m := ServerMemory{CachedVerdicts: cg.Checker.CachedVerdicts()}
		if rss, err := RSS(); err == nil {
			m.RSSBytes, m.IncludesLoadTool = rss, true
		}
		return m, nil
	}
	return ServerMemory{}, nil
}
