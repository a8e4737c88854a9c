package pgtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// CPU returns the CPU seconds the server has used so far: its postmaster's
// and every process it started (backends, the WAL writer, autovacuum...),
// including those that have exited. Benchmarks take the difference over a
// window. An error where /proc cannot say (not Linux).
func (s *Server) CPU() (float64, error) {
	pidFile, err := os.ReadFile(filepath.Join(s.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(pidFile, []byte("\n"))
	postmaster := string(bytes.TrimSpace(line))
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var total float64
	for _, e := range ents {
		if e.Name() != postmaster && !isDigits(e.Name()) {
			continue
		}
		ppid, times, ok := procStat(e.Name())
		if !ok {
			continue
		}
		switch {
		case e.Name() == postmaster:
			// Its own time and its reaped children's: processes that
			// exited during the window count.
			total += times[0] + times[1] + times[2] + times[3]
		case ppid == postmaster:
			total += times[0] + times[1]
		}
	}
	return total / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times on Linux.
const clockTicks = 100

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// procStat reads a process's parent and utime, stime, cutime, cstime.
func procStat(pid string) (ppid string, times [4]float64, ok bool) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", times, false
	}
	// The command name, in parentheses, may hold blanks: fields follow
	// the last ')'.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return "", times, false
	}
	f := strings.Fields(string(data[end+1:]))
	if len(f) < 15 {
		return "", times, false
	}
	for k := range times {
		times[k], _ = strconv.ParseFloat(f[11+k], 64)
	}
	return f[1], times, true
}

// SelfCPU returns the CPU seconds this process has used so far (user and
// system), for the Go side of a benchmark's figure.
func SelfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	sec := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return sec(ru.Utime) + sec(ru.Stime)
}
