package heap

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Defaults of Pace.
const (
	// GCPercent is the collector's target: a new cycle when the heap has
	// grown by four times its live size.
	GCPercent = 400
	// LimitShare is the share of the memory the process may use that the
	// soft limit allows the heap (the rest is for the runtime, stacks and
	// what is not the Go heap).
	LimitShare = 0.75
)

// Settings are what Pace set: GCPercent -1 and Limit 0 for what it left to
// the runtime's defaults (or to the environment), and why.
type Settings struct {
	GCPercent int
	Limit     int64 // bytes
	Why       string
}

// Pace sets the collector's pacing for a long-running node: GCPercent and
// a soft limit of LimitShare of the memory available, unless GOGC or
// GOMEMLIMIT is set in the environment (then the runtime has applied it
// and Pace changes nothing), or the memory available is not known (then
// the higher percentage would have no bound, and the defaults stay).
func Pace() Settings {
	s := plan(os.Getenv, os.ReadFile)
	if s.GCPercent >= 0 {
		debug.SetGCPercent(s.GCPercent)
	}
	if s.Limit > 0 {
		debug.SetMemoryLimit(s.Limit)
	}
	return s
}

// plan decides Pace's settings from the environment and the files that
// say how much memory there is.
func plan(getenv func(string) string, readFile func(string) ([]byte, error)) Settings {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return Settings{GCPercent: -1, Why: "GOGC or GOMEMLIMIT is set"}
	}
	avail, from := available(readFile)
	if avail <= 0 {
		return Settings{GCPercent: -1, Why: "the memory available is not known"}
	}
	return Settings{GCPercent: GCPercent, Limit: int64(float64(avail) * LimitShare), Why: "a share of " + from}
}

// available is the memory the process may use, in bytes, and where that
// figure comes from: the cgroup (v2, then v1) limit when there is one, else
// the machine's RAM (MemTotal); 0 when neither can be read.
func available(readFile func(string) ([]byte, error)) (int64, string) {
	ram := memTotal(readFile)
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := readFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
		// "max" (v2) or a huge number (v1) is no limit at all.
		if err != nil || n <= 0 || ram > 0 && n >= ram {
			continue
		}
		return n, "the cgroup's memory limit (" + f + ")"
	}
	if ram > 0 {
		return ram, "the machine's memory (MemTotal)"
	}
	return 0, ""
}

// memTotal is MemTotal of /proc/meminfo in bytes, 0 when unknown.
func memTotal(readFile func(string) ([]byte, error)) int64 {
	data, err := readFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// PaceWhile is Pace for a part of a process, such as a benchmark that runs
// nodes in a test binary: it returns the function that puts back the
// pacing it found.
func PaceWhile() (Settings, func()) {
	percent := debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1) // -1 reads it
	s := Pace()
	return s, func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
