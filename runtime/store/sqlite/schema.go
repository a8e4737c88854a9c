package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// A migration is one step of the schema, applied once, in order, in its own
// transaction together with its row in schema_migrations: a crash in the
// middle of one leaves the database at the previous version, never between.
// Steps are never edited once released; a change is a new step.
type migration struct {
	name string
	sql  string
	// fill, when set, runs after sql in the same transaction: the rows a
	// step derives from the data already there (Go code, where SQL alone
	// cannot derive them).
	fill func(ctx context.Context, conn *sql.Conn) error
}

// migrations[i] brings the schema from version i to version i+1.
//
// Times are INTEGER unix microseconds: the precision of PostgreSQL's
// timestamptz, so both stores keep the same times; far-future `at` times
// (year 9999) still fit, which unix nanoseconds would not.
var migrations = []migration{
	{name: "initial", sql: `
-- The whole durable state of a customer is one JSON document (engine.Customer).
-- next_wake is the customer's earliest due timer (NULL: nothing due), rounded
-- up to the microsecond so that a wake is never reported early; has_active
-- says whether any instance is active (for queries by hand: the store reads
-- active_instances); active_sig is a hash of the active instances' rows in
-- active_instances, so a commit rewrites those rows only when it changes.
CREATE TABLE customers (
	id         TEXT PRIMARY KEY,
	state      BLOB NOT NULL,
	next_wake  INTEGER,
	has_active INTEGER NOT NULL DEFAULT 0,
	active_sig INTEGER NOT NULL DEFAULT 0
);
-- The timer index the scheduler reads. Partial: the customers with nothing
-- due (most of them, at scale) cost nothing in it.
CREATE INDEX customers_wake ON customers(next_wake, id) WHERE next_wake IS NOT NULL;

-- The active instances of every customer, kept in step with the states in
-- each commit (rewritten only for the customers whose active_sig changed),
-- so that counting
-- customers per stage is an index scan instead of decoding every state, and
-- the customers with active instances are the distinct prefixes of the
-- primary key (ActiveCustomers). Keyed by instance id: unique by
-- construction.
CREATE TABLE active_instances (
	customer TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
	instance TEXT NOT NULL,
	journey  TEXT NOT NULL,
	version  TEXT NOT NULL,
	stage    TEXT NOT NULL,
	PRIMARY KEY (customer, instance)
) WITHOUT ROWID;
CREATE INDEX active_instances_stage ON active_instances(journey, version, stage);

-- History, append-only, in commit order (seq): every transition, send
-- decision, refused entry, run-time error and emitted event, one table for
-- all kinds. Reads are per customer; one index on customer (whose entries
-- SQLite orders by rowid after the customer, so a customer's rows come back
-- in seq order without a sort) costs each commit one random page per
-- customer instead of one per kind. The columns a kind does not use are
-- NULL; data is the engine's JSON of a send, refusal, error or emit.
-- The store numbers the rows itself (the outbox rows of a commit point at
-- their sends); AUTOINCREMENT keeps the high-water mark in sqlite_sequence,
-- so a number is never given twice, even if the newest rows were deleted.
CREATE TABLE history (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	customer   TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('transition', 'send', 'refusal', 'error', 'emit')),
	at         INTEGER NOT NULL,
	journey    TEXT NOT NULL,
	instance   TEXT,
	version    TEXT,
	from_stage TEXT,
	to_stage   TEXT,
	cause      TEXT,
	status     TEXT,
	key        TEXT,
	name       TEXT,
	fate       TEXT,
	reason     TEXT,
	data       BLOB
);
CREATE INDEX history_customer ON history(customer);

-- The history by kind, for people querying the file.
CREATE VIEW transitions AS
	SELECT seq, customer, instance, journey, version, from_stage, to_stage, cause, status, at
	FROM history WHERE kind = 'transition';
CREATE VIEW sends AS
	SELECT seq, customer, key, journey, instance, name, fate, reason, at, data AS send
	FROM history WHERE kind = 'send';
CREATE VIEW events AS
	SELECT seq, customer, kind, journey, at, data FROM history WHERE kind IN ('refusal', 'error', 'emit');

-- The transactional outbox: one row per send to deliver, keyed by the send's
-- idempotency key, pointing at the history row that holds the send (so the
-- send is stored once). Rows are appended in commit order; only the key's
-- index takes a random page (a table ordered by key measured worse: its
-- rows are wider than index entries). A claim leases an item by moving
-- next_attempt to the end of the lease, so "deliverable" is one range of
-- one partial index.
CREATE TABLE outbox (
	key          TEXT PRIMARY KEY,
	customer     TEXT NOT NULL,
	send_seq     INTEGER NOT NULL,
	state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
	attempt      INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,
	lease_until  INTEGER,
	last_error   TEXT NOT NULL DEFAULT '',
	delivered_at INTEGER,
	dead_at      INTEGER,
	created_at   INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt) WHERE state = 'pending';

-- Ingest deduplication by messageId; at is when the id was committed, for
-- the retention cleanup (PruneMessages), which the index on at serves.
CREATE TABLE messages (
	id TEXT PRIMARY KEY,
	at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX messages_at ON messages(at);

CREATE TABLE programs (
	hash       TEXT PRIMARY KEY,
	ir         BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
`},
	{name: "dead letters", sql: `
-- The dead-letter queue (DeadLetters, Requeue): dead items by key. Partial,
-- so the outbox's pending and delivered rows, nearly all of them, cost
-- nothing in it.
CREATE INDEX outbox_dead ON outbox(key) WHERE state = 'dead';
`},
	{name: "failed sends", sql: `
-- The failed sends across customers (FailedSends), by time then commit
-- order. Partial: only the rare send decisions that failed cost anything.
CREATE INDEX history_failed ON history(at, seq) WHERE kind = 'send' AND fate = 'failed';
`},
	{name: "received inputs", sql: `
-- The inputs each customer received (store.ReceivedHistory): kind (event,
-- identify), the event's name, the message id, when it was handled. Written
-- in the commit that handled them; pruned with the history; erased with the
-- customer.
CREATE TABLE received (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	customer   TEXT NOT NULL,
	at         INTEGER NOT NULL,
	kind       TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX received_customer ON received(customer);
`},
	{name: "journey records", sql: `
-- One journey's transitions and sends across customers, in commit order
-- (store.JourneyRecords: the analytics). Partial: refusals, errors and
-- emits cost nothing in it. Within a journey seq only grows, so a commit
-- appends at the end of each journey's range instead of a random page.
CREATE INDEX history_journey ON history(journey, seq) WHERE kind IN ('transition', 'send');
`},
	{name: "metric responses", sql: `
-- A new history kind, 'response' (a metric response: data is the engine's
-- JSON of it, name the metric), read with the journey's records. SQLite
-- cannot change a CHECK constraint in place, so history is rebuilt with the
-- same rows, and its AUTOINCREMENT high-water mark carried over so that no
-- seq is ever given twice.
CREATE TABLE history_new (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	customer   TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('transition', 'send', 'refusal', 'error', 'emit', 'response')),
	at         INTEGER NOT NULL,
	journey    TEXT NOT NULL,
	instance   TEXT,
	version    TEXT,
	from_stage TEXT,
	to_stage   TEXT,
	cause      TEXT,
	status     TEXT,
	key        TEXT,
	name       TEXT,
	fate       TEXT,
	reason     TEXT,
	data       BLOB
);
INSERT INTO history_new SELECT seq, customer, kind, at, journey, instance, version, from_stage, to_stage, cause, status, key, name, fate, reason, data FROM history ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'history_new';
INSERT INTO sqlite_sequence(name, seq) SELECT 'history_new', seq FROM sqlite_sequence WHERE name = 'history';
DROP VIEW transitions;
DROP VIEW sends;
DROP VIEW events;
DROP TABLE history;
ALTER TABLE history_new RENAME TO history;
CREATE INDEX history_customer ON history(customer);
CREATE INDEX history_failed ON history(at, seq) WHERE kind = 'send' AND fate = 'failed';
CREATE INDEX history_journey ON history(journey, seq) WHERE kind IN ('transition', 'send', 'response');
CREATE VIEW transitions AS
	SELECT seq, customer, instance, journey, version, from_stage, to_stage, cause, status, at
	FROM history WHERE kind = 'transition';
CREATE VIEW sends AS
	SELECT seq, customer, key, journey, instance, name, fate, reason, at, data AS send
	FROM history WHERE kind = 'send';
CREATE VIEW events AS
	SELECT seq, customer, kind, journey, at, data FROM history WHERE kind IN ('refusal', 'error', 'emit');
CREATE VIEW responses AS
	SELECT seq, customer, journey, instance, name AS metric, at, data AS response FROM history WHERE kind = 'response';
`},
	{name: "received order", sql: `
-- Where each received input falls among the records of its commit for its
-- customer (store.Received.Seq; the records keep theirs in data): a
-- customer's timeline interleaves a batch's inputs with what each caused.
-- 0 in the rows written before.
ALTER TABLE received ADD COLUMN commit_seq INTEGER NOT NULL DEFAULT 0;
`},
	{name: "analytics tallies", sql: `
-- The analytics tallies (runtime/store/tally): counters per journey, cohort
-- hour, kind and one or two names, added to in the same commit as the
-- records they count, so that a journey's analytics are one range of this
-- primary key (SumTallies) whatever the number of its instances. Keyed by
-- the whole tally key and WITHOUT ROWID: the upsert of a commit and the sum
-- of a query both walk the one b-tree, no second index to keep.
CREATE TABLE tallies (
	journey TEXT NOT NULL,
	cohort  INTEGER NOT NULL,
	kind    TEXT NOT NULL,
	a       TEXT NOT NULL,
	b       TEXT NOT NULL,
	n       INTEGER NOT NULL DEFAULT 0,
	sum     REAL NOT NULL DEFAULT 0,
	PRIMARY KEY (journey, cohort, kind, a, b)
) WITHOUT ROWID;
-- The cohort hour of the instance that decided the send (NULL when not
-- known): settling the item moves the send's delivery tally in that cohort.
ALTER TABLE outbox ADD COLUMN cohort INTEGER;
`, fill: backfillTallies},
	{name: "no journey index", sql: `
-- The analytics read the tallies: the history_journey index (one more
-- b-tree entry for every transition, send and response a commit writes,
-- about 3% of the ingest rate) served only the record fold they replaced.
-- JourneyRecords, now a read of the whole history in commit order, is left
-- to tests and to rebuilding tallies.
DROP INDEX IF EXISTS history_journey;
`},
}

