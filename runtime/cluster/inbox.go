package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Local is what the node's own worker offers: a durable Submit, erases and
// Exclusive work in order with it, and the engine it runs.
type Local interface {
	Submit(ctx context.Context, items []worker.Item) error
	Erase(ctx context.Context, id string) (store.Erased, error)
	EraseExcept(ctx context.Context, id string, elsewhere map[string]bool) (store.Erased, error)
	Exclusive(ctx context.Context, ids []string, fn func(ctx context.Context, now time.Time) (*store.Batch, error)) error
	Engine() *engine.Engine
}

// Ingest takes inputs on any node: Submit writes them to the inbox (one
// group commit, shared with the node's other writes) and returns once they
// are durable, whichever node owns their customers. It is the HTTP
// server's Worker in a cluster.
type Ingest struct {
	st    *postgres.Store
	local Local
	kick  func() // the local pump: an input may be for this node
}

// NewIngest returns the ingest of a node whose worker is local.
func NewIngest(st *postgres.Store, local Local, p *Pump) *Ingest {
	return &Ingest{st: st, local: local, kick: p.Kick}
}

// Engine is the local worker's engine (the admin API's view of the program).
func (g *Ingest) Engine() *engine.Engine { return g.local.Engine() }

// Submit implements the server's Worker: nil once every item is in the
// inbox, durably. An item without a message id gets one here, so that the
// commit that applies it can take it out of the inbox by id.
func (g *Ingest) Submit(ctx context.Context, items []worker.Item) error {
	rows := make([]postgres.InboxItem, len(items))
	for i, it := range items {
		in := it.Input
		if in.MessageID == "" {
			var b [12]byte
			_, _ = rand.Read(b[:])
			in.MessageID = "wm-" + hex.EncodeToString(b[:])
		}
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("cluster: encoding the input for %q: %w", it.CustomerID, err)
		}
		// Filed under the form the worker commits message ids in
		// (store.DedupKey), so that the commit applying the input takes
		// it out of the inbox.
		rows[i] = postgres.InboxItem{Shard: g.st.ShardOf(it.CustomerID), Customer: it.CustomerID, MessageID: store.DedupKey(in.MessageID), Input: data}
	}
	if err := g.st.Enqueue(ctx, rows); err != nil {
		return err
	}
	g.kick()
	return nil
}

// Pump applies the inbox of the node's shards: it reads the waiting inputs
// in inbox order and submits them to the local worker, whose fenced commit
// takes each applied input out of the inbox; the inputs the worker drops
// as applied before are deleted after. One page at a time, so a customer's
// inputs are applied in the order they were acknowledged.
type Pump struct {
	st    *postgres.Store
	node  *Node
	local Local
	log   *slog.Logger
	kicks []chan struct{} // one per lane
	// Poll is the time between looks at the inbox without a kick
	// (default 20ms): the delay of an input taken by another node.
	Poll time.Duration
	// Page bounds the inputs of one submit (default 2000).
	Page int
}

// lanes is how many pages are read and submitted at once, each lane over
// its own shards (shard modulo lanes), so that a customer's inputs stay in
// one lane, in order, while the worker commits one lane's page and
// prepares the next lane's.
const lanes = 2

// NewPump returns the pump of node's shards into local.
func NewPump(st *postgres.Store, node *Node, local Local, log *slog.Logger) *Pump {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pump{st: st, node: node, local: local, log: log.With("component", "inbox"),
		Poll: 20 * time.Millisecond, Page: 2000}
	for range lanes {
		p.kicks = append(p.kicks, make(chan struct{}, 1))
	}
	return p
}

