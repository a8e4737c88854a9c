// Package groupcommit is the single writer the embedded stores write
// through. A store method hands a function to one goroutine; whatever queued
// while that goroutine was busy runs as one group (in the store's hands: one
// transaction or batch, one fsync), and each caller is answered with its own
// outcome. The queue also holds the store's open or closed state, so that a
// Close waits for the reads and hand-offs under way instead of closing
// connections under them.
//
//	store method ── Write(ctx, fn) ──► queue (buffered) ──► the loop: up to MaxGroup queued requests
//	                                                                  │
//	                            the store's runGroup(group): ◄───────┘
//	                            run each Request.Call(t), commit once, Answer each
//
// What a group is (a SQLite transaction that is rolled back and re-run
// request by request when one fails, or a Pebble batch that takes only the
// writes of requests that succeed) stays in each store: this package only
// queues, groups, and guards the lifecycle.
package groupcommit
