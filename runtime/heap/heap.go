package heap

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"runtime/debug"
	"slices"
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
// figure comes from: the lowest memory limit of the process's cgroup and
// its parents (v2 memory.max, v1 memory.limit_in_bytes; the cgroup read
// from /proc/self/cgroup, so that a limit set on a systemd unit counts
// when /sys/fs/cgroup is the host's whole tree), else the machine's RAM
// (MemTotal); 0 when neither can be read.
func available(readFile func(string) ([]byte, error)) (int64, string) {
	ram := memTotal(readFile)
	var limit int64
	var from string
	for _, f := range limitFiles(readFile) {
		data, err := readFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
		// "max" (v2) or a huge number (v1) is no limit at all.
		if err != nil || n <= 0 || ram > 0 && n >= ram {
			continue
		}
		if limit == 0 || n < limit {
			limit, from = n, f
		}
	}
	if limit > 0 {
		return limit, "the cgroup's memory limit (" + from + ")"
	}
	if ram > 0 {
		return ram, "the machine's memory (MemTotal)"
	}
	return 0, ""
}

// limitFiles are the files that may hold the process's memory limit: for
// each cgroup hierarchy /proc/self/cgroup names (v2 "0::/path", v1
// "N:...memory...:/path"), the limit file of the cgroup and of each parent
// up to the root of /sys/fs/cgroup (which a cgroup namespace makes the
// process's own).
func limitFiles(readFile func(string) ([]byte, error)) []string {
	files := []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}
	data, err := readFile("/proc/self/cgroup")
	if err != nil {
		return files
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var root, name string
		switch {
		case f[0] == "0" && f[1] == "":
			root, name = "/sys/fs/cgroup", "memory.max"
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			root, name = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
		default:
			continue
		}
		for dir := path.Clean("/" + f[2]); dir != "/"; dir = path.Dir(dir) {
			files = append(files, root+dir+"/"+name)
		}
	}
	return files
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
