// Package cluster runs several Waymark nodes on one PostgreSQL database
// (runtime/store/postgres). Customers are hash-partitioned into a fixed set
// of shards (64 unless the cluster was created with another count:
// postgres.Options.Shards; a row each in the shards table); each shard has
// one owner at a time, under a lease kept by the database's clock, and an
// epoch that every write to it is fenced by.
//
// # Membership and ownership (Node)
//
// Every Tick (1s) a node writes its heartbeat (nodes.heartbeat = now()),
// renews the leases of the shards it owns at their epochs (a shard not
// renewed is one another node took: it is dropped at once), reads the live
// nodes (a heartbeat within a Lease, not leaving) that run the newest
// program among them (the one installed last, in the programs table's
// order: see Rollouts), and assigns each shard to one of them by
// rendezvous hashing with bounded loads (Assign: an even share each, give
// or take one): it hands over the shards
// it owns that go to another node (it stops using them first, then clears
// their owner) and takes those that come to it once they are free (no
// owner, or a lease run out). Taking a shard locks its row FOR UPDATE,
// which waits for the previous owner's commits under way (they hold
// key-share locks through the store's fence), and moves its epoch on,
// which fails every later write of the previous owner: a node paused past
// its lease (SIGSTOP, a long GC, a partition) commits nothing to a shard it
// lost, and drops it when the fence refuses it (Node is the store's
// postgres.Fence). Correctness rests on these row locks and epochs in the
// writers' own transactions, never on advisory locks or LISTEN/NOTIFY.
//
// A node that stops with SIGTERM marks itself leaving (the others stop
// assigning it shards), finishes its work, and releases its shards (Leave):
// they move on the others' next round. A node that dies keeps its shards
// until their leases run out: a takeover within Lease plus a Tick (5-6s).
//
// # Ingest on any node (Ingest, Pump)
//
//	POST /v1/batch on any node ──Ingest.Submit──► inbox (group commit; the 200)
//	owner of the shard: Pump ── inbox in seq order ──► worker ──► fenced Commit
//	                                                    (deletes the applied inputs from the inbox)
//
// An input is acknowledged once it is in the inbox, durable, whichever node
// owns its customer: a shard between owners delays its inputs' effects,
// never their acknowledgement, and drops nothing. The owner applies the
// inbox of its shards in inbox order (a customer's acknowledged inputs in
// the order they were acknowledged) and the commit that holds an input's
// effects deletes it from the inbox, so each is applied once; ingest
// deduplication by messageId holds across nodes (the inbox keeps one row
// per id, the messages table the ids applied). The effects of an input are
// visible (GET /v1/customers/{id}, sends) once its owner has applied it: a
// Pump poll (20ms, at once on the node that took it when it owns it) plus a
// commit after the 200, longer while its shard moves.
//
// The worker, scheduler and dispatcher of a node see only its shards: the
// fenced store's Due, ClaimOutbox and ActiveCustomers read the owned shards,
// and the worker caches a customer's state only under the epoch of its
// shard it was read at (Node.Ownership): a shard that went to another node
// and came back is read afresh, since that node may have written its
// customers; and each commit carries the epochs its states were read
// under (store.Batch.Tokens), so one prepared before the node lost a shard
// is refused even if the node has taken the shard back by the time it
// commits. After a takeover the new owner's scheduler finds the shard's due
// timers on its next poll, and its dispatcher the pending sends, under
// their original keys: the transaction that takes a shard also makes the
// sends the previous owner had claimed due at once (outbox lease_until
// cleared), since that owner can no longer settle them (its Delivered is
// fenced), rather than leaving them to its 30s outbox lease.
//
// An erase (DELETE /v1/customers/{id}, Ingest.Erase) takes the same path,
// as an inbox row marked erase: the pump stops a page at it, submits the
// inputs before it, then has the worker erase (fenced), records the result
// and takes the row out (postgres FinishErase); the node that took the
// request polls for the result (TakeErasure). So an erase is ordered with
// the inputs acknowledged before and after it, whichever nodes took them.
//
// # Merges across shards (merge.go)
//
// A merge (alias, or an identify naming both ids) folds the customer
// "from" into "into", whose shards may have different owners. Ingest.Merge
// writes two inbox rows in one transaction, an out row on from's shard and
// an in row on into's, and that is the 200:
//
//	from's owner, at the out row (after from's inputs acknowledged before):
//	    from's state leaves for the in row, from is left empty ── one fenced commit
//	into's owner, at the in row (after into's inputs acknowledged before),
//	    once the state is there: engine.Merge ── one fenced commit
//
// Each half takes its own row out of the inbox in the transaction that
// applies it (and refuses to run when the row is gone), so it is applied
// once, and a stale owner writes nothing of it; between the halves the
// state waits in the in row, durable, whoever owns the shards next. The
// pump holds into's later rows (only into's) behind a waiting in row, so
// into's inputs acknowledged after the merge see it; from's inputs
// acknowledged after it start a new customer, as on one node. Both halves
// run on the worker as batches of their own (worker.Exclusive), so no
// timer of either customer is applied during one. The enqueue locks the
// one row of merge_order, so the two rows of merges never interleave in
// seq order: an in row waits only for its own out row, which waits at most
// for merges enqueued before it, and chains and cycles (a into b, b into
// a) cannot wait on each other for ever. A merge's message id comes from
// the call's messageId: the call again is the same rows while they wait,
// and rows applied before (their ids in messages) are dropped.
//
// This was chosen over a redirect (the old id forwarding its later inputs
// to the surviving one) because it keeps the single node's outcome: there
// the anonymous id is left an empty customer that later calls start
// afresh, and reads of either id answer as they would. An erase of the
// customer merged into takes the customers merged into it with it: those
// on shards the node does not own through erase rows for their owners; an
// erase of the customer merged while its state is on its way marks the in
// row, so its ended runs are not written back under the erased id.
//
// # Rollouts
//
// Each node compiles its own workspace and heartbeats the version of the
// program it runs. Shards go only to the live nodes running the newest
// program (qOwners): once one node runs a new version (a hot reload, or a
// restart on the new workspace), the others hand it their shards and take
// none until they run it too (Skew.Behind, and a warning in the log), so a
// customer the new version ran is never stepped again by the old one while
// a node runs the new one. If every node on the newest version goes, the
// older nodes take the shards back and migrate their customers back by
// stage name (a rollback). OnChange tells the runner the shards gained;
// cmd/waymark then runs reload.Adopt on them: the earlier versions pinned
// instances run are loaded from the store, and every customer of those
// shards on a version the node does not run (postgres StaleCustomers) is
// woken, so it migrates now rather than at its next input.
//
// Status (GET /v1/cluster) reads nodes and shards from the database, the
// same from any node; ProgramSkew reports a node that runs another program
// than the others for longer than SkewGrace.
package cluster
