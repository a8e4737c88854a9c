// Package sched fires timers: when a customer's next wake time comes, it
// submits a Wake input for that customer to the worker, which steps the
// engine (every after/at timer and held send due by then is handled) and
// commits the customer's new state and next wake time.
//
// # The store is the truth
//
// A timer is not an entry in some queue that a crash can lose between two
// writes: it is the customer's next_wake, written in the same transaction as
// the state that needs it (store.CustomerWrite.NextWake), and the store's
// due-time index (store.Due) lists customers by it. The scheduler only ever
// reads that index, so after a restart everything overdue is simply the
// front of the index, and fires at once.
//
// # Data flow
//
//	store.Due(now+Horizon, PageSize) ──► min-heap of the next wakes (at most a few pages)
//	Hint(id, at) from the worker's OnCommit ──┘        │ when a wake's time comes
//	                                                    ▼
//	                 submit([]worker.Item{Wake...}) in chunks, several in flight
//	                                                    │ returns once committed
//	                                                    ▼
//	                 the customer's new next_wake is in the index (and hinted)
//
// The heap never holds the whole index: one poll reads at most PageSize
// wakes (plus those in flight), so a million pending waits cost the scheduler
// a page of memory, not a million entries. When a page is full, the heap
// knows the index only up to the page's last time (the watermark); once the
// known wakes up to it have fired, it reads the next page at once rather than
// at the next poll.
//
// Polls every PollInterval catch what no hint announced (another writer, a
// lost hint); hints make a wake that falls due before the next poll fire on
// time. A customer is never fired twice concurrently (the in-flight set), and
// a row a poll returns for a wake that has just committed is not fired again
// (the fired set); a wake that finds its customer has moved on does nothing
// and writes the customer's current next wake, so nothing spins.
package sched
