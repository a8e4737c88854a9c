package pebble

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// batchOf is n customers' writes at one time, ids prefixed.
func batchOf(prefix string, n int) *store.Batch {
	b := &store.Batch{}
	for i := range n {
		b.Customers = append(b.Customers, storetest.Write(fmt.Sprintf("%s%04d", prefix, i), 1, storetest.T0))
	}
	return b
}

// A full disk refuses writes with store.ErrNoSpace instead of killing the
// process (Pebble's fatal commit error), keeps reads going, and writes
// again once there is space: the disk filled by another file, and the
// disk filled by the store's own write (the reserve saves that write).
func TestFullDisk(t *testing.T) {
	ctx := context.Background()
	disk := storetest.SmallDisk(t, 4<<20)
	dir := filepath.Join(disk, "db")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.space.every = 10 * time.Millisecond
	if err := s.Commit(ctx, batchOf("before", 10)); err != nil {
		t.Fatal(err)
	}

	// Another file takes every byte.
	filler := storetest.FillDisk(t, disk, 0)
	err = s.Commit(ctx, batchOf("refused", 10))
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Commit on a full disk: %v; want an error wrapping store.ErrNoSpace", err)
	}
	if err := s.WriteError(); !errors.Is(err, store.ErrNoSpace) {
		t.Errorf("WriteError on a full disk: %v", err)
	}
	if _, err := s.Customer(ctx, "before0003"); err != nil {
		t.Errorf("a read on a full disk: %v", err)
	}
	if _, err := s.ClaimOutbox(ctx, storetest.T0, time.Minute, 1); !errors.Is(err, store.ErrNoSpace) {
		t.Errorf("ClaimOutbox (a write) on a full disk: %v", err)
	}

	// Space again: writes resume.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.WriteError(); err != nil {
		t.Errorf("WriteError with space again: %v", err)
	}
	if err := s.Commit(ctx, batchOf("after", 10)); err != nil {
		t.Fatalf("Commit with space again: %v", err)
	}

	// The store's own write fills the disk: a commit larger than the free
	// space, admitted (there is more free than the reserve). Its WAL write
	// meets ENOSPC, the reserve is released, the write completes, and the
	// next writes are refused until there is room for the reserve again.
	filler = storetest.FillDisk(t, disk, s.space.size+s.space.size/4)
	if err := s.Commit(ctx, batchOf("big", 150)); err != nil {
		t.Fatalf("the commit that filled the disk: %v (the reserve should have let it through)", err)
	}
	err = s.Commit(ctx, batchOf("refused2", 1))
	if !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Commit after the reserve was used: %v; want store.ErrNoSpace", err)
	}
	if !strings.Contains(err.Error(), "ENOSPC") {
		t.Errorf("the refusal does not say the reserve was used: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Commit(ctx, batchOf("after2", 10)); err != nil {
		t.Fatalf("Commit with space again: %v", err)
	}

	// Everything acknowledged is there after a reopen; nothing refused is.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"before0009", "after0009", "big0149", "after20009"} {
		if _, err := s.Customer(ctx, id); err != nil {
			t.Errorf("customer %s after reopen: %v", id, err)
		}
	}
	for _, id := range []string{"refused0000", "refused20000"} {
		if _, err := s.Customer(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("customer %s of a refused commit: %v, want not found", id, err)
		}
	}
}

// The reserve at work without root: an ENOSPC injected into the WAL's next
// write (Pebble would die of it: a fatal commit error) releases the reserve,
// the write goes through, and the store refuses writes until it has looked
// at the free space again.
func TestENOSPCReleasesTheReserve(t *testing.T) {
	ctx := context.Background()
	var armed atomic.Bool
	fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpFileWrite && strings.HasSuffix(op.Path, ".log") && armed.CompareAndSwap(true, false) {
			return syscall.ENOSPC
		}
		return nil
	}))
	dir := t.TempDir()
	s, err := open(dir, fs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	setEvery := func(d time.Duration) {
		s.space.mu.Lock()
		s.space.every = d
		s.space.mu.Unlock()
	}
	setEvery(time.Hour)
	ballast := filepath.Join(dir, ballastFile)
	if _, err := os.Stat(ballast); err != nil {
		t.Fatalf("no reserve after Open: %v", err)
	}
	if err := s.Commit(ctx, batchOf("a", 5)); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if err := s.Commit(ctx, batchOf("b", 5)); err != nil {
		t.Fatalf("the commit whose WAL write met ENOSPC: %v", err)
	}
	if armed.Load() {
		t.Fatal("the injected ENOSPC never happened")
	}
	if _, err := os.Stat(ballast); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the reserve is still there after an ENOSPC: %v", err)
	}
	if err := s.Commit(ctx, batchOf("c", 5)); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Commit after the reserve was used: %v; want store.ErrNoSpace", err)
	}
	setEvery(0) // the disk has space: the next write looks, and goes ahead
	if err := s.Commit(ctx, batchOf("d", 5)); err != nil {
		t.Fatalf("Commit once there is space: %v", err)
	}
	if _, err := os.Stat(ballast); err != nil {
		t.Errorf("the reserve was not written again: %v", err)
	}
	for _, id := range []string{"a0004", "b0004", "d0004"} {
		if _, err := s.Customer(ctx, id); err != nil {
			t.Errorf("customer %s: %v", id, err)
		}
	}
}
