package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// On a real full disk a commit fails with store.ErrNoSpace and loses
// nothing; WriteError (what /healthz asks) says the store cannot write
// until there is space again; then writes succeed.
func TestFullDisk(t *testing.T) {
	ctx := context.Background()
	disk := storetest.SmallDisk(t, 4<<20)
	s, err := Open(filepath.Join(disk, "waymark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := func(prefix string, n int) *store.Batch {
		b := &store.Batch{}
		for i := range n {
			b.Customers = append(b.Customers, storetest.Write(fmt.Sprintf("%s%03d", prefix, i), 1, storetest.T0))
		}
		return b
	}
	if err := s.Commit(ctx, batch("before", 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteError(); err != nil {
		t.Fatalf("WriteError with space: %v", err)
	}
	filler := storetest.FillDisk(t, disk, 0)
	if err := s.Commit(ctx, batch("refused", 200)); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("Commit on a full disk: %v; want an error wrapping store.ErrNoSpace", err)
	}
	if err := s.WriteError(); !errors.Is(err, store.ErrNoSpace) {
		t.Errorf("WriteError on a full disk after a failed write: %v", err)
	}
	if _, err := s.Customer(ctx, "before009"); err != nil {
		t.Errorf("a read on a full disk: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteError(); err != nil {
		t.Errorf("WriteError with space again: %v", err)
	}
	if err := s.Commit(ctx, batch("after", 10)); err != nil {
		t.Fatalf("Commit with space again: %v", err)
	}
	if _, err := s.Customer(ctx, "refused000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer of the refused commit: %v, want not found", err)
	}
	if _, err := s.Customer(ctx, "after009"); err != nil {
		t.Errorf("a customer committed after: %v", err)
	}
}
