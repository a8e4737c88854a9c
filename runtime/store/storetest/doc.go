// Package storetest is the conformance suite every store.Store
// implementation runs from its own tests, so that the SQLite store and the
// PostgreSQL store (and any other) are held to one contract, written once:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })  // see Run for the open contract
//	}
//	func TestSchema(t *testing.T) {
//		storetest.RunSchema(t, storetest.Schema{ ... })
//	}
//
// Run covers every method of store.Store: commit atomicity (a failing batch
// leaves nothing), state round-trips, the due-time index (order, limit,
// removal), outbox idempotence and the lease/retry/dead lifecycle, ingest
// deduplication, history order with delivery states, stage counts,
// programs, durability across Close, concurrent use, and ErrClosed; and
// the optional store.EventHistory, store.MessagePruner,
// store.CustomerLister, store.ReceivedHistory, store.JourneyRecords and
// store.Tallies when the store has them;
// store.DeadLetterQueue and store.FailedSendLister, which every store
// implements. RunSchema covers schema versioning.
//
// Write and Customer make the realistic customer writes that the stores'
// Commit benchmarks use, so their figures compare.
//
// Every time the suite writes is a whole number of microseconds (T0 plus
// whole microseconds): stores must keep at least that precision, and need
// keep no more.
package storetest
