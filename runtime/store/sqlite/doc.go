// Package sqlite is the embedded store.Store: one SQLite file through
// modernc.org/sqlite (pure Go, no cgo), in WAL mode with synchronous=FULL,
// so that a Commit that returned survives a crash of the process or of the
// machine. It also implements store.MessagePruner, store.EventHistory,
// store.DeadLetterQueue, store.HistoryPruner, store.FailedSendLister,
// store.CustomerLister, store.ReceivedHistory (the received table,
// schema 4), store.JourneyRecords (a read of the whole history) and store.Tallies
// (schema 8; schema 9 dropped the journey index the record fold read).
//
//	st, err := sqlite.Open("/var/lib/waymark/waymark.db")
//	defer st.Close()
//
// One process a database: Open takes an exclusive lock on FILE-lock beside
// the database, holding the pid (runtime/store/storelock), and a second
// Open while it is held fails with store.ErrInUse naming that pid.
// SQLite's own locking would let both run, each with its own view of the
// timers and the outbox, and acknowledged events would be lost.
//
// A full disk fails a write cleanly (rolled back, nothing lost) with an
// error wrapping store.ErrNoSpace; WriteError (store.WriteHealth, asked by
// /healthz) reports it until a write succeeds or space is back (space.go).
//
// # Connections and data flow
//
// Writes and reads take different paths:
//
//   - Every write (Commit, ClaimOutbox, Delivered, Retry, Dead, Requeue,
//     SaveProgram, the chunks of PruneMessages and PruneHistory) becomes a
//     request to one writer goroutine (runtime/store/groupcommit), which owns
//     the one writer connection. It takes all the requests queued while it
//     was busy and writes them in one transaction: group commit, one fsync
//     for many callers (a dispatcher settling items from many goroutines
//     shares fsyncs with the worker's batches). Callers prepare their rows
//     first, in their own goroutines (Commit encodes states and sends to
//     JSON there), so the writer does nothing but SQL.
//   - Reads (Customer, SeenMessages, Due, ActiveCustomers, the history,
//     Programs, StageCounts) go to a pool of query_only connections. In WAL
//     mode they read the last committed snapshot and never wait for the
//     writer, nor it for them.
//   - A checkpointer goroutine, on a connection of its own, copies committed
//     pages from the WAL into the database file while the writer goes on;
//     the writer's own automatic checkpoint then finds little left to copy
//     and lets the WAL start over. Close checkpoints everything, so a closed
//     database is one self-contained file.
//
// A Commit is all or nothing. If any request of a group fails (a cancelled
// context, a state that cannot be encoded, a disk error, a panic) the
// group's transaction is rolled back and each request runs again alone, so
// one caller's failure never loses another's write.
//
// # Tables
//
// customers holds each customer's engine.Customer as JSON, with next_wake:
// the timer index that Due reads, a partial index so that customers with
// nothing due cost nothing in it. active_instances mirrors the active
// instances of every state, kept in step in the same transaction (only
// changed rows are written), so that StageCounts is one index scan and
// ActiveCustomers a walk of its primary key. history holds, in commit order,
// every transition, send decision, refusal, error and emitted event (one
// table, one index on customer: one random page per customer and commit
// instead of one per kind; views named transitions, sends and events show
// it by kind). outbox holds each send to deliver under its idempotency key,
// inserted with ON CONFLICT DO NOTHING (a replay never enqueues twice),
// pointing at its history row, with its delivery state; a claim leases items
// by moving their next attempt to the end of the lease. messages holds
// ingest message ids for deduplication, pruned by PruneMessages. programs
// holds IR documents by hash. tallies holds the analytics tallies
// (runtime/store/tally) under their whole key, WITHOUT ROWID: a commit
// upserts tally.Merge of its writes' tally.Of, one row per key, in its
// transaction; settling an outbox item moves its send's delivery tally
// (the item's cohort column says which hour) only when the item's state
// changes; SumTallies is one primary-key range per journey name. A
// database from before schema 8 gets its tallies once, in the migration,
// by replaying each journey's records (backfill.go). schema_migrations records the schema version:
// Open applies the missing steps in order, each in its own transaction, and
// refuses a database written by a newer binary (store.ErrSchemaTooNew).
//
// Times are unix microseconds, PostgreSQL's precision; a wake time is
// rounded up, never down, so the scheduler never wakes a customer early.
//
// # Costs
//
// A commit's cost is mostly pages: each event changes a few B-tree pages at
// random places (the customer's row, its entries in the timer, message,
// outbox-key and history indexes), and each changed page is one WAL frame
// and, later, one copy by the checkpoint. The schema is shaped to keep that
// count low (about 3.3 pages an event in BenchmarkCommit's workload): one
// history table, the send stored once (the outbox points at it), active
// instances rewritten only when they change, no index that the store does
// not read through.
//
// States are encoded with encoding/json: the engine's state types are plain
// JSON by design, and encoding is about a tenth of the CPU an event costs
// in BenchmarkCommit, spent in the caller's goroutine, not the writer's.
package sqlite
