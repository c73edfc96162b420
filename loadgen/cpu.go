package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// CPUSource reads the CPU time (user + system) some processes have used
// so far; a run's CPU is the difference of two readings.
type CPUSource struct {
	// Name says whose time it is, e.g. "this process (server + load tool)".
	Name string
	Read func() (time.Duration, error)
}

// SelfCPU is this process's CPU time from getrusage(RUSAGE_SELF): with
// --serve that is the server and the load tool together.
func SelfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// ProcessCPU returns a reader of the CPU time (utime + stime of
// /proc/<pid>/stat) of the processes pids returns, summed. pids is asked
// on each reading, so that workers NGINX starts later are counted.
func ProcessCPU(pids func() []int) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		var total time.Duration
		for _, pid := range pids() {
			st, err := readProcStat(pid)
			if err != nil {
				return 0, err
			}
			total += st.cpu
		}
		return total, nil
	}
}

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, which Linux
// fixes at 100 for user space).
const clockTick = 10 * time.Millisecond

type procStat struct {
	ppid int
	cpu  time.Duration
}

// readProcStat reads the parent and utime + stime of pid.
func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, fmt.Errorf("read CPU time: %w", err)
	}
	return parseProcStat(data)
}

// parseProcStat parses a /proc/<pid>/stat line: the fields after the
// command (which may hold spaces and parentheses) are state, ppid, …,
// utime (14th field) and stime (15th).
func parseProcStat(data []byte) (procStat, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("read CPU time: malformed stat %q", data)
	}
	f := bytes.Fields(data[end+1:])
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("read CPU time: stat has %d fields after the command, want 13 or more", len(f))
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	utime, err2 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err3 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, fmt.Errorf("read CPU time: malformed stat %q", data)
	}
	return procStat{ppid: ppid, cpu: time.Duration(utime+stime) * clockTick}, nil
}

// LoadAverage returns the 1, 5 and 15 minute load averages of
// /proc/loadavg as printed there ("" when unreadable), to note beside a
// figure measured on a shared machine.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := bytes.Fields(data)
	if len(f) < 3 {
		return ""
	}
	return string(bytes.Join(f[:3], []byte(" ")))
}
