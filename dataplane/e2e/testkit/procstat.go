package testkit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The cost of processes under measurement, read from /proc: benchmarks
// report the CPU and memory of the daemons they drive.

// clkTck is the kernel's USER_HZ, 100 on every Linux this runs on.
const clkTck = 100

// stat is a process's /proc/<pid>/stat fields after the command name
// (which may hold spaces): fields[0] is the state, fields[2] the process
// group, fields[11] and [12] user and system time in clock ticks.
func stat(pid int) ([]string, error) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+2:]), nil
}

// CPUTime is a process's user+system CPU time; pid 0 is this process.
func CPUTime(pid int) (time.Duration, error) {
	f, err := stat(pid)
	if err != nil {
		return 0, err
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clkTck, nil
}

// RSS is a process's resident set size in bytes (0 when it is gone).
func RSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// Group is the processes of a process group (a Proc's, whose daemon may
// fork workers, as varnishd does).
func Group(pgid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if f, err := stat(pid); err == nil && f[2] == strconv.Itoa(pgid) {
			out = append(out, pid)
		}
	}
	return out
}

// GroupCPUTime sums CPUTime over a process group.
func GroupCPUTime(pgid int) time.Duration {
	var sum time.Duration
	for _, pid := range Group(pgid) {
		if d, err := CPUTime(pid); err == nil {
			sum += d
		}
	}
	return sum
}

// GroupRSS sums RSS over a process group.
func GroupRSS(pgid int) int64 {
	var sum int64
	for _, pid := range Group(pgid) {
		sum += RSS(pid)
	}
	return sum
}
