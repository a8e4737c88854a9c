package pebble

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/waymark-dev/waymark/runtime/store"
)

// A full disk must not kill the process: Pebble treats a failed WAL or
// MANIFEST write as fatal (the commit pipeline cannot recover from a
// partial write), so the store keeps Pebble from ever meeting one, the way
// Pebble's own vfs.OnDiskFull is meant to be used:
//
//   - A ballast file (ballastFile, 1/20 of the file system, between 256 KiB
//     and 64 MiB, allocated but never written) holds space in reserve.
//   - Before each group commit the writer asks admit: while the file
//     system has less free space than the ballast, the group is refused
//     with store.ErrNoSpace, before Pebble sees it. Reads go on.
//   - A write of Pebble that meets ENOSPC anyway (another process filled
//     the disk between the check and the write) calls onDiskFull through
//     vfs.OnDiskFull: the ballast is deleted, Pebble retries the write
//     into the space it freed, and the store refuses writes from then on.
//   - While full, admit and WriteError look again at most every
//     recheckEvery: with twice the ballast free, the ballast is written
//     again and writes resume.
type space struct {
	fs   vfs.FS // the file system under OnDiskFull's wrapper
	dir  string
	size int64 // the ballast's size; 0: no free-space management (no statfs)

	full atomic.Bool

	mu        sync.Mutex // one check or ballast change at a time
	lastCheck time.Time
	why       error // why full: the free space seen, or the ENOSPC
	every     time.Duration
}

const (
	ballastFile  = "waymark.ballast"
	ballastMin   = 256 << 10
	ballastMax   = 64 << 20
	recheckEvery = time.Second
)

func newSpace(fs vfs.FS, dir string) *space {
	sp := &space{fs: fs, dir: dir, every: recheckEvery}
	du, err := fs.GetDiskUsage(dir)
	if err != nil || du.TotalBytes == 0 {
		return sp // an in-memory file system: nothing to manage
	}
	sp.size = min(max(int64(du.TotalBytes/20), ballastMin), ballastMax)
	if err := sp.fill(); err != nil {
		sp.setFull(err)
	}
	return sp
}

func (sp *space) path() string { return sp.fs.PathJoin(sp.dir, ballastFile) }

// fill (re)creates the ballast: its blocks allocated (fallocate, no data
// written, where the file system has it; zeros written elsewhere) and
// synced.
func (sp *space) fill() error {
	f, err := sp.fs.Create(sp.path(), vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("creating the reserve %s: %w", sp.path(), err)
	}
	err = f.Preallocate(0, sp.size)
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		buf := make([]byte, 64<<10)
		err = nil
		for n := int64(0); n < sp.size && err == nil; n += int64(len(buf)) {
			_, err = f.Write(buf[:min(int64(len(buf)), sp.size-n)])
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = sp.fs.Remove(sp.path()) // a partial ballast holds space nobody can count on
		return fmt.Errorf("writing the reserve %s: %w", sp.path(), err)
	}
	return nil
}

// onDiskFull is vfs.OnDiskFull's callback: a write of Pebble met ENOSPC.
// It frees the ballast so that Pebble's retry of that write succeeds.
func (sp *space) onDiskFull() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	_ = sp.fs.Remove(sp.path())
	sp.setFull(errors.New("a write met ENOSPC (no space left on device); the reserve was released"))
}

func (sp *space) setFull(why error) {
	sp.why = why
	sp.lastCheck = time.Now()
	sp.full.Store(true)
}

// admit returns nil when a write may go ahead, else an error wrapping
// store.ErrNoSpace.
func (sp *space) admit() error {
	if sp.size == 0 {
		return nil
	}
	if !sp.full.Load() {
		du, err := sp.fs.GetDiskUsage(sp.dir)
		if err != nil || int64(du.AvailBytes) >= sp.size {
			return nil
		}
		sp.mu.Lock()
		sp.setFull(fmt.Errorf("%d bytes free, under the %d kept in reserve", du.AvailBytes, sp.size))
		sp.mu.Unlock()
	}
	return sp.recover()
}

// recover looks at the free space again (at most every sp.every) and
// clears the full state when there is room for the ballast and as much
// again.
func (sp *space) recover() error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !sp.full.Load() {
		return nil
	}
	if time.Since(sp.lastCheck) >= sp.every {
		sp.lastCheck = time.Now()
		if du, err := sp.fs.GetDiskUsage(sp.dir); err == nil && int64(du.AvailBytes) >= 2*sp.size {
			if err := sp.fill(); err == nil {
				sp.full.Store(false)
				sp.why = nil
				return nil
			}
		}
	}
	return fmt.Errorf("pebble: %s: %w: %v; writes are refused until there is space again", sp.dir, store.ErrNoSpace, sp.why)
}
