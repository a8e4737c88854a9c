// Package cluster runs several Waymark nodes on one PostgreSQL database
// (runtime/store/postgres). Customers are hash-partitioned into a fixed set
// of shards (64, a row each in the shards table); each shard has one owner
// at a time, under a lease kept by the database's clock, and an epoch that
// every write to it is fenced by.
//
// # Membership and ownership (Node)
//
// Every Tick (1s) a node writes its heartbeat (nodes.heartbeat = now()),
// renews the leases of the shards it owns at their epochs (a shard not
// renewed is one another node took: it is dropped at once), reads the live
// nodes (a heartbeat within a Lease, not leaving), and assigns each shard
// to one of them by rendezvous hashing (Assign): it hands over the shards
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
// and the worker keeps no cache (another node may have written a customer
// since). After a takeover the new owner's scheduler finds the shard's due
// timers on its next poll, and its dispatcher the pending sends, under
// their original keys (a send leased by a dead node comes back when the
// outbox lease runs out).
//
// An erase (DELETE /v1/customers/{id}, Ingest.Erase) takes the same path,
// as an inbox row marked erase: the pump stops a page at it, submits the
// inputs before it, then has the worker erase (fenced), records the result
// and takes the row out (postgres FinishErase); the node that took the
// request polls for the result (TakeErasure). So an erase is ordered with
// the inputs acknowledged before and after it, whichever nodes took them.
//
// Status (GET /v1/cluster) reads nodes and shards from the database, the
// same from any node; ProgramSkew reports a node that runs another program
// than the others for longer than SkewGrace.
package cluster
