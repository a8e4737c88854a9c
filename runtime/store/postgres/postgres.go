package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/groupcommit"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// Store is the PostgreSQL implementation of store.Store and of the optional
// interfaces doc.go lists.
type Store struct {
	pool *pgxpool.Pool
	q    *groupcommit.Queue[*wtx]
	// qi is the inbox's own writer: ingest's group commits do not wait
	// behind the worker's (PostgreSQL runs both transactions at once).
	qi     *groupcommit.Queue[*wtx]
	shards int

	now func() time.Time

	// idCollate is how the customer list compares ids (see idCollation).
	idCollate string
	// types are the parameter types of a staged commit's statements.
	types paramTypes

	fenceMu sync.RWMutex
	fence   Fence

	health health // see WriteError
}

var _ interface {
	store.Store
	store.MessagePruner
	store.EventHistory
	store.DeadLetterQueue
	store.HistoryPruner
	store.FailedSendLister
	store.ActiveStateReader
	store.CustomersReader
	store.JourneyRecords
	store.WriteHealth
} = (*Store)(nil)

// IdleInTxTimeout is how long the server lets a transaction of the store
// wait for its client between statements before it ends the session (see
// Open): under the cluster's lease (5s).
const IdleInTxTimeout = 3 * time.Second

// IsDSN reports whether s names a PostgreSQL database: a postgres:// or
// postgresql:// URL.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// DefaultShards is the number of shards a cluster is created with unless
// Options.Shards says otherwise.
const DefaultShards = 64

// MaxShards bounds Options.Shards: every node renews every lease it holds
// each tick, and assigns every shard each round.
const MaxShards = 4096

// Options tune OpenWith. The zero value is Open's.
type Options struct {
	// Shards is the number of shards customers are hashed into. It is
	// fixed when the cluster is created (by the first node that opens an
	// empty database); a node that asks for another count on an existing
	// cluster is refused. 0: DefaultShards on creation, whatever the
	// cluster has otherwise.
	Shards int
}

// Open connects to the database dsn (postgres://USER@HOST:PORT/DB?sslmode=…)
// and brings its schema to SchemaVersion; many nodes may do so at once. A
// database migrated by a newer binary is refused with an error wrapping
// store.ErrSchemaTooNew, and left untouched.
func Open(dsn string) (*Store, error) { return OpenWith(dsn, Options{}) }

