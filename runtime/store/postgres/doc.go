// Package postgres is the store.Store on PostgreSQL (through
// github.com/jackc/pgx/v5), for running several Waymark nodes against one
// database (runtime/cluster). It also implements store.MessagePruner,
// store.EventHistory, store.DeadLetterQueue, store.HistoryPruner,
// store.CustomerLister, store.ReceivedHistory, store.Eraser,
// store.JourneyRecords, store.Tallies and store.WriteHealth (a standby, a
// read-only database, a recent full disk: health.go), and passes the
// storetest conformance suite.
//
//	st, err := postgres.Open("postgres://waymark@db:5432/waymark?sslmode=require")
//	defer st.Close()
//
// # Data flow
//
// Writes (Commit, ClaimOutbox, Delivered, Retry, Dead, Requeue,
// SaveProgram, the chunks of the prunes) are requests to one writer
// goroutine per node (runtime/store/groupcommit): it takes every request
// queued while it was busy and runs them in one transaction, so many
// callers share one commit (one WAL flush). A commit is staged first
// (Stage, store.Stager; wire.go): in the caller's goroutine, and by the
// worker while the previous commit runs, its rows become one batch of
// statements sending the customers' and active instances' rows as arrays
// in PostgreSQL's binary format, one parameter per column, for the server
// to unnest, and the binary COPY data of its message ids, outbox items and
// history rows. The writer then only sends them: the fence, the batch and
// the COPYs, five round trips whatever the commit's size, and one COMMIT
// per group. A COPY cannot skip a row already there (a replay's message id
// or send): the commit that meets one fails on the unique violation and
// runs again with INSERTs that skip it. Ingest's own writer sends the inbox
// rows of a whole group as one COPY, with the same fallback. If a request
// of a group fails, the group is rolled back and each request runs again
// alone, so one caller's failure never loses another's write. Reads go straight to the connection pool
// and see the last committed state.
//
// # Fencing
//
// With a Fence set (SetFence, by the cluster), every commit and every
// settlement of an outbox item begins by calling waymark_fence, which takes
// a key-share lock on the rows of the shards it writes and fails the whole
// transaction (SQLSTATE WM001) unless each is still at the epoch the node
// took it at. A takeover locks the shard's row FOR UPDATE before it moves
// the epoch on, so it waits for the commits under way, and every commit of
// the old owner after it fails: a node paused past its lease cannot write
// to a shard it lost, whatever its clock says. The check is part of the
// transaction, not an advisory lock, so it holds on PostgreSQL-compatible
// databases with row locks. Due, ClaimOutbox and ActiveCustomers then read
// only the shards the node owns; customers, history and the admin reads
// cover all shards. StaleCustomers (the customers of given shards with an
// instance on a version not among given ones) is what a node that took
// shards migrates.
//
// # Tables
//
// shards (a fixed 64, with owner, epoch and lease) and nodes (heartbeats)
// belong to the cluster. customers holds each customer's engine.Customer
// as JSON with its shard and next_wake (the timer index, a partial index);
// active_instances mirrors the active instances, rewritten only when a
// customer's set changes (a signature in its row says so), for StageCounts
// and ActiveCustomers. history holds every transition, send decision,
// refusal, error, emitted event and received input (kind 'received', the
// store.Received as JSON), partitioned by month of the record's
// time (a default partition takes times outside the months made so far),
// so that PruneHistory drops whole months. outbox holds each send to
// deliver under its idempotency key (ON CONFLICT DO NOTHING: a replay never
// enqueues twice) with a copy of the send and its delivery state; a claim
// moves next_attempt to the end of the lease, with FOR UPDATE SKIP LOCKED so
// nodes claiming at once take different items. messages holds ingest
// message ids for deduplication across nodes. programs holds IR documents.
// inbox holds the inputs (and erases, erase set; and the two halves of
// each merge, merge 'out' or 'in', inboxmerge.go) acknowledged by any
// node and not yet applied by their shard's owner; erasures the result of
// each erase applied, until the node that took the request reads it;
// merge_order one row that every merge's enqueue locks, so that merges'
// rows never interleave in seq order.
//
// tallies holds the analytics tallies (runtime/store/tally): the writes'
// tally.Of of every commit of a group, merged per shard (tally.Merge), are
// upserted in one statement before the group's COMMIT, so a row the
// group's commits all add to (the hour's entries, a stage's moves) is
// written once per transaction, not once per commit. Their rows are keyed
// also by a shard: a commit adds all its tallies under the lowest shard it
// writes to (it is fenced on it), and an outbox item's settlement under
// the item's shard, so each shard's rows are written by its owner alone:
// nodes committing at once never contend for a row, and one node's
// commits run one after the other, so no two transactions ever wait on
// each other's tallies. (Commits once added each customer's
// tallies under the customer's own shard: a commit of 500 wakes over 32
// shards upserted ~490 rows, now ~15. Rows written either way sum the
// same.) SumTallies sums a
// journey's cohort range across shards (a range of the primary key, which
// leads with journey and cohort). An outbox item carries its send's
// journey, name and cohort: Delivered, Dead, Requeue and the dead-lettering
// of an undecodable item move its send_delivery tally in the same
// statement, only when the item's state really changes (one statement:
// the item's old state, the UPDATE, the upsert).
//
// schema_migrations records the schema version: Open applies the missing
// steps in order, each in a transaction that first locks schema_migrations
// (the version's primary key refuses a second application anyway), so any
// number of nodes may start together; a database of a newer version is
// refused (store.ErrSchemaTooNew). A step may also backfill in Go, in its
// transaction: the tallies' step (9) replays the records in commit order
// (tally.Replayer, one per shard), places the outbox items not
// delivered yet, and fills the active instances' visited stages and split
// variants (tally.FillProgress); the nodes starting meanwhile wait on the
// lock. Records committed by a node of an older binary during it are not
// counted: upgrade with the older nodes stopped.
//
// # Customers: list, erase
//
// ListCustomers walks customer ids in byte order, as the other stores do,
// whatever the database's collation (in one that is not C, through the
// index customers_id_bytes on id COLLATE "C"). Erase deletes, in one
// transaction fenced like a commit to the customer's shard, the customer's
// row, active instances, history (every kind) and outbox items (by the
// customer column, so "a" never takes "a/b"'s), and keeps the message ids
// (store.DedupKey hashes, which name nobody).
//
// Times are timestamptz (microseconds); a wake is rounded up, never down.
package postgres
