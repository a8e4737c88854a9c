package worker

import (
	"context"
	"fmt"

	"github.com/waymark-dev/waymark/runtime/store"
)

// Erasing a customer goes through the queue like any input, so it is
// ordered with the customer's inputs without a lock: an Erase is a batch
// of its own. Run first waits for the commit of every batch before it
// (with Pipeline, the one still committing), then takes the customer's
// state out of the cache and calls store.Eraser.Erase; batches after it
// are prepared only once it has returned, so they load the customer from
// the store, where it no longer is, and start a new one. A timer that
// falls due for the erased customer (the scheduler read its wake before
// the erase) finds no customer and writes nothing (see tryPrepare).

// ErrNoEraser is returned by Erase when the store cannot erase customers.
var ErrNoEraser = fmt.Errorf("worker: the store does not implement store.Eraser")

// Erase erases the customer id (store.Eraser) after every input submitted
// before it is committed and before any submitted after it is handled. It
// returns what the store deleted.
func (w *Worker) Erase(ctx context.Context, id string) (store.Erased, error) {
	return w.EraseExcept(ctx, id, nil)
}

// EraseExcept is Erase, except that the customers merged into id
// (engine.Customer.Merged) that are in elsewhere are left to the caller: a
// cluster node erases those through their own shards' owners.
func (w *Worker) EraseExcept(ctx context.Context, id string, elsewhere map[string]bool) (store.Erased, error) {
	if id == "" {
		return store.Erased{}, ErrNoCustomer
	}
	if _, ok := w.st.(store.Eraser); !ok {
		return store.Erased{}, ErrNoEraser
	}
	r := &request{ctx: ctx, erase: id, eraseElsewhere: elsewhere, done: make(chan error, 1)}
	if err := w.enqueue(ctx, r); err != nil {
		return store.Erased{}, err // r.erased may still be written: not read
	}
	return r.erased, nil
}

// runErase runs an Erase request: on the Run goroutine, with no batch
// preparing or committing.
func (w *Worker) runErase(ctx context.Context, r *request) {
	if err := r.ctx.Err(); err != nil {
		// Its caller has gone: as with inputs, do not do work nobody
		// will see acknowledged.
		r.done <- err
		return
	}
	// The customers merged into this one (engine.Customer.Merged) keep
	// their history under their own ids: they go too, first, so that a
	// failed erase, retried, still finds the list.
	s, _, err := w.state(ctx, r.erase) // out of the cache: it is the erased state
	if err != nil {
		r.done <- err
		return
	}
	c := s.c
	var e store.Erased
	var ids []string
	for _, id := range c.Merged {
		if !r.eraseElsewhere[id] {
			ids = append(ids, id)
		}
	}
	ids = append(ids, r.erase)
	for _, id := range ids {
		one, err := w.st.(store.Eraser).Erase(ctx, id)
		if err != nil {
			w.n.errors.Add(1)
			w.log.Error("erase failed", "err", err)
			r.done <- fmt.Errorf("worker: %w", err)
			return
		}
		e.Customer = e.Customer || one.Customer && id == r.erase
		e.History += one.History
		e.Cancelled += one.Cancelled
		e.Outbox += one.Outbox
	}
	for _, id := range ids {
		w.erased.add(id)
	}
	w.log.Info("customer erased", "history", e.History, "cancelled", e.Cancelled)
	r.erased = e
	r.done <- nil
}

// recentErases bounds the erased ids a worker remembers. A wake read
// before an erase reaches the worker within a scheduler poll or a retry
// of one; after a restart none can (the erase took the index entry), so
// a few thousand of the latest are plenty.
const recentErases = 4096

// recent is a bounded set of ids, the oldest forgotten first.
type recent struct {
	set   map[string]bool
	order []string
}

func (r *recent) has(id string) bool { return r.set[id] }

func (r *recent) add(id string) {
	if r.set == nil {
		r.set = make(map[string]bool)
	}
	if r.set[id] {
		return
	}
	r.set[id] = true
	r.order = append(r.order, id)
	if len(r.order) > recentErases {
		delete(r.set, r.order[0])
		r.order = r.order[1:]
	}
}
