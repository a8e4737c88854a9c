package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	sqlite3 "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/waymark-dev/waymark/runtime/store"
)

// A full disk fails SQLite's writes cleanly (the transaction is rolled
// back, nothing is lost, the next write may succeed), so the store needs
// no reserve: it only names the failure (store.ErrNoSpace) and remembers
// it, so that WriteError, which /healthz asks, can say the store cannot
// write until a write succeeds or there is space again.

// minFree is the free space under which a store whose last write met a
// full disk still reports it.
const minFree = 1 << 20

// diskFull reports whether err is SQLite's "database or disk is full", or
// an I/O error caused by ENOSPC.
func diskFull(err error) bool {
	var se *sqlite3.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlitelib.SQLITE_FULL {
		return true
	}
	return errors.Is(err, syscall.ENOSPC)
}

// noteWrite records the outcome of a write transaction, and names a full
// disk in its error.
func (w *writer) noteWrite(err error) error {
	switch {
	case err == nil:
		w.full.Store(false)
	case diskFull(err):
		w.full.Store(true)
		return fmt.Errorf("%w: %w", store.ErrNoSpace, err)
	}
	return err
}

// WriteError implements store.WriteHealth: an error wrapping
// store.ErrNoSpace while the last write met a full disk and there is
// still less than minFree free beside the database.
func (s *Store) WriteError() error {
	return s.read(func() error {
		if !s.full.Load() {
			return nil
		}
		if free, err := freeBytes(filepath.Dir(s.abs)); err == nil && free >= minFree {
			return nil // space again: the next write should succeed
		}
		return fmt.Errorf("sqlite: %s: %w: the last write failed, and there is under %d bytes free", s.path, store.ErrNoSpace, minFree)
	})
}
