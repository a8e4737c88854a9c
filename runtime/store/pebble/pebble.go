package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/groupcommit"
	"github.com/waymark-dev/waymark/runtime/store/storelock"
)

// Store is the Pebble implementation of store.Store. It also implements
// store.MessagePruner, store.HistoryPruner, store.EventHistory and
// store.DeadLetterQueue.
type Store struct {
	dir  string
	db   *pdb.DB
	lock *storelock.Lock // held from Open to Close, with the pid in it

	// space refuses writes while the disk is too full for Pebble to write
	// safely (space.go).
	space *space

	// q is the writer's queue and the store's open/closed state: reads
	// run under q.Read, writes go through q.Write to the writer goroutine.
	q *groupcommit.Queue[*tx]

	// The history's sequence: owned by the writer goroutine (and Open).
	seq, savedSeq uint64

	// outFloor: every od/ key below it is deleted, so a claim seeks there
	// rather than walking from od/ over the tombstones of every item
	// claimed before (until a compaction drops them, which a steady drain
	// outruns). Owned by the writer goroutine; nil (scan from od/) after
	// Open. See runGroup for how it moves.
	outFloor []byte

	now func() time.Time // wall clock for the times the store stamps itself

	// failHook, when set (tests only), is called inside Commit's write
	// after the customers are staged, and may fail it there.
	failHook func(p *prepared) error
	// claimSteps, when set (tests only), is told how many keys a claim's
	// iterator stepped over, tombstones included.
	claimSteps func(n int)
}

var _ interface {
	store.Store
	store.WriteHealth
	store.MessagePruner
	store.HistoryPruner
	store.EventHistory
	store.DeadLetterQueue
	store.FailedSendLister
	store.JourneyRecords
	store.Tallies
} = (*Store)(nil)

// SchemaVersion is the layout version this binary writes and understands,
// kept under meta/schema. A change of layout is a new version with a
// migration step in Open.
//
//	1  the first layout
//	2  d/<key>: the dead-letter queue, an entry per dead outbox item
//	3  ht/ and dv/: the history by commit and delivered items by time,
//	   so PruneHistory costs what it forgets
//	4  fs/<at><seq>: the failed sends across customers (FailedSends)
//	5  jr/<journey><seq>: one journey's records (JourneyRecords); metric
//	   responses recorded in the history
//	6  t/: the analytics tallies (store.Tallies); outbox items (format 2)
//	   with what their settlement moves in them
const SchemaVersion = 6

// options is the Pebble configuration, for a small machine (2 cores) whose
// write load is many small synced batches:
//
//   - MemTableSize 64 MiB (default 4): fewer, larger flushes, so fewer L0
//     files and less compaction per event; a customer rewritten many times
//     between flushes is flushed once. MemTableStopWritesThreshold 4 lets
//     up to 256 MiB of memtables queue behind a slow flush before writes
//     stall.
//   - A 256 MiB block cache (default 8): the customer records and the
//     upper levels' blocks that every commit's reads touch stay in memory.
//   - Bloom filters (10 bits a key) on every level: a commit looks up each
//     deliverable send's outbox key, nearly always absent, and each
//     customer; a filter answers most tables without reading a block.
//   - L0 compaction thresholds and the base level size stay Pebble's
//     defaults; compaction concurrency is 1, up to 2 when L0 or compaction
//     debt builds up (there are 2 cores and the writer needs one).
//   - The format major version is pinned, so a Pebble upgrade never
//     ratchets the files to a format an older binary cannot read.
//   - Info logging is dropped (flushes and compactions are routine);
//     errors still go to the standard logger.
func options(fs vfs.FS) *pdb.Options {
	o := &pdb.Options{
		FS:                          fs,
		FormatMajorVersion:          pdb.FormatValueSeparation,
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		CacheSize:                   256 << 20,
		CompactionConcurrencyRange:  func() (int, int) { return 1, 2 },
		Logger:                      quietLogger{},
	}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return o
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	pdb.DefaultLogger.Errorf(format, args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	pdb.DefaultLogger.Fatalf(format, args...)
}

// Open opens the store in directory dir, creating it if it does not exist.
// A store written by a newer binary (a higher schema version) is refused
// with an error wrapping store.ErrSchemaTooNew, and its data left untouched.
// A store that another Open holds (in this process or another) is refused
// with a *storelock.InUseError (wrapping store.ErrInUse), naming the pid
// recorded in dir/waymark.lock.
func Open(dir string) (*Store, error) { return open(dir, vfs.Default) }

func open(dir string, fs vfs.FS) (*Store, error) {
	if dir == "" {
		return nil, errors.New("pebble: empty directory")
	}
	// Pebble locks its directory too, but its refusal says only "resource
	// temporarily unavailable": this lock names the holder. Only on the
	// real file system (a test's in-memory one has no other process).
	var lock *storelock.Lock
	if fs == vfs.Default {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("pebble: %s: %w", dir, err)
		}
		var err error
		if lock, err = storelock.Acquire(filepath.Join(dir, lockFile), dir); err != nil {
			return nil, fmt.Errorf("pebble: %w", err)
		}
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("pebble: %s: %w", dir, err)
	}
	sp := newSpace(fs, dir)
	db, err := pdb.Open(dir, options(vfs.OnDiskFull(fs, sp.onDiskFull)))
	if err != nil {
		lock.Unlock()
		if errors.Is(err, syscall.EWOULDBLOCK) { // a holder that took only Pebble's lock
			return nil, fmt.Errorf("pebble: %w", &storelock.InUseError{Store: dir})
		}
		return nil, fmt.Errorf("pebble: %s: %w", dir, err)
	}
	s := &Store{
		dir:   dir,
		db:    db,
		lock:  lock,
		space: sp,
		now:   func() time.Time { return time.Now().UTC() },
	}
	if err := s.migrate(); err != nil {
		return nil, errors.Join(err, db.Close(), lock.Unlock())
	}
	s.q = groupcommit.Start(s.runGroup)
	return s, nil
}

