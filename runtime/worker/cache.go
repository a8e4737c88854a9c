package worker

import (
	"maps"
	"slices"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// cache is an LRU of committed customer states. Only the Run goroutine uses
// it, so it has no lock. A batch takes a state out (the batch then owns it
// and Step mutates it in place); the state comes back with put once the
// batch's commit has returned nil. So whatever the cache holds is committed,
// and a failed commit needs no invalidation: its states are simply never put
// back.
//
// Each state is kept under the ownership token it was loaded under
// (Options.Ownership: a cluster node's epoch of the customer's shard), and
// take returns it only under the same token: once the node has lost the
// shard, whatever another owner wrote meanwhile is read from the store.
type cache struct {
	max  int
	m    map[string]*centry
	head centry // sentinel: head.next is the most recently used
}

type centry struct {
	id         string
	c          *engine.Customer
	tok        int64
	prev, next *centry
}

func newCache(max int) *cache {
	k := &cache{max: max}
	if max > 0 {
		k.m = make(map[string]*centry, max)
	}
	k.head.prev, k.head.next = &k.head, &k.head
	return k
}

// take removes id's state and returns it if it was kept under tok.
func (k *cache) take(id string, tok int64) (*engine.Customer, bool) {
	e, ok := k.m[id]
	if !ok {
		return nil, false
	}
	k.unlink(e)
	delete(k.m, id)
	return e.c, e.tok == tok
}

// drop forgets id's state.
func (k *cache) drop(id string) {
	if e, ok := k.m[id]; ok {
		k.unlink(e)
		delete(k.m, id)
	}
}

// put stores a committed state, under tok, as the most recently used,
// evicting the least recently used beyond max.
func (k *cache) put(c *engine.Customer, tok int64) {
	if k.max <= 0 {
		return
	}
	if e, ok := k.m[c.ID]; ok {
		e.c, e.tok = c, tok
		k.unlink(e)
		k.pushFront(e)
		return
	}
	e := &centry{id: c.ID, c: c, tok: tok}
	k.m[c.ID] = e
	k.pushFront(e)
	for len(k.m) > k.max {
		old := k.head.prev
		k.unlink(old)
		delete(k.m, old.id)
	}
}

func (k *cache) len() int { return len(k.m) }

func (k *cache) unlink(e *centry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (k *cache) pushFront(e *centry) {
	e.prev, e.next = &k.head, k.head.next
	k.head.next.prev = e
	k.head.next = e
}

// cloneCustomer deep-copies the parts of a state that Step mutates in place,
// so that a batch prepared while the previous one commits never touches a
// state the store may be encoding. Maps the engine treats as immutable once
// made (Instance.Entry, Send.Fields: shared with Results, see the engine's
// doc) are shared; trait values are replaced, never mutated, so the traits
// map is copied one level deep. TestCloneShares guards this list against new
// fields in engine.Customer.
func cloneCustomer(c *engine.Customer) *engine.Customer {
	cp := *c
	cp.Traits = maps.Clone(c.Traits)
	if c.Instances != nil {
		cp.Instances = make([]*engine.Instance, len(c.Instances))
		for i, in := range c.Instances {
			x := *in // also copies the engine's unexported per-Step scratch and immutable caches
			x.Waits = slices.Clone(in.Waits)
			x.Visited = slices.Clone(in.Visited) // Step appends to it
			x.Splits = maps.Clone(in.Splits)     // and sets its keys
			cp.Instances[i] = &x
		}
	}
	cp.Held = slices.Clone(c.Held)
	if c.Sends != nil {
		cp.Sends = make(map[string][]time.Time, len(c.Sends))
		for k, v := range c.Sends {
			cp.Sends[k] = slices.Clone(v)
		}
	}
	cp.Seen = slices.Clone(c.Seen)
	cp.Merged = slices.Clone(c.Merged) // Merge appends to it
	cp.Seqs = maps.Clone(c.Seqs)
	cp.Subscriptions = maps.Clone(c.Subscriptions)
	return &cp
}
