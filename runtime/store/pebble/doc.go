// Package pebble is a store.Store on an embedded LSM tree
// (github.com/cockroachdb/pebble/v2), for write loads beyond what the SQLite
// store sustains: an event there dirties a few B-tree pages at random
// places, each written twice (WAL and checkpoint); here it appends its
// keys to one log and one in-memory table, and compaction later writes
// them out sequentially. It also implements store.MessagePruner,
// store.HistoryPruner, store.EventHistory, store.DeadLetterQueue,
// store.FailedSendLister, store.CustomerLister, store.ReceivedHistory
// (inputs received are history records of their own kind, so pruned and
// erased with it), store.JourneyRecords and store.Tallies, and passes
// storetest like every store.
//
//	st, err := pebble.Open("/var/lib/waymark/pebble")
//	defer st.Close()
//
// One process a store: Open locks DIR/waymark.lock, holding the pid
// (runtime/store/storelock), so that a second Open fails with
// store.ErrInUse naming the holder rather than Pebble's bare "resource
// temporarily unavailable".
//
// A full disk refuses writes (store.ErrNoSpace; reads go on) instead of
// killing the process, and writes resume when space comes back: a reserve
// file and a free-space check before every group commit keep Pebble from
// meeting ENOSPC in its WAL, where it would be fatal (space.go).
//
// # Data flow
//
// Every write (Commit, ClaimOutbox, Delivered, Retry, Dead, Requeue,
// SaveProgram, and each chunk of PruneMessages and PruneHistory) is a
// request to one writer goroutine (writer.go, queued and grouped by
// runtime/store/groupcommit). Callers do their CPU work first, in their
// own goroutines: Commit encodes states and history records to JSON before
// handing them over. The writer takes every request queued while it was
// busy, runs them in order against one indexed batch (so each reads the
// database plus the requests before it: a customer's previous record,
// whether an outbox key exists) and commits the batch with pebble.Sync:
// one fsync of the WAL for the whole group. No request is answered before
// that fsync returns, so a Commit that returned survives a crash of the
// process or of the machine. A request's writes reach the batch only if it
// succeeds, so a failing request leaves nothing and its neighbours in the
// group are written whole.
//
// Reads never go through the writer: point reads are Gets on the database,
// scans are iterators (one consistent state each), and Sends reads the
// history and the outbox in one snapshot.
//
// # Keys
//
// Keys are order-preserving binary: a prefix per kind, then components. A
// time is unix microseconds, big-endian with the sign bit flipped; a
// string followed by further components is escaped (0x00 as 0x00 0xFF) and
// terminated (0x00 0x01); the last component is raw. Values are small
// binary records with a format byte (records.go), or JSON where the
// engine's types are stored.
//
//	meta/schema                      schema version (decimal)
//	meta/seq                         last history sequence number
//	c/<id>                           customer: next wake, active instances, state JSON
//	w/<wake><id>                     timer index: Due walks it in time order
//	a/<journey><version><stage><customer><instance>
//	                                 active instances: StageCounts walks it
//	ac/<id>                          customers with an active instance: ActiveCustomers
//	h/<customer><seq>                history: kind byte + the engine's JSON
//	o/<key>                          outbox item: state, attempts, next attempt, its send's h/ key
//	od/<next attempt><key>           pending outbox items by next attempt: ClaimOutbox
//	d/<key>                          dead outbox items: DeadLetters (schema 2)
//	ht/<time><seq>                   one commit's history records (h/ keys, and the outbox
//	                                 key of a send to deliver), under its latest record's
//	                                 time: PruneHistory (schema 3)
//	dv/<delivered at><key>           delivered outbox items: PruneHistory (schema 3)
//	fs/<at><seq>                     failed sends by their time: FailedSends, the customer
//	                                 as value (schema 4); PruneHistory walks it to the cut
//	m/<id>                           ingest message id: when it was committed
//	mt/<at><id>                      message ids by time: PruneMessages
//	p/<hash>                         program: created at, save order, IR
//	jr/<journey><seq>                a journey's transitions, sends and metric responses in
//	                                 commit order (journey "": responses in none), the
//	                                 customer as value (the record is h/<customer><seq>):
//	                                 JourneyRecords (schema 5)
//	t/<journey><cohort><kind><a><b>  an analytics tally (runtime/store/tally): N and Sum;
//	                                 the cohort hour sorts like a time (schema 6)
//
// A customer's record carries where its index entries are (its wake and
// its active instances), so a commit updates w/, a/ and ac/ only when they
// change, and without decoding the old state: reading the record it
// replaces is the only read a customer costs. History sequence numbers are
// global (gaps allowed), so a customer's records come back in commit
// order. The outbox points at the send in the history instead of copying
// it; a claim leases an item by moving its od/ entry to the end of the
// lease, so a crashed dispatcher's items come back with no sweeper. A
// claim starts at a floor the writer keeps in memory (every od/ key below
// it is deleted, writer.go), not at od/: the tombstones of claimed items
// stay until a compaction, and walking them from the start made each
// claim cost the whole drain so far (BenchmarkOutboxDrain). A
// message id is written blind (no read): an id committed again is filed
// again under the later time, and a prune forgets an id only at the time
// m/<id> holds.
//
// # Pruning the history
//
// PruneHistory (prune.go) walks ht/ and dv/ from their start up to the
// cut, so a prune costs what it forgets, whatever the size of the history:
// an ht/ entry before the cut names records that are all older, and each
// goes unless it is the send of a pending or dead item (o/<key> points at
// its customer and sequence number: ClaimOutbox and DeadLetters read it
// there); the entry then keeps only those. A delivered item is o/<key>
// alone (no od/ or d/ entry), deleted with its dv/ entry. Both walks go in
// chunks of about pruneChunk records, each one write request, so commits go
// on between them; an entry that cannot be read is kept and named in the
// error, and the walk goes on. The indexes cost a commit one key, and a
// delivery one. A layout-2 store is indexed at its first open by a layout-3
// binary (migrate3.go), resuming where an interrupted indexing stopped.
//
// # Failed sends
//
// fs/<at><seq> has an entry per send decision whose fate is failed (a
// field that did not evaluate), written by the commit that records it,
// under the send's own time; its value is the customer, so the record is
// h/<customer><seq>. FailedSends walks it from a cursor (failed.go) and
// skips an entry whose record is gone; PruneHistory walks it to the cut
// like the other time indexes, and an erase deletes a customer's entries.
// A layout-3 store is indexed at its first open by a layout-4 binary: one
// read of the whole history, decoding each send record's fate and time;
// the entries are written in the batch that records version 4, so an
// interrupted indexing starts over.

