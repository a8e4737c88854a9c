package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// An Exclusive is work on the store that must be ordered with the
// customers' inputs the way an erase or a merge is, but that the worker
// cannot express as a store.Batch: the cluster's halves of a merge across
// shards (runtime/cluster), which write inbox rows in the same transaction
// as the customer's state. It is a batch of its own: Run first waits for
// every batch before it to commit, then calls fn on its goroutine; batches
// after it are prepared only once fn has returned, so they read what fn
// wrote.

// Exclusive runs fn as a batch of its own (see above) at the worker's
// clock, after every input submitted before it is committed and before any
// submitted after it is handled. The cached states of ids are dropped
// first: fn reads them from the store and writes them itself. The batch fn
// returns, when not nil, is what it committed: it goes to OnCommit (the
// scheduler learns the new wakes, the dispatcher the new sends).
func (w *Worker) Exclusive(ctx context.Context, ids []string, fn func(ctx context.Context, now time.Time) (*store.Batch, error)) error {
	if fn == nil {
		return fmt.Errorf("worker: exclusive: no function")
	}
	return w.enqueue(ctx, &request{ctx: ctx, exclusive: fn, exclusiveIDs: ids, done: make(chan error, 1)})
}

// runExclusive runs an Exclusive request on the Run goroutine, with no
// batch preparing or committing.
func (w *Worker) runExclusive(ctx context.Context, r *request) {
	if err := r.ctx.Err(); err != nil {
		r.done <- err
		return
	}
	for _, id := range r.exclusiveIDs {
		w.cache.drop(id) // fn writes them: a cached copy would be stale
	}
	b, err := r.exclusive(ctx, w.opts.Now())
	if err != nil {
		w.n.errors.Add(1)
		r.done <- err
		return
	}
	if b != nil {
		w.n.batches.Add(1)
		if w.opts.OnCommit != nil {
			w.opts.OnCommit(b)
		}
	}
	r.done <- nil
}
