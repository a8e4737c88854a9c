package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waymark-dev/waymark/runtime/store"
)

// A migration is one step of the schema, applied once, in order, in its own
// transaction together with its row in schema_migrations. Steps are never
// edited once released; a change is a new step.
type migration struct {
	name string
	sql  string
	// backfill, when set, runs after sql in the same transaction: the data
	// a step derives from what is stored already.
	backfill func(ctx context.Context, tx pgx.Tx) error
}

// migrations[i] brings the schema from version i to version i+1.
var migrations = []migration{
	{name: "initial", sql: `
-- The shards customers are hash-partitioned into (see runtime/cluster): a
-- fixed number, one row each, with the owning node, the epoch every commit
-- to the shard is fenced by, and the owner's lease (database clock).
CREATE TABLE shards (
	shard       integer PRIMARY KEY,
	owner       text,
	epoch       bigint NOT NULL DEFAULT 0,
	lease_until timestamptz
);
INSERT INTO shards(shard) SELECT generate_series(0, 63);

-- The nodes of the cluster, by id, with their last heartbeat (database clock).
CREATE TABLE nodes (
	id          text PRIMARY KEY,
	addr        text NOT NULL DEFAULT '',
	program     text NOT NULL DEFAULT '',
	started_at  timestamptz NOT NULL DEFAULT now(),
	heartbeat   timestamptz NOT NULL DEFAULT now(),
	leaving     boolean NOT NULL DEFAULT false
);

-- fence(shards, epochs) takes a key-share lock on each shard's row and
-- raises WM001 unless every shard is still at the given epoch: the first
-- statement of a fenced commit. A takeover locks the row FOR UPDATE before
-- it moves the epoch, so it waits for commits under way, and a commit after
-- it fails.
CREATE FUNCTION waymark_fence(want_shards integer[], want_epochs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	bad integer[];
BEGIN
	SELECT array_agg(w.shard) INTO bad
	FROM unnest(want_shards, want_epochs) AS w(shard, epoch)
	LEFT JOIN LATERAL (SELECT s.epoch FROM shards AS s WHERE s.shard = w.shard FOR KEY SHARE) AS s ON true
	WHERE s.epoch IS DISTINCT FROM w.epoch;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'fenced: shards % moved to another owner', bad USING ERRCODE = 'WM001';
	END IF;
END $$;

-- The whole durable state of a customer is one JSON document
-- (engine.Customer); next_wake is its earliest due timer (NULL: nothing
-- due), rounded up to the microsecond; active_sig is a hash of its active
-- instances, so a commit rewrites active_instances only when it changes.
CREATE TABLE customers (
	id         text PRIMARY KEY,
	shard      integer NOT NULL,
	state      bytea NOT NULL,
	next_wake  timestamptz,
	active_sig bigint NOT NULL DEFAULT 0
);
-- The timer index. Partial: customers with nothing due cost nothing in it.
CREATE INDEX customers_wake ON customers(next_wake, id) WHERE next_wake IS NOT NULL;

-- The active instances of every customer, kept in step with the states in
-- each commit (rewritten only when a customer's set changes): counting per
-- stage is an index scan, and ActiveCustomers a walk of the primary key.
CREATE TABLE active_instances (
	customer text NOT NULL,
	shard    integer NOT NULL,
	instance text NOT NULL,
	journey  text NOT NULL,
	version  text NOT NULL,
	stage    text NOT NULL,
	PRIMARY KEY (customer, instance)
);
CREATE INDEX active_instances_stage ON active_instances(journey, version, stage);

-- History, append-only: every transition, send decision, refusal, error and
-- emitted event. Partitioned by month of the record's time, so that a prune
-- drops whole partitions instead of deleting rows; times outside the
-- partitions made so far land in the default partition. seq orders the
-- records (one sequence for all partitions).
CREATE TABLE history (
	seq        bigint GENERATED ALWAYS AS IDENTITY,
	customer   text NOT NULL,
	kind       text NOT NULL,
	at         timestamptz NOT NULL,
	journey    text NOT NULL,
	instance   text,
	version    text,
	from_stage text,
	to_stage   text,
	cause      text,
	status     text,
	key        text,
	name       text,
	fate       text,
	reason     text,
	data       bytea
) PARTITION BY RANGE (at);
CREATE TABLE history_default PARTITION OF history DEFAULT;
CREATE INDEX history_customer ON history(customer, seq);
-- The prune's delete within a partition that straddles the cut: a BRIN
-- index costs a commit almost nothing.
CREATE INDEX history_at ON history USING brin(at);

-- The transactional outbox: one row per send to deliver, under its
-- idempotency key, holding the send itself (so the history can be dropped
-- by partition) and its delivery state. A claim leases items by moving
-- next_attempt to the end of the lease.
CREATE TABLE outbox (
	key          text PRIMARY KEY,
	customer     text NOT NULL,
	shard        integer NOT NULL,
	send         bytea NOT NULL,
	state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
	attempt      integer NOT NULL DEFAULT 0,
	next_attempt timestamptz NOT NULL,
	lease_until  timestamptz,
	last_error   text NOT NULL DEFAULT '',
	delivered_at timestamptz,
	dead_at      timestamptz,
	created_at   timestamptz NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox(key) WHERE state = 'dead';
CREATE INDEX outbox_delivered ON outbox(delivered_at) WHERE state = 'delivered';
CREATE INDEX outbox_customer ON outbox(customer) WHERE state <> 'delivered';

-- Ingest deduplication by messageId, for the retention window.
CREATE TABLE messages (
	id text PRIMARY KEY,
	at timestamptz NOT NULL
);
CREATE INDEX messages_at ON messages(at);

CREATE TABLE programs (
	n          bigint GENERATED ALWAYS AS IDENTITY,
	hash       text PRIMARY KEY,
	ir         bytea NOT NULL,
	created_at timestamptz NOT NULL
);
`},
	{name: "failed sends", sql: `
-- The failed sends across customers (FailedSends), by time then commit
-- order. Partial: only the rare send decisions that failed cost anything.
CREATE INDEX history_failed ON history(at, seq) WHERE kind = 'send' AND fate = 'failed';
`},
	{name: "inbox", sql: `
-- Ingest on any node: an input is acknowledged once it is here, and the
-- owner of its customer's shard applies it in seq order, deleting it in the
-- commit that holds its effects (by message id). Every input has a message
-- id (the node that took it makes one when the client gave none), unique:
-- a retry while the first is still waiting is the same row.
CREATE TABLE inbox (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	shard      integer NOT NULL,
	customer   text NOT NULL,
	message_id text NOT NULL UNIQUE,
	input      bytea NOT NULL,
	at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_shard ON inbox(shard, seq);
`},
	{name: "journey records", sql: `
-- One journey's transitions and sends across customers, in commit order
-- (JourneyRecords, for the analytics).
CREATE INDEX history_journey ON history(journey, seq) WHERE kind IN ('transition', 'send');
`},
	{name: "customers erased and listed", sql: `
-- An erase finds every outbox item of a customer, delivered ones included
-- (they hold the send: personal data), by its customer column.
CREATE INDEX outbox_customer_all ON outbox(customer);
DROP INDEX outbox_customer;

-- The customer list walks ids in byte order (as SQLite and Pebble do), so
-- that an id prefix is one range: in a database whose collation is not C,
-- an index in that order (in C, the primary key is it).
DO $$
BEGIN
	IF NOT (SELECT coalesce(to_jsonb(d)->>'datlocprovider', 'c') = 'c' AND d.datcollate IN ('C', 'POSIX')
		FROM pg_database AS d WHERE d.datname = current_database()) THEN
		CREATE INDEX customers_id_bytes ON customers(id COLLATE "C");
	END IF;
END $$;
`},
	{name: "erase in the inbox", sql: `
-- An erase in a cluster goes through the inbox, so that the owner of the
-- customer's shard applies it in order with the inputs acknowledged
-- before it (an inbox row with erase set: its input is empty), and puts
-- what it erased in erasures for the node that took the request.
ALTER TABLE inbox ADD COLUMN erase boolean NOT NULL DEFAULT false;
CREATE TABLE erasures (
	message_id text PRIMARY KEY,
	result     bytea NOT NULL,
	at         timestamptz NOT NULL DEFAULT now()
);
`},
	{name: "metric responses", sql: `
-- Metric responses are history rows of kind 'response' (data: the engine's
-- JSON of one, name: the metric), read with the journey's records.
DROP INDEX history_journey;
CREATE INDEX history_journey ON history(journey, seq) WHERE kind IN ('transition', 'send', 'response');
`},
	{name: "merges in the inbox", sql: `
-- A merge in a cluster is two inbox rows written in one transaction (see
-- inboxmerge.go): 'out' for the customer merged (its shard's owner takes
-- its state out and puts it in the 'in' row's input) and 'in' for the
-- customer merged into (its owner merges the state in once it is there).
-- partner is the other customer; partner_erased says the customer merged
-- was erased while its state was on the way (its history is not
-- rewritten then). merge_order has one row, locked by every merge's
-- enqueue, so that the rows of two merges never interleave in seq order:
-- the in row of a merge waits only for merges enqueued before it.
ALTER TABLE inbox ADD COLUMN merge text NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN partner text NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN partner_erased boolean NOT NULL DEFAULT false;
CREATE TABLE merge_order (id integer PRIMARY KEY);
INSERT INTO merge_order(id) VALUES (1);
`},
	{name: "analytics tallies", sql: `
-- The analytics tallies (runtime/store/tally), added by each commit in its
-- own transaction. Keyed also by the shard of the customer whose write
-- added them: the owner of a shard is the only node that writes its rows,
-- so nodes committing at once never wait on each other's rows. The
-- primary key leads with (journey, cohort), so it is also the index that
-- SumTallies reads (one index to keep up, not two); fillfactor leaves
-- room on each page for the upserts' new row versions (HOT updates: n and
-- sum are in no index).
CREATE TABLE tallies (
	shard   integer NOT NULL,
	journey text NOT NULL,
	cohort  bigint NOT NULL,
	kind    text NOT NULL,
	a       text NOT NULL,
	b       text NOT NULL,
	n       bigint NOT NULL DEFAULT 0,
	sum     double precision NOT NULL DEFAULT 0,
	PRIMARY KEY (journey, cohort, kind, a, b, shard)
) WITH (fillfactor = 70);

-- What settling an outbox item moves in the send_delivery tally: the
-- send's journey, name and cohort (NULL for items the upgrade could not
-- place: their delivery moves nothing).
ALTER TABLE outbox ADD COLUMN journey text, ADD COLUMN name text, ADD COLUMN cohort bigint;
`, backfill: backfillTallies},
	{name: "merges by partner", sql: `
-- An erase marks the in rows of merges whose customer merged is the one
-- erased (partner): found by index however long the inbox is.
CREATE INDEX IF NOT EXISTS inbox_merge_partner ON inbox(partner) WHERE merge = 'in';
`},
	{name: "no journey index", sql: `
-- The analytics read the tallies: the history_journey index (a b-tree
-- entry for three of every four history rows a commit writes) served
-- only the record fold they replaced. JourneyRecords, now a scan of the
-- history in commit order, is left to tests and to rebuilding tallies.
DROP INDEX IF EXISTS history_journey;
`},
}

