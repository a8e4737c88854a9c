// Package store defines the runtime's durable state: the Store interface
// that the worker, the scheduler, the dispatcher and the admin API use, and
// the types that cross it. Implementations live in subpackages: sqlite (the
// embedded default), pebble, and postgres (several nodes on one database);
// storelock keeps a second process off a store that one already serves
// (store.ErrInUse).
//
// Data flows in one direction per concern: the worker writes customers and
// the effects of their inputs in group commits (Commit); the scheduler reads
// the due-time index (Due); the dispatcher leases and settles outbox items;
// the admin API reads history. Nothing is acknowledged to a client before
// the Commit holding it has returned.
//
// Beyond Store, optional interfaces say what else a store can do; the
// server and `waymark run` use each where the store has it: pruning
// (MessagePruner, HistoryPruner), the reads of the admin API
// (EventHistory, DeadLetterQueue, FailedSendLister, ...), and the
// analytics' reads of one journey's records (JourneyRecords, SQLite
// only). storetest checks them; DeadLetterQueue and FailedSendLister it requires of every store.
package store
