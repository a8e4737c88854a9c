package storelock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/waymark-dev/waymark/runtime/store"
)

// Lock is a held store lock. Release it with Unlock.
type Lock struct {
	f *os.File
}

// InUseError is the error of Acquire when another holder has the lock. It
// wraps store.ErrInUse.
type InUseError struct {
	Store string // the store as the user named it (file or directory)
	PID   int    // the holder's pid; 0 when the file did not say
}

func (e *InUseError) Error() string {
	who := "another waymark process"
	if e.PID > 0 {
		who += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return fmt.Sprintf("store %s is in use by %s; stop it or use another --store", e.Store, who)
}

func (e *InUseError) Unwrap() error { return store.ErrInUse }

// Acquire locks the file at path (creating it) on behalf of the store named
// name, and records this process's pid in it.
func Acquire(path, name string) (*Lock, error) {
	// No O_TRUNC: the holder's pid must stay readable to the one refused.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store %s: lock file: %w", name, err)
	}
	if err := lock(f); err != nil {
		defer f.Close()
		if errors.Is(err, errLocked) {
			return nil, &InUseError{Store: name, PID: readPID(f)}
		}
		return nil, fmt.Errorf("store %s: locking %s: %w", name, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s: lock file %s: %w", name, path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock (closing the file releases it). Later calls do
// nothing.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Clear the pid first, so that the file never names a process that
	// does not hold it.
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}

func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