// migrate brings the layout to SchemaVersion, one step at a time, each
// step's writes and its version number in one synced batch. A new store
// (version 0) has nothing to migrate: it only records the version.
func (s *Store) migrate() error {
	v, err := readVersion(s.db)
	if err != nil {
		return fmt.Errorf("pebble: %s: reading the schema version: %w", s.dir, err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("pebble: %s has schema version %d, and this binary knows versions up to %d: run a newer waymark: %w",
			s.dir, v, SchemaVersion, store.ErrSchemaTooNew)
	}
	if v == 0 {
		v = SchemaVersion
		if err := writeVersion(s.db, v); err != nil {
			return fmt.Errorf("pebble: %s: recording the schema version: %w", s.dir, err)
		}
	}
	for ; v < SchemaVersion; v++ {
		b := s.db.NewBatch()
		if err := migrations[v](s.db, b); err != nil {
			b.Close()
			return fmt.Errorf("pebble: %s: migration to version %d: %w", s.dir, v+1, err)
		}
		if err := b.Set(kSchema, []byte(strconv.Itoa(v+1)), nil); err != nil {
			b.Close()
			return err
		}
		err := b.Commit(pdb.Sync)
		b.Close()
		if err != nil {
			return fmt.Errorf("pebble: %s: migration to version %d: %w", s.dir, v+1, err)
		}
	}
	val, ok, err := get(s.db, kSeq)
	if err != nil {
		return fmt.Errorf("pebble: %s: reading the history sequence: %w", s.dir, err)
	}
	if ok {
		if len(val) != 8 {
			return fmt.Errorf("pebble: %s: malformed history sequence", s.dir)
		}
		s.seq = binary.BigEndian.Uint64(val)
		s.savedSeq = s.seq
	}
	return nil
}

// migrations[v] brings a store at version v to v+1, writing into b.
var migrations = map[int]func(db *pdb.DB, b *pdb.Batch) error{
	// 6: derive the tallies by replaying each journey's records (tally.go).
	5: backfillTallies,
	// 5: index the transitions and sends by journey under jr/ (tally.go).
	4: indexJourneys,
	// 4: index the failed sends under fs/ (failed.go).
	3: indexFailed,
	// 3: file every history record under ht/ by its own time (their
	// commits are not known any more), and every delivered item under dv/
	// (migrate3.go).
	2: indexForPruning,
	// 2: index the dead outbox items under d/.
	1: func(db *pdb.DB, b *pdb.Batch) error {
		return scan(db, pOutbox, upper(pOutbox), func(k, v []byte) (bool, error) {
			r, err := decodeOut(v)
			if err != nil {
				return false, fmt.Errorf("outbox item %q: %w", k[len(pOutbox):], err)
			}
			if r.state == stateDead {
				return true, b.Set(deadKey(string(k[len(pOutbox):])), nil, nil)
			}
			return true, nil
		})
	},
}

// readVersion returns the schema version recorded in db, 0 if none.
func readVersion(db *pdb.DB) (int, error) {
	v, ok, err := get(db, kSchema)
	if err != nil || !ok {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

func writeVersion(db *pdb.DB, v int) error {
	return db.Set(kSchema, []byte(strconv.Itoa(v)), pdb.Sync)
}

// reader is what point reads go through: the database, a snapshot or the
// writer's batch.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// get returns a copy of the value under key.
func get(r reader, key []byte) ([]byte, bool, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pdb.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	return out, true, c.Close()
}

// Dir is the directory the store was opened on.
func (s *Store) Dir() string { return s.dir }

// Close waits for the writes already handed to the store and for the reads
// in progress, then closes the database. Later calls return nil; other
// methods return store.ErrClosed.
func (s *Store) Close() error {
	if !s.q.Close() { // the writer has run everything handed to it
		return nil
	}
	err := s.db.Close()
	// After the database: another process may have the store now.
	if e := s.lock.Unlock(); e != nil && err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("pebble: %s: close: %w", s.dir, err)
	}
	return nil
}

// lockFile is the file in the store's directory that storelock holds.
const lockFile = "waymark.lock"

// WriteError implements store.WriteHealth: an error wrapping
// store.ErrNoSpace while the disk is too full to write.
func (s *Store) WriteError() error {
	return s.read(func() error { return s.space.admit() })
}

// read runs f with the store held open.
func (s *Store) read(f func() error) error { return s.q.Read(f) }