// OpenWith is Open with options: see Options.
func OpenWith(dsn string, o Options) (*Store, error) {
	if o.Shards < 0 || o.Shards > MaxShards {
		return nil, fmt.Errorf("postgres: %d shards: want 1 to %d", o.Shards, MaxShards)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message leaves the password out.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = max(cfg.MaxConns, 8)
	// Times come back in UTC whatever the server's TimeZone.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// A node paused in the middle of a transaction (SIGSTOP, a long GC
	// pause, a partition) would hold its row locks, the shard rows' among
	// them, and so block the takeover of its shards for as long as it is
	// paused: the server ends such a session after IdleInTxTimeout, well
	// within a shard's lease, and its transaction with it (its commit then
	// fails: nothing of it is written).
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(IdleInTxTimeout.Milliseconds())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	s := &Store{pool: pool, now: func() time.Time { return time.Now().UTC() }}
	// A migration may backfill a large database (the tallies replay every
	// journey's records), and the nodes starting with this one wait for
	// it: an hour, not the minute a connection gets.
	mctx, mcancel := context.WithTimeout(context.Background(), time.Hour)
	err = migrate(mctx, pool, o.Shards)
	mcancel()
	if err != nil {
		pool.Close()
		return nil, err
	}
	if s.idCollate, err = idCollation(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if s.types, err = describeStatements(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := ensurePartitions(ctx, pool, s.now()); err != nil {
		pool.Close()
		return nil, err
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM shards").Scan(&s.shards); err != nil || s.shards == 0 {
		pool.Close()
		return nil, fmt.Errorf("postgres: reading the shard count (%d): %v", s.shards, err)
	}
	if o.Shards != 0 && o.Shards != s.shards {
		pool.Close()
		return nil, fmt.Errorf("postgres: this node asks for %d shards, and the cluster on this database was created with %d: the shard count is fixed when a cluster is created; start the node with %d (or without the setting)",
			o.Shards, s.shards, s.shards)
	}
	s.q = groupcommit.Start((&writer{s: s}).runGroup)
	s.qi = groupcommit.Start((&writer{s: s}).runGroup)
	return s, nil
}

// Pool is the store's connection pool, for the cluster's own tables.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Shards is the number of shards customers are hashed into.
func (s *Store) Shards() int { return s.shards }

// ShardOf is the shard of customer id: FNV-1a of the id modulo the shard
// count, the same on every node.
func (s *Store) ShardOf(id string) int { return ShardOf(id, s.shards) }

// ShardOf is the shard of customer id among n.
func ShardOf(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

// Close waits for the writes already handed to the store and closes its
// connections. Later calls return nil; other methods return store.ErrClosed.
func (s *Store) Close() error {
	if !s.q.Close() {
		return nil
	}
	s.qi.Close()
	s.pool.Close()
	return nil
}

func (s *Store) read(f func() error) error { return s.q.Read(f) }

// writer runs each group of write requests in one transaction.
type writer struct{ s *Store }

// wtx is what a write request's function gets: the group's transaction.
type wtx struct {
	tx  pgx.Tx
	ctx context.Context

	// tallies are the tallies the group's commits add, by shard: written
	// by flushTallies, once, before the COMMIT.
	tallies map[int][]store.Tally
	// inbox are the inbox rows the group's Enqueues add, as COPY tuples,
	// and as items for the INSERT that replaces the COPY when an input is
	// there already: written by flushInbox, once.
	inbox      []byte
	inboxItems []InboxItem
}

// addTallies adds a commit's tallies (by shard) to the group's.
func (w *wtx) addTallies(ts map[int][]store.Tally) {
	if len(ts) == 0 {
		return
	}
	if w.tallies == nil {
		w.tallies = make(map[int][]store.Tally, len(ts))
	}
	for sh, t := range ts {
		w.tallies[sh] = append(w.tallies[sh], t...)
	}
}

// flushTallies upserts the group's tallies, each shard's merged, in
// (shard, key) order.
func (w *wtx) flushTallies() error {
	if len(w.tallies) == 0 {
		return nil
	}
	var cols tallyCols
	for _, sh := range slices.Sorted(maps.Keys(w.tallies)) {
		cols.add(sh, tally.Merge(w.tallies[sh]))
	}
	w.tallies = nil
	if len(cols.n) == 0 {
		return nil
	}
	if _, err := w.tx.Exec(w.ctx, qAddTallies, cols.args()...); err != nil {
		return fmt.Errorf("postgres: commit: tallies: %w", err)
	}
	return nil
}

type request = groupcommit.Request[*wtx]

func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	return s.q.Write(ctx, fn)
}

// bg: statements run with a context that is not the caller's, so that a
// cancellation never cuts a transaction in the middle of its COMMIT; a
// request's own context is checked between requests.
var bg = context.Background()

func (w *writer) runGroup(group []*request) { groupcommit.RunAll(group, w.runTx) }

func (w *writer) runTx(reqs []*request) (err error) {
	defer func() { w.s.noteWrite(err) }()
	tx, err := w.s.pool.Begin(bg)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(bg)
		}
	}()
	t := &wtx{tx: tx, ctx: bg}
	for _, r := range reqs {
		if err := r.Call("postgres", t); err != nil {
			return err
		}
		if err := r.Ctx.Err(); err != nil {
			return err
		}
	}
	if err := t.flushInbox(); err != nil {
		return err
	}
	if err := t.flushTallies(); err != nil {
		return err
	}
	if err := tx.Commit(bg); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// ceilMicros rounds a time up to PostgreSQL's microsecond: a wake stored a
// little late fires when Step is called at the stored time, one stored
// early would be a wake with nothing due.
func ceilMicros(t time.Time) time.Time {
	t = t.UTC()
	if r := t.Nanosecond() % 1000; r != 0 {
		t = t.Add(time.Duration(1000 - r))
	}
	return t
}

// nullTime maps NULL (a nil *time.Time) to the zero time.
func nullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// ErrFenced is returned (wrapped, in a *FencedError) by a fenced write to a
// shard the node no longer owns.
var ErrFenced = errors.New("fenced")
