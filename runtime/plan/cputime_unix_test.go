//go:build unix

package plan

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, every thread's: on a
// shared machine it stays close to the work done, where wall time counts
// the waits for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
