// Package worker is the runtime's single writer: it runs inputs through the
// engine customer by customer and writes their effects in group commits.
//
// Everything that changes a customer goes through one Worker: ingest (the
// HTTP server), timers (runtime/sched), reload migrations. Being the only
// writer is what lets it keep customer states in memory without ever reading
// a stale one, and what makes "events of one customer are handled in order"
// a property of one queue instead of a locking protocol.
//
// # Data flow
//
//	Submit(items) ──► queue ──► collect a batch: all that queued meanwhile, up to MaxBatch inputs
//	                              │
//	                              ▼
//	        prepare: per customer, in arrival order: load the state (cache, else store.Customer),
//	                 drop inputs whose MessageID is already committed (store.SeenMessages) or
//	                 already in this batch, engine.Step each remaining input
//	                              │
//	                              ▼
//	                 (each write lists the inputs it handled, store.CustomerWrite.Received)
//	        commit:  store.Commit(one Batch) ──► OnCommit hook ──► every Submit of the batch returns
//
// Submit returns nil only after the Commit holding all of its items has
// returned nil: that is when the caller may acknowledge them. It returns an
// error when that Commit failed (nothing of the request was acknowledged; the
// client retries, and MessageID deduplication makes the retry safe), or when
// its own context ended first (the items may or may not have been committed:
// the same retry rule applies). One Submit's items always share one commit.
//
// After a commit returns nil, its send decisions are counted by fate (and
// the failed ones by journey and send) for Stats, and each send that failed
// at run time (a field that did not evaluate) is logged as a warning with
// where it is and why, never its fields: such a send never reaches the
// outbox, so nothing else would tell an operator.
//
// # Batching and pipelining
//
// One commit runs at a time. While it runs, Submits queue; the next batch
// takes everything queued at once (up to MaxBatch inputs), so batches grow
// with the load and with the commit's duration, and an idle store gets each
// input at once. Lingering for more while the store is idle would only add
// latency, and with clients that wait for their answer before sending more
// (HTTP ingest) it caps throughput at clients/linger: in BenchmarkWorker
// (64 such clients, one event each) a 5ms linger gave 2-9k events/s on the
// in-memory store against about 100k without, and half the speed on SQLite.
//
// With Options.Pipeline the next batch is also prepared (loads and engine
// steps) while the previous commit runs, then waits for it before its own
// commit starts; it stops collecting when the commit returns, at MaxBatch
// inputs, or FlushInterval after its oldest Submit, whichever comes first. A batch prepared on top of a customer state that is still
// being committed works on a copy of it and depends on that commit: if the
// commit fails, the dependent batch fails too, and nothing of either is
// acknowledged. See Options.Pipeline for when it pays (BenchmarkWorker
// measures both).
//
// # Erasing a customer
//
// Erase (erase.go) goes through the same queue as a batch of its own: the
// commits before it finish first, the customer's cached state is dropped,
// store.Eraser.Erase runs, and only then is the next batch prepared. So an
// erase is ordered with the customer's inputs and timers without any lock,
// and a timer that falls due for an erased customer writes nothing.
//
// A merge of two customers (Merge, merge.go: alias) is a batch of its own
// the same way, which keeps it in order with both customers' inputs. So is
// an Exclusive (exclusive.go): a function that reads and writes the store
// itself, for work a store.Batch cannot say (a cluster's halves of a merge
// across shards, runtime/cluster). EraseExcept leaves some of the
// customers merged into the one erased to its caller (a cluster node
// erases those of other nodes' shards through their owners).
//
// Message ids are committed as store.DedupKey hashes.
//
// A store that implements store.CustomersReader (PostgreSQL) loads a
// batch's cache misses in one query instead of one read each.
//
// # The state cache
//
// The cache holds only committed states: a batch takes a customer's state out
// of it, and the state goes back when the batch's commit has returned nil. A
// failed commit drops the states it held, so the next batch reloads them from
// the store. Nothing else may write the store's customers while a Worker runs
// with the cache on, unless Options.Ownership says which customers are the
// worker's and since when: several runtime nodes on one database (a
// cluster: the shard's epoch) cache a state only under the token it was
// read under, and read afresh once the token has moved. Options.CacheSize
// negative turns the cache off.
//
// # Hot reload
//
// Swap installs a new engine; the next batch to be prepared runs on it, and a
// batch never mixes two engines. The engine migrates each customer's
// instances to the new program version on its first Step.
package worker
