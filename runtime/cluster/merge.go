package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Merging customers (Segment's alias, or an identify naming both an
// anonymousId and a userId) in a cluster: the customer merged ("from") and
// the customer merged into ("into") may be in shards with different
// owners, and each one's inputs must stay in the order they were
// acknowledged. A merge is two inbox rows written in one transaction at
// acknowledgement (postgres.EnqueueMerge):
//
//	any node ──Ingest.Merge──► out row (from's shard) + in row (into's shard): the 200
//	from's owner: Pump, in order with from's inputs ──► Exclusive on the worker:
//	    CommitMergeOut: from emptied, its state into the in row (fenced on from's shard)
//	into's owner: Pump, in order with into's inputs ──► waits (into only) until the
//	    state is there ──► Exclusive: engine.Merge ──► CommitMergeIn (fenced on into's shard)
//
// from's inputs acknowledged before the merge are in from's state when it
// leaves, those after it start a new customer (as on one node: the id is
// left an empty customer); into's inputs acknowledged before are applied
// before the merge, those after it wait behind the in row. Both halves go
// through the worker as batches of their own (worker.Exclusive), so a timer
// of either customer is never applied during a half.

// Merge implements the server's CustomerMerger: it enqueues the merge of
// from into into and returns once it is durable (true: a merge is on its
// way; false when from is into).
func (g *Ingest) Merge(ctx context.Context, from, into string) (bool, error) {
	return g.MergeMessage(ctx, from, into, "")
}

// MergeMessage is Merge under the call's messageId: the same call again
// (a client's retry) is the same merge, enqueued and applied once. Without
// a message id the merge gets one of its own.
func (g *Ingest) MergeMessage(ctx context.Context, from, into, messageID string) (bool, error) {
	if from == "" || into == "" {
		return false, worker.ErrNoCustomer
	}
	if from == into {
		return false, nil
	}
	var id string
	if messageID != "" {
		id = "merge-" + store.DedupKey("merge\x00"+messageID)
	} else {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = "merge-" + hex.EncodeToString(b[:])
	}
	if err := g.st.EnqueueMerge(ctx, id, from, into); err != nil {
		return false, fmt.Errorf("cluster: merge: %w", err)
	}
	g.kick()
	return true, nil
}

// mergeOut applies the out row r: from's state leaves for the in row, and
// from is left an empty customer, in one transaction fenced on its shard.
func (p *Pump) mergeOut(ctx context.Context, r postgres.InboxItem) error {
	err := p.local.Exclusive(ctx, []string{r.Customer}, func(ctx context.Context, now time.Time) (*store.Batch, error) {
		state := []byte("null") // nothing to merge
		var b *store.Batch
		c, err := p.st.Customer(ctx, r.Customer)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		case !emptyCustomer(c):
			if state, err = json.Marshal(c); err != nil {
				return nil, fmt.Errorf("cluster: merge %q out: encoding its state: %w", r.Customer, err)
			}
			b = &store.Batch{Customers: []store.CustomerWrite{{State: c.Emptied()}}}
		}
		if err := p.st.CommitMergeOut(ctx, r, b, state); err != nil {
			return nil, err
		}
		return b, nil
	})
	if errors.Is(err, postgres.ErrMergeDone) {
		return nil // applied before (a previous owner's commit, or a duplicate)
	}
	return err
}

// mergeIn applies the in row r, which holds the state of the customer
// merged: engine.Merge folds it into r's customer, in one transaction
// fenced on its shard, with what ended of the customer merged under its id.
func (p *Pump) mergeIn(ctx context.Context, r postgres.InboxItem) error {
	var probe *engine.Customer
	if !r.Ready() {
		// Its out row is lost (postgres.LostMerges): give the merge up
		// rather than hold the customer for ever.
		p.log.Error("a merge's first half is gone without having been applied (deleted, or dropped by a node of an older version); the merge is given up",
			"seq", r.Seq, "customer", r.Customer, "from", r.Partner)
	} else if err := json.Unmarshal(r.Input, &probe); err != nil {
		// Written by a node of this version: it cannot happen but by hand,
		// and left in place it would hold the customer for ever.
		p.log.Error("a merge's state cannot be decoded; the merge is dropped", "seq", r.Seq, "customer", r.Customer, "from", r.Partner, "err", err)
		probe = nil
	}
	var err error
	if probe == nil {
		err = p.st.FinishMergeIn(ctx, r)
	} else {
		err = p.local.Exclusive(ctx, []string{r.Customer}, func(ctx context.Context, now time.Time) (*store.Batch, error) {
			var from *engine.Customer // decoded here: Merge empties it
			if err := json.Unmarshal(r.Input, &from); err != nil {
				return nil, err
			}
			into, err := p.st.Customer(ctx, r.Customer)
			if errors.Is(err, store.ErrNotFound) {
				into, err = &engine.Customer{ID: r.Customer}, nil
			}
			if err != nil {
				return nil, err
			}
			res, fromRes := engine.Merge(into, from, now)
			b := &store.Batch{Customers: []store.CustomerWrite{{State: into, NextWake: into.NextWake(),
				MessageIDs: []string{r.MessageID}, Results: []engine.Result{res},
				Received: []store.Received{{Kind: worker.KindMerge, Name: r.Partner, At: now}}}}}
			if err := p.st.CommitMergeIn(ctx, r, b, fromRes); err != nil {
				return nil, err
			}
			return b, nil
		})
	}
	if errors.Is(err, postgres.ErrMergeDone) {
		return nil
	}
	return err
}

// emptyCustomer reports whether c holds nothing a merge would move: a
// customer merged before, or never named by anything that stays.
func emptyCustomer(c *engine.Customer) bool {
	return len(c.Traits) == 0 && len(c.Instances) == 0 && len(c.Held) == 0 && len(c.Sends) == 0 && len(c.Seen) == 0 && len(c.Merged) == 0 && len(c.Subscriptions) == 0
}
