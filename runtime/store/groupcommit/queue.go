package groupcommit

import (
	"context"
	"fmt"
	"sync"

	"github.com/waymark-dev/waymark/runtime/store"
)

// MaxGroup bounds the requests of one group, so that the latency of the
// first request in it stays bounded under load.
const MaxGroup = 256

// queueSize is how many requests may wait for the writer; beyond it
// callers block, which pushes back on them.
const queueSize = 1024

// Request is one write waiting for the writer: a function of the store's
// write context T (a SQLite connection, a Pebble batch).
type Request[T any] struct {
	Ctx  context.Context
	fn   func(T) error
	done chan error // buffered: the writer never blocks on a caller
}

// Call runs the request's function on t. A panic in it becomes its error,
// named with what (the store): the writer goroutine must survive, or every
// caller after it would wait forever.
func (r *Request[T]) Call(what string, t T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: internal error in a write: %v", what, p)
		}
	}()
	return r.fn(t)
}

// Answer gives the caller its outcome. Call it exactly once per request.
func (r *Request[T]) Answer(err error) { r.done <- err }

// Queue is a store's writer queue and open/closed state.
type Queue[T any] struct {
	// mu guards closed. Reads hold it shared for their whole duration and
	// writes while they hand a request over, so Close waits for them.
	mu     sync.RWMutex
	closed bool
	reqs   chan *Request[T]
	done   chan struct{} // closed when the loop has returned
}

// Start returns an open queue whose loop, on its own goroutine, hands each
// group of queued requests to runGroup, which must Answer every one.
func Start[T any](runGroup func(group []*Request[T])) *Queue[T] {
	q := &Queue[T]{reqs: make(chan *Request[T], queueSize), done: make(chan struct{})}
	go q.loop(runGroup)
	return q
}

func (q *Queue[T]) loop(runGroup func([]*Request[T])) {
	defer close(q.done)
	group := make([]*Request[T], 0, MaxGroup)
	for r := range q.reqs {
		group = append(group[:0], r)
	more:
		for len(group) < MaxGroup {
			select {
			case r, ok := <-q.reqs:
				if !ok {
					break more
				}
				group = append(group, r)
			default:
				break more
			}
		}
		runGroup(group)
		clear(group) // the requests (and what their fns hold) are done with
	}
}

// Write hands fn to the writer and waits for the outcome. It waits even if
// ctx ends meanwhile: once fn has started, only the outcome of the group
// says whether it was written, and a caller told "cancelled" about a write
// that committed would retry it. After Close it returns store.ErrClosed.
func (q *Queue[T]) Write(ctx context.Context, fn func(T) error) error {
	r := &Request[T]{Ctx: ctx, fn: fn, done: make(chan error, 1)}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case q.reqs <- r:
	case <-ctx.Done():
		q.mu.RUnlock()
		return ctx.Err()
	}
	q.mu.RUnlock()
	return <-r.done
}

// Queued is how many requests wait for the writer now.
func (q *Queue[T]) Queued() int { return len(q.reqs) }

// Read runs f with the store held open: store.ErrClosed after Close.
func (q *Queue[T]) Read(f func() error) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return store.ErrClosed
	}
	return f()
}

// Close stops taking requests and waits until the loop has run every one
// already handed over. It reports false when the queue was closed already.
func (q *Queue[T]) Close() bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.closed = true
	close(q.reqs)
	q.mu.Unlock()
	<-q.done
	return true
}

// RunAll answers every request of a group for a store whose group is one
// transaction: a request whose context has ended gets its error; the rest
// run together through runTx (which rolls back on any error); if that
// fails and there were several, each runs again alone, so that one
// caller's failure never takes another's write with it.
func RunAll[T any](group []*Request[T], runTx func([]*Request[T]) error) {
	live := group[:0]
	for _, r := range group {
		if err := r.Ctx.Err(); err != nil {
			r.Answer(err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	if err := runTx(live); err == nil || len(live) == 1 {
		for _, r := range live {
			r.Answer(err)
		}
		return
	}
	for _, r := range live {
		if err := r.Ctx.Err(); err != nil {
			r.Answer(err)
			continue
		}
		r.Answer(runTx([]*Request[T]{r}))
	}
}
