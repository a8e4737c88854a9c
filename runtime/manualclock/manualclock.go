package manualclock

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Dueer is the store's timer index (store.Store's Due).
type Dueer interface {
	Due(ctx context.Context, until time.Time, limit int) ([]store.Wake, error)
}

// Submit hands wakes to the worker and returns once they are committed:
// worker.(*Worker).Submit.
type Submit func(ctx context.Context, items []worker.Item) error

// Clock is a manual clock with the driver that advances it.
type Clock struct {
	st     Dueer
	submit Submit

	advancing sync.Mutex // one Advance at a time
	mu        sync.Mutex
	now       time.Time
}

// pageSize is how many wakes one Due query reads; an Advance reads as many
// pages as it needs.
const pageSize = 500

// New returns a clock reading start (in UTC) that fires the wakes of st
// through submit when it advances.
func New(start time.Time, st Dueer, submit Submit) *Clock {
	return &Clock{st: st, submit: submit, now: start.UTC()}
}

// Now returns the clock's time, in UTC. Safe for concurrent use.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// set moves the clock forward to t; it never moves back.
func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t.UTC()
	}
	c.mu.Unlock()
}

// Advance moves the clock to target, stopping at every due time on the way
// to fire what is due there, and returns how many wakes it fired. A target
// before the clock's time is an error. When it fails (the context ends, a
// commit fails) the clock stays at the last due time it reached, and
// everything before it has fired.
func (c *Clock) Advance(ctx context.Context, target time.Time) (fired int, err error) {
	c.advancing.Lock()
	defer c.advancing.Unlock()
	target = target.UTC()
	if now := c.Now(); target.Before(now) {
		return 0, fmt.Errorf("%s is before the clock's time %s: the clock only moves forward", target.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	// The wake each customer was last fired for: a store that still lists
	// it afterwards did not move the customer on, and firing it again
	// would loop forever.
	last := map[string]time.Time{}
	for {
		if err := ctx.Err(); err != nil {
			return fired, err
		}
		wakes, err := c.st.Due(ctx, target, pageSize)
		if err != nil {
			return fired, fmt.Errorf("reading the due timers: %w", err)
		}
		if len(wakes) == 0 {
			break
		}
		// Due lists the earliest first: fire every wake at that instant
		// (or before the clock's time, overdue) together.
		at := wakes[0].At
		c.set(at)
		now := c.Now()
		var items []worker.Item
		for _, w := range wakes {
			if w.At.After(now) {
				break
			}
			if prev, ok := last[w.CustomerID]; ok && prev.Equal(w.At) {
				return fired, fmt.Errorf("customer %q is still due at %s after its wake was committed: the store did not move its timer", w.CustomerID, w.At.Format(time.RFC3339Nano))
			}
			last[w.CustomerID] = w.At
			items = append(items, worker.Item{CustomerID: w.CustomerID, Input: engine.Input{Kind: engine.KindWake}})
		}
		if err := c.submit(ctx, items); err != nil {
			return fired, fmt.Errorf("firing %d timers due at %s: %w", len(items), now.Format(time.RFC3339Nano), err)
		}
		fired += len(items)
	}
	c.set(target)
	return fired, nil
}