// SchemaVersion is the schema version this binary writes and understands:
// len(migrations) (a test holds them equal).
const SchemaVersion = 11

// migrate brings the database to SchemaVersion, one step per transaction.
// Many nodes may start at once: each step's transaction locks
// schema_migrations before it reads the version, so the others wait and
// then find the step done; and the version's primary key would refuse a
// second row for it anyway, so a database without LOCK TABLE stays correct
// (the loser rolls back and reads again).
func migrate(ctx context.Context, pool *pgxpool.Pool, shards int) error {
	for try := 0; ; try++ {
		_, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`)
		if err == nil {
			break
		}
		// Two nodes creating it at the same moment: IF NOT EXISTS is no
		// guard against a concurrent CREATE, so one fails on a catalog
		// unique index (23505), on the table (42P07) or on its row type
		// (42710, duplicate_object); the table exists now.
		if !isCode(err, "23505", "42P07", "42710") || try > 3 {
			return fmt.Errorf("postgres: creating schema_migrations: %w", err)
		}
	}
	for try := 0; ; {
		done, err := migrateOne(ctx, pool, shards)
		if err == nil && done {
			return nil
		}
		if err != nil {
			if !isCode(err, "23505", "40001", "40P01") || try > 5 {
				return err
			}
			try++ // another node applied the step first: read again
		}
	}
}

func migrateOne(ctx context.Context, pool *pgxpool.Pool, shards int) (done bool, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("postgres: locking schema_migrations: %w", err)
		}
		var v int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
			return fmt.Errorf("postgres: reading the schema version: %w", err)
		}
		if v > SchemaVersion {
			return fmt.Errorf("postgres: the database has schema version %d, and this binary knows versions up to %d: run a newer waymark: %w",
				v, SchemaVersion, store.ErrSchemaTooNew)
		}
		if v == SchemaVersion {
			done = true
			return nil
		}
		m := migrations[v]
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("postgres: migration %d (%s): %w", v+1, m.name, err)
		}
		if v == 0 && shards > 0 && shards != DefaultShards {
			// The cluster is created here: with the shard count asked
			// for, fixed from now on (Open refuses another).
			if _, err := tx.Exec(ctx, "DELETE FROM shards"); err != nil {
				return fmt.Errorf("postgres: creating %d shards: %w", shards, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO shards(shard) SELECT generate_series(0, $1::integer - 1)", shards); err != nil {
				return fmt.Errorf("postgres: creating %d shards: %w", shards, err)
			}
		}
		if m.backfill != nil {
			// The backfill works in Go between its statements: the
			// session's idle-in-transaction limit (Open) is for commits.
			if _, err := tx.Exec(ctx, "SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
				return fmt.Errorf("postgres: migration %d (%s): %w", v+1, m.name, err)
			}
			if err := m.backfill(ctx, tx); err != nil {
				return fmt.Errorf("postgres: migration %d (%s): %w", v+1, m.name, err)
			}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations(version, name) VALUES ($1, $2)", v+1, m.name); err != nil {
			return fmt.Errorf("postgres: migration %d (%s): %w", v+1, m.name, err)
		}
		return nil
	})
	return done, err
}

// isCode reports whether err is a PostgreSQL error with one of codes.
func isCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// History partitions: one a month, made ahead of time so that commits
// never wait on DDL. ensurePartitions makes the partitions of the months
// from the previous to two ahead of now that do not exist yet. A month
// whose rows already sit in the default partition (records dated ahead of
// time) is left to the default partition: PostgreSQL refuses a partition
// for rows the default holds.
func ensurePartitions(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	for range 4 {
		next := m.AddDate(0, 1, 0)
		name := partitionName(m)
		var exists bool
		if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
			return fmt.Errorf("postgres: history partitions: %w", err)
		}
		if !exists {
			_, err := pool.Exec(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF history FOR VALUES FROM ('%s') TO ('%s')",
				name, m.Format(time.RFC3339), next.Format(time.RFC3339)))
			// 23514: the default partition holds rows of that month; 42P07
			// and 23505: another node made it at the same moment.
			if err != nil && !isCode(err, "23514", "42P07", "23505") {
				return fmt.Errorf("postgres: making history partition %s: %w", name, err)
			}
		}
		m = next
	}
	return nil
}

func partitionName(month time.Time) string {
	return fmt.Sprintf("history_%04d_%02d", month.Year(), int(month.Month()))
}
