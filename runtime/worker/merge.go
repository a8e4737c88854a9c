package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// A merge (Segment's alias, or an identify naming both an anonymousId and
// a userId) touches two customers, and each customer's inputs must stay in
// order. The worker has one queue, so a merge is simply a batch of its
// own, like an erase: Run commits every batch before it, then loads both
// customers, runs engine.Merge, and commits both states with the Result in
// one Commit; batches after it are prepared only then. Both customers'
// other inputs are therefore handled before or after the merge, never
// during it, with no lock and no second queue. The price is that a merge
// waits for the commit before it and the next batch waits for the merge:
// fine for identify-time merges, which are rare next to events.

// Merge merges the customer from into the customer into (engine.Merge)
// after every input submitted before it is committed and before any
// submitted after it is handled. merged is false when there was nothing to
// merge: from is unknown or empty (merged already), or is into.
func (w *Worker) Merge(ctx context.Context, from, into string) (merged bool, err error) {
	if from == "" || into == "" {
		return false, ErrNoCustomer
	}
	if from == into {
		return false, nil
	}
	r := &request{ctx: ctx, mergeFrom: from, mergeInto: into, done: make(chan error, 1)}
	if err := w.enqueue(ctx, r); err != nil {
		return false, err
	}
	return r.merged, nil
}

// ownedState is a customer's state with the ownership it was read under
// (Options.Ownership), to keep it in the cache under once committed.
type ownedState struct {
	c     *engine.Customer
	tok   int64
	owned bool
}

// keep puts s back in the cache (see Worker.keep).
func (s ownedState) keep(w *Worker) { w.keep(s.c, s.tok, s.owned) }

// state returns a customer's committed state: the cache's (taken out of
// it) or the store's; fresh when the store does not know the customer.
func (w *Worker) state(ctx context.Context, id string) (s ownedState, fresh bool, err error) {
	s.tok, s.owned = w.opts.Ownership(id)
	if c, ok := w.cache.take(id, s.tok); ok && s.owned {
		s.c = c
		return s, false, nil
	}
	c, err := w.st.Customer(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.c = &engine.Customer{ID: id}
		return s, true, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("worker: load customer %q: %w", id, err)
	}
	s.c = c
	return s, false, nil
}

func empty(c *engine.Customer) bool {
	// Subscriptions count: an anonymous visitor's "unsubscribed" must
	// reach the known customer (engine.Merge keeps every no).
	return len(c.Traits) == 0 && len(c.Instances) == 0 && len(c.Held) == 0 && len(c.Sends) == 0 && len(c.Seen) == 0 && len(c.Merged) == 0 && len(c.Subscriptions) == 0
}

// runMerge runs a Merge request on the Run goroutine, with no batch
// preparing or committing.
func (w *Worker) runMerge(ctx context.Context, r *request) {
	if err := r.ctx.Err(); err != nil {
		r.done <- err
		return
	}
	fromS, fresh, err := w.state(ctx, r.mergeFrom)
	if err != nil {
		r.done <- err
		return
	}
	from := fromS.c
	if fresh || empty(from) {
		if !fresh {
			fromS.keep(w)
		}
		r.done <- nil
		return
	}
	intoS, _, err := w.state(ctx, r.mergeInto)
	if err != nil {
		fromS.keep(w)
		r.done <- err
		return
	}
	into := intoS.c
	now := w.opts.Now()
	res, fromRes := engine.Merge(into, from, now)
	b := &store.Batch{Customers: []store.CustomerWrite{
		// from first: the ends of its runs come before into's moves.
		{State: from, Results: []engine.Result{fromRes}}, // emptied: nothing due, no instance
		{State: into, NextWake: into.NextWake(), Results: []engine.Result{res},
			Received: []store.Received{{Kind: KindMerge, Name: r.mergeFrom, At: now}}},
	}}
	if err := w.st.Commit(ctx, b); err != nil {
		// Both states were changed in memory and are not committed: they
		// are dropped, and the next batch reloads them from the store.
		w.n.errors.Add(1)
		w.log.Error("merge failed", "err", err)
		r.done <- fmt.Errorf("worker: merge: %w", err)
		return
	}
	w.n.batches.Add(1)
	if w.opts.OnCommit != nil {
		w.opts.OnCommit(b)
	}
	intoS.keep(w)
	fromS.keep(w)
	r.merged = true
	r.done <- nil
}

// KindMerge is the kind of the received input that records a merge on the
// customer merged into (store.Received.Name is the id merged).
const KindMerge = "merge"