// SchemaVersion is the schema version this binary writes and understands:
// len(migrations) (a test holds them equal).
const SchemaVersion = 9

// migrate brings the database on conn to SchemaVersion, one step per
// transaction. BEGIN IMMEDIATE takes the write lock before the version is
// read, so two processes opening the same new file cannot both apply a step.
func migrate(ctx context.Context, conn *sql.Conn, path string) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
)`); err != nil {
		return fmt.Errorf("sqlite: %s: schema_migrations: %w", path, err)
	}
	for {
		done, err := migrateOne(ctx, conn, path)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next missing step, if any, and reports whether the
// schema is now current.
func migrateOne(ctx context.Context, conn *sql.Conn, path string) (done bool, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var v int
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return false, fmt.Errorf("sqlite: %s: reading the schema version: %w", path, err)
	}
	if v > SchemaVersion {
		return false, fmt.Errorf("sqlite: %s has schema version %d, and this binary knows versions up to %d: run a newer waymark: %w",
			path, v, SchemaVersion, store.ErrSchemaTooNew)
	}
	if v == SchemaVersion {
		_, err := conn.ExecContext(ctx, "COMMIT")
		return true, err
	}
	m := migrations[v]
	if _, err := conn.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("sqlite: %s: migration %d (%s): %w", path, v+1, m.name, err)
	}
	if m.fill != nil {
		if err := m.fill(ctx, conn); err != nil {
			return false, fmt.Errorf("sqlite: %s: migration %d (%s): %w", path, v+1, m.name, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
		v+1, m.name, time.Now().UnixMicro()); err != nil {
		return false, fmt.Errorf("sqlite: %s: migration %d (%s): %w", path, v+1, m.name, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return false, fmt.Errorf("sqlite: %s: migration %d (%s): %w", path, v+1, m.name, err)
	}
	return false, nil
}
