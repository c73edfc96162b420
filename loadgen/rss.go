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