// Kick makes the pump look at the inbox now.
func (p *Pump) Kick() {
	for _, k := range p.kicks {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// Run pumps until ctx ends.
func (p *Pump) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for lane := range lanes {
		wg.Go(func() { p.runLane(ctx, lane) })
	}
	wg.Wait()
	return nil
}

func (p *Pump) runLane(ctx context.Context, lane int) {
	t := time.NewTimer(p.Poll)
	defer t.Stop()
	for {
		n, err := p.once(ctx, lane)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			p.log.Warn("applying the inbox failed; retrying", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		t.Reset(p.Poll)
		select {
		case <-ctx.Done():
			return
		case <-p.kicks[lane]:
		case <-t.C:
		}
	}
}

// once applies one page of the inbox of the lane's owned shards and
// returns how many inputs it held.
func (p *Pump) once(ctx context.Context, lane int) (int, error) {
	var owned []int
	for _, sh := range p.node.Owned() {
		if sh%lanes == lane {
			owned = append(owned, sh)
		}
	}
	if len(owned) == 0 {
		return 0, nil
	}
	rows, err := p.st.Inbox(ctx, owned, p.Page)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	seen, lost, err := p.mergeStates(ctx, rows)
	if err != nil {
		return 0, err
	}
	// A customer whose merge waits for the state of the customer merged
	// into it is held, with every later row of it, until the state is
	// there; the other customers go on. An erase or a merge's half is
	// applied alone, after the inputs before it.
	held := map[string]bool{}
	items := make([]worker.Item, 0, len(rows))
	seqs := make([]int64, 0, len(rows))
	for _, r := range rows {
		if held[r.Customer] {
			continue
		}
		if r.Merge != "" && seen[r.MessageID] {
			// The same merge enqueued again after it left the inbox.
			seqs = append(seqs, r.Seq)
			continue
		}
		if r.Merge == postgres.MergeIn && !r.Ready() && !lost[r.MessageID] {
			held[r.Customer] = true
			continue
		}
		if r.Erase || r.Merge != "" {
			if len(seqs) > 0 {
				break
			}
			return 1, p.alone(ctx, r)
		}
		var in engine.Input
		dec := json.NewDecoder(bytes.NewReader(r.Input))
		dec.UseNumber() // as ingest decodes: large integers stay exact
		if err := dec.Decode(&in); err != nil {
			// Not written by a node of this version: it can never be
			// applied, and left it would be read again forever.
			p.log.Error("an inbox input cannot be decoded; it is dropped", "seq", r.Seq, "customer", r.Customer, "err", err)
			seqs = append(seqs, r.Seq)
			continue
		}
		items = append(items, worker.Item{CustomerID: r.Customer, Input: in})
		seqs = append(seqs, r.Seq)
	}
	if len(seqs) == 0 {
		return 0, nil // every row waits for a merge's state
	}
	if err := p.local.Submit(ctx, items); err != nil {
		return len(seqs), err
	}
	// Applied (the commit took them out of the inbox) or dropped as
	// applied before: either way done.
	return len(seqs), p.st.DropInbox(ctx, seqs)
}

// alone applies an erase or a merge's half, a batch of its own.
func (p *Pump) alone(ctx context.Context, r postgres.InboxItem) error {
	switch r.Merge {
	case postgres.MergeOut:
		return p.mergeOut(ctx, r)
	case postgres.MergeIn:
		return p.mergeIn(ctx, r)
	}
	return p.erase(ctx, r)
}

// mergeStates says which merge rows among rows were applied before (seen:
// a merge enqueued again after its rows left the inbox; the messages table
// keeps the ids applied) and which waiting in rows wait for an out row that
// is lost (see postgres.LostMerges).
func (p *Pump) mergeStates(ctx context.Context, rows []postgres.InboxItem) (seen, lost map[string]bool, err error) {
	var ids, waiting []string
	for _, r := range rows {
		if r.Merge != "" {
			ids = append(ids, r.MessageID)
		}
		if r.Merge == postgres.MergeIn && !r.Ready() {
			waiting = append(waiting, r.MessageID)
		}
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	if seen, err = p.st.SeenMessages(ctx, ids); err != nil {
		return nil, nil, err
	}
	lost, err = p.st.LostMerges(ctx, waiting)
	return seen, lost, err
}

// Owned keeps the items whose customers' shards the node owns: the
// scheduler's wakes held in memory for a shard the node lost belong to the
// new owner, and one of them in a batch would fail the whole commit.
func (n *Node) OwnedItems(items []worker.Item) []worker.Item {
	out := items[:0:0]
	for _, it := range items {
		if n.Owns(n.st.ShardOf(it.CustomerID)) {
			out = append(out, it)
		}
	}
	return out
}
