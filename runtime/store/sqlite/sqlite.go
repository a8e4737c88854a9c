package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/groupcommit"
	"github.com/waymark-dev/waymark/runtime/store/storelock"
)

// Store is the SQLite implementation of store.Store. It also implements
// store.MessagePruner, store.EventHistory, store.DeadLetterQueue,
// store.HistoryPruner, store.FailedSendLister, store.JourneyRecords and
// store.Tallies.
type Store struct {
	path string
	abs  string          // path, absolute
	lock *storelock.Lock // held from Open to Close: one process a database

	// q is the writer's queue and the store's open/closed state: reads
	// run under q.Read, writes go through q.Write to the writer goroutine.
	q *groupcommit.Queue[*writer]

	wdb *sql.DB // the writer's pool: exactly one connection
	w   *writer // owns wdb's connection; only the writer goroutine uses it

	rdb   *sql.DB // the read pool: query_only connections
	reads readStmts

	cdb      *sql.DB       // the checkpointer's connection
	nudge    chan struct{} // the writer committed: frames to copy
	quit     chan struct{} // closed by Close: the checkpointer stops waiting
	ckptDone chan struct{} // closed when the checkpointer has returned

	now func() time.Time // wall clock for the times the store stamps itself

	// full: the last write transaction met a full disk (space.go).
	full atomic.Bool

	// noTallies: commits add no analytics tallies. Only the ingest
	// benchmark's baseline sets it (before its first commit), to measure
	// what the tallies cost; a store serving analytics never does.
	noTallies bool
}

var _ interface {
	store.Store
	store.WriteHealth
	store.MessagePruner
	store.EventHistory
	store.DeadLetterQueue
	store.HistoryPruner
	store.FailedSendLister
	store.JourneyRecords
	store.Tallies
} = (*Store)(nil)

// Settings every connection gets. busy_timeout: another process (the
// waymark CLI, a backup) may hold the write lock for a moment; wait rather
// than fail. foreign_keys: active_instances cascades with its customer.
var commonPragmas = []string{
	"busy_timeout(10000)",
	"foreign_keys(1)",
	"temp_store(memory)",
}

// writerPragmas: WAL so that readers never wait for the writer (and the
// writer never waits for readers); synchronous=FULL so that a commit that
// returned survives a power loss, not only a crash of the process (in WAL
// mode NORMAL may lose the last commits on power loss, and an acknowledged
// event must not be lost). A larger page cache keeps the indexes' upper
// levels and the hot history pages in memory across group commits.
var writerPragmas = []string{
	"synchronous(FULL)",
	"cache_size(-65536)",
	// Fewer, larger checkpoints: pages written by several commits in a row
	// (index roots, the tail of the history tables) are copied once.
	"wal_autocheckpoint(4096)",
	// After a checkpoint the WAL file is cut back to this size rather than
	// keeping the size of the largest burst forever.
	"journal_size_limit(67108864)",
}

var readerPragmas = []string{
	"cache_size(-16384)",
	"query_only(1)",
}

// pageSize is SQLite's default, chosen again on purpose: a commit writes
// about three pages at random places per event (the customer's row, the
// timer, message, outbox-key and history indexes), each one WAL frame (two
// write calls) and one page copied by the checkpoint. 2 KiB pages wrote a
// quarter fewer bytes but half again as many frames, and system calls are
// what a write costs most here.
const pageSize = 4096

func dsn(path string, pragmas ...[]string) string {
	// A URI filename, so that a path may contain any character: %, ? and #
	// are escaped, and SQLite decodes them back.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	var b strings.Builder
	b.WriteString("file:")
	b.WriteString(esc)
	sep := "?"
	for _, ps := range pragmas {
		for _, p := range ps {
			b.WriteString(sep)
			b.WriteString("_pragma=")
			b.WriteString(p)
			sep = "&"
		}
	}
	return b.String()
}

