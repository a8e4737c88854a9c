package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// Schema is what RunSchema needs to know of a store to test its schema
// versioning, besides opening it.
type Schema struct {
	// Open opens the database of t, with the same contract as Run's open
	// (a new empty database on the first call with t, the same one later),
	// but returns the error instead of failing t.
	Open func(t *testing.T) (store.Store, error)
	// Version reads the schema version recorded in the database of t
	// (while no store has it open).
	Version func(t *testing.T) int
	// SetVersion makes the database of t look migrated to version v, as a
	// newer (or, back, the current) binary would leave it (while no store
	// has it open).
	SetVersion func(t *testing.T, v int)
	// Latest is the schema version the store under test writes.
	Latest int
}

// RunSchema checks that a new database is migrated to the latest schema and
// works, that opening it again changes nothing, and that a database of a
// newer schema version is refused with store.ErrSchemaTooNew and left as
// it was.
func RunSchema(t *testing.T, h Schema) {
	open := func(t *testing.T) store.Store {
		t.Helper()
		s, err := h.Open(t)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	t.Run("FromEmpty", func(t *testing.T) {
		s := open(t)
		commit(t, s, Write("c", 1, at(0)))
		same(t, "state", mustCustomer(t, s, "c"), Customer("c", 1, at(0)))
		closeIt(t, s)
		if v := h.Version(t); v != h.Latest {
			t.Fatalf("schema version %d after the first open, want %d", v, h.Latest)
		}
		s = open(t)
		mustCustomer(t, s, "c")
		closeIt(t, s)
		if v := h.Version(t); v != h.Latest {
			t.Fatalf("schema version %d after reopening, want %d", v, h.Latest)
		}
	})

	t.Run("FutureRefused", func(t *testing.T) {
		s := open(t)
		commit(t, s, Write("c", 1, at(0)))
		closeIt(t, s)
		h.SetVersion(t, h.Latest+1)
		s2, err := h.Open(t)
		if err == nil {
			_ = s2.Close()
			t.Fatal("a database of a newer schema version was opened")
		}
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("opening a newer schema: %v, want an error wrapping store.ErrSchemaTooNew", err)
		}
		t.Logf("the refusal reads: %v", err)
		if v := h.Version(t); v != h.Latest+1 {
			t.Fatalf("the refused database's version became %d", v)
		}
		// Nothing was touched: back at the known version, all is there.
		h.SetVersion(t, h.Latest)
		s = open(t)
		same(t, "state", mustCustomer(t, s, "c"), Customer("c", 1, at(0)))
		if ids := dueIDs(t, s, at(1000*time.Hour), 10); len(ids) != 1 {
			t.Errorf("Due: %v", ids)
		}
	})
}

func closeIt(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
