//go:build unix

package engine

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, user and system, on every
// thread (the garbage collector's included). On a shared machine it stays
// close to the work done, where wall-clock time counts the waits for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
