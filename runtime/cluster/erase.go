package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Erasing a customer (DELETE /v1/customers/{id}) on any node goes the way
// of its inputs, so that it is ordered with them whichever node took
// either:
//
//	any node ──Ingest.Erase──► inbox row (erase) ──► waits for the result
//	owner of the shard: Pump ── in inbox order ──► worker.Erase (fenced)
//	                         ──► FinishErase: the result, the row out of the inbox
//
// The inputs acknowledged before the erase are applied before it (the
// pump stops a page at an erase row and submits what comes before it
// first), those acknowledged after it after it: they start a new customer.

// erasePoll is how often Ingest.Erase looks for the result.
const erasePoll = 20 * time.Millisecond

// Erase implements the server's CustomerEraser in a cluster: it enqueues
// the erase of customer id and waits until the owner of its shard has
// applied it. If ctx ends first the erase is still applied, later.
func (g *Ingest) Erase(ctx context.Context, id string) (store.Erased, error) {
	if id == "" {
		return store.Erased{}, worker.ErrNoCustomer
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	msg := "erase-" + hex.EncodeToString(b[:])
	if err := g.st.Enqueue(ctx, []postgres.InboxItem{{Shard: g.st.ShardOf(id), Customer: id, MessageID: msg, Erase: true}}); err != nil {
		return store.Erased{}, fmt.Errorf("cluster: erase: %w", err)
	}
	g.kick()
	t := time.NewTicker(erasePoll)
	defer t.Stop()
	for {
		e, ok, err := g.st.TakeErasure(ctx, msg)
		if err != nil || ok {
			return e, err
		}
		select {
		case <-ctx.Done():
			return store.Erased{}, fmt.Errorf("cluster: erase queued, not yet applied: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// erase applies the erase of the inbox row r through the local worker,
// which orders it after the commits before it and fences it. The
// customers merged into r's (engine.Customer.Merged) go with it, as on one
// node: those of shards the node does not own through their own owners
// (an erase row each, enqueued first, under an id made from r's, so that
// a retry enqueues them once). A merge of r's customer whose state is on
// its way to another customer is marked first: its history does not come
// back under the erased id when it is applied.
func (p *Pump) erase(ctx context.Context, r postgres.InboxItem) error {
	if err := p.st.MarkPartnerErased(ctx, r.Customer); err != nil {
		return err
	}
	elsewhere := map[string]bool{}
	c, err := p.st.Customer(ctx, r.Customer)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if c != nil {
		var rows []postgres.InboxItem
		for _, id := range c.Merged {
			if sh := p.st.ShardOf(id); !p.node.Owns(sh) && !elsewhere[id] {
				elsewhere[id] = true
				rows = append(rows, postgres.InboxItem{Shard: sh, Customer: id, MessageID: r.MessageID + "/" + id, Erase: true})
			}
		}
		if err := p.st.Enqueue(ctx, rows); err != nil {
			return err
		}
	}
	e, err := p.local.EraseExcept(ctx, r.Customer, elsewhere)
	if err != nil {
		return err // left in the inbox: tried again, here or by the next owner
	}
	return p.st.FinishErase(ctx, r.Seq, r.MessageID, e)
}