// Times are kept in microseconds, PostgreSQL's precision; a wake is
// rounded up, never down, so the scheduler never wakes a customer early.
//
// # Journey records and tallies
//
// Commit files each transition, send and metric response of a journey
// under jr/ (a key, no copy of the record) and adds tally.Merge of the
// batch's tally.Of to the t/ keys: a read and a write of each key in the
// writer's batch, safe because one goroutine runs every write in order
// (writer.go), so no two requests ever add to a key at once. Settling an
// outbox item moves its send between the send_delivery states when the
// item's state really changes; the item (format 2) carries its send's
// journey, name and cohort for that. SumTallies walks t/<journey> from the
// first cohort to the last, per journey named, and sums by kind and names.
// PruneHistory and Erase delete the jr/ entry of each record they delete
// (its journey is in the record); the tallies stay: they count what
// happened, not what is still stored.
//
// A layout-4 store is upgraded in two steps: 5 indexes its transitions and
// sends under jr/ (it kept no responses); 6 replays the records in commit
// order across journeys (tally.Replayer, over a merge of jr/ by sequence)
// into t/, gives the outbox items not delivered yet their send's journey,
// name and cohort, and the active instances the stages and split variants
// they had (tally.FillProgress). Each step is one batch with its version
// number: an interrupted step starts over.
//
// # Schema
//
// meta/schema holds the layout version (SchemaVersion). Open records it in
// a new store and refuses a store of a newer version with an error
// wrapping store.ErrSchemaTooNew, writing nothing. A change of layout is a
// new version with a migration step in Open.
//
// # Configuration and costs
//
// Pebble is configured for a small machine (see options in pebble.go):
// 64 MiB memtables, a 256 MiB block cache, bloom filters on every level,
// compaction concurrency 1 (2 under debt), default L0 thresholds, a pinned
// format version. In BenchmarkCommit's workload an event is about ten
// keys (the customer, two wake entries, three history records, the outbox
// item and its due entry, the message id twice) and two reads, plus a jr/
// entry per journey record and a read and a write per tally key; the CPU
// goes to JSON encoding (in the callers), memtable inserts, the reads and
// compaction in about equal parts.
package pebble