// Open opens the database at path, creating it if it does not exist, and
// brings its schema to SchemaVersion. A database written by a newer binary
// (a higher schema version) is refused with an error wrapping
// store.ErrSchemaTooNew, and left untouched. A database that another Open
// holds (in this process or another) is refused with a *storelock.InUseError
// (wrapping store.ErrInUse): the lock is the file path+"-lock" beside it.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	s := &Store{
		path:     path,
		abs:      abs,
		nudge:    make(chan struct{}, 1),
		quit:     make(chan struct{}),
		ckptDone: make(chan struct{}),
		now:      func() time.Time { return time.Now().UTC() },
	}
	// Lock before SQLite opens the file: a second process must not even
	// run the migration of a database that another one serves.
	if s.lock, err = storelock.Acquire(abs+"-lock", path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			s.closeDBs()
			s.lock.Unlock()
		}
	}()

	ctx := context.Background()
	s.wdb, err = sql.Open("sqlite", dsn(abs, commonPragmas, writerPragmas))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and owning it means no
	// transaction ever waits for the file lock behind another of ours.
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	s.w = &writer{conn: conn, nudge: s.nudge, full: &s.full}
	// The page size only takes on a new database, and must come before
	// WAL mode (which fixes it): so it is not in the DSN, whose pragmas
	// the driver runs in alphabetical order.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	// journal_mode=WAL silently stays what it was where WAL is impossible
	// (some network file systems): then readers would block the writer and
	// the design's promises would not hold. Refuse instead.
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("sqlite: %s: journal mode is %q, not WAL (is the file on a file system without shared memory?)", path, mode)
	}
	if err := migrate(ctx, conn, path); err != nil {
		return nil, err
	}

	s.rdb, err = sql.Open("sqlite", dsn(abs, commonPragmas, readerPragmas))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(n)
	s.rdb.SetConnMaxLifetime(0)
	s.rdb.SetConnMaxIdleTime(0)
	if err := s.reads.prepare(ctx, s.rdb); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}

	s.cdb, err = sql.Open("sqlite", dsn(abs, commonPragmas, checkpointerPragmas))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	s.cdb.SetMaxOpenConns(1)
	ckConn, err := s.cdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}

	s.q = groupcommit.Start(s.w.runGroup)
	go s.checkpointLoop(ckConn)
	ok = true
	return s, nil
}

// Path is the database file the store was opened on.
func (s *Store) Path() string { return s.path }

// Close waits for the writes already handed to the store, checkpoints the
// WAL into the database file (so the file alone holds everything, and the
// WAL is truncated), and closes every connection. Later calls return nil;
// other methods return store.ErrClosed.
func (s *Store) Close() error {
	if !s.q.Close() { // the writer has run everything handed to it
		return nil
	}
	close(s.quit)
	<-s.ckptDone

	// Readers first: a checkpoint cannot truncate a WAL that a reader uses.
	err := s.reads.close()
	if s.rdb != nil {
		err = errors.Join(err, s.rdb.Close())
		s.rdb = nil
	}
	var busy, logFrames, done int
	if e := s.w.conn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); e != nil {
		err = errors.Join(err, fmt.Errorf("sqlite: %s: checkpoint: %w", s.path, e))
	}
	err = errors.Join(err, s.closeDBs())
	// Last: the database is closed, another process may have it now.
	err = errors.Join(err, s.lock.Unlock())
	return err
}

func (s *Store) closeDBs() error {
	var err error
	if s.w != nil {
		err = errors.Join(err, s.w.close())
	}
	if s.wdb != nil {
		err = errors.Join(err, s.wdb.Close())
		s.wdb = nil
	}
	if s.rdb != nil {
		err = errors.Join(err, s.rdb.Close())
		s.rdb = nil
	}
	if s.cdb != nil {
		err = errors.Join(err, s.cdb.Close())
		s.cdb = nil
	}
	return err
}

// The checkpointer copies committed pages from the WAL into the database
// file on a connection of its own, while the writer goes on committing:
// copying is a large share of the cost of a write, and done by the writer
// (SQLite's automatic checkpoint runs in the committing connection) it
// would stall every commit queued behind it. PASSIVE never blocks the
// writer or the readers. The writer's own automatic checkpoint stays on as
// a backstop: it finds the frames already copied, finishes the rest, and so
// lets the WAL start over from its beginning instead of growing.
//
// It runs at most every ckptInterval, so that a page written by many
// commits in between is copied once.
const ckptInterval = 100 * time.Millisecond

var checkpointerPragmas = []string{"synchronous(FULL)", "cache_size(-2048)"}

func (s *Store) checkpointLoop(conn *sql.Conn) {
	defer close(s.ckptDone)
	defer conn.Close()
	var last time.Time
	for {
		select {
		case <-s.nudge:
		case <-s.quit:
			return // Close checkpoints everything itself
		}
		if wait := ckptInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.quit:
				t.Stop()
				return
			}
		}
		last = time.Now()
		var busy, frames, copied int
		// An error (SQLITE_BUSY when the writer's own checkpoint runs) only
		// means the next round copies more.
		_ = conn.QueryRowContext(bg, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	}
}

// read runs f with the store held open.
func (s *Store) read(f func() error) error { return s.q.Read(f) }

// Times are stored as unix microseconds (see the schema).

func micros(t time.Time) int64 { return t.UnixMicro() }

// ceilMicros rounds up: a wake stored a little late fires when Step is
// called at the stored time, one stored early would be a wake with nothing
// due, over and over until the real time came.
func ceilMicros(t time.Time) int64 {
	u := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		u++
	}
	return u
}

func fromMicros(u int64) time.Time { return time.UnixMicro(u).UTC() }

func nullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}
