package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// A merge in a cluster (runtime/cluster: Segment's alias, or an identify
// naming both ids) folds the customer "from" into the customer "into",
// whose shards may have different owners. It is two inbox rows, written in
// one transaction when the merge is acknowledged (EnqueueMerge):
//
//	from's shard: out row ── its owner, in order with from's inputs ──►
//	    CommitMergeOut: from emptied, its state copied into the in row,
//	    the out row gone (one fenced transaction)
//	into's shard: in row ── its owner, in order with into's inputs, once
//	    the state is there ──► CommitMergeIn: engine.Merge's outcome for
//	    into, from's ended runs under from's id, the in row gone (fenced)
//
// Each half is one transaction fenced on its own shard that takes its row
// out of the inbox: it is applied once (a half whose row is gone fails
// with ErrMergeDone), and a stale owner applies nothing of it. Between the
// halves, from's state lives in the in row, durably. Every merge's enqueue
// locks the one row of merge_order, so the rows of two merges never
// interleave in seq order: an in row waits only for the out row of its own
// merge, which waits at most for merges enqueued before it, so merges in a
// chain or a cycle (a into b, b into a) never wait on each other for ever.

// Roles of a merge's inbox rows (InboxItem.Merge).
const (
	MergeOut = "out" // the customer merged: its state goes out
	MergeIn  = "in"  // the customer merged into: the state comes in
)

// ErrMergeDone: the row of a merge's half is no longer in the inbox, so the
// half was applied already (or dropped as a duplicate). Nothing was written.
var ErrMergeDone = errors.New("postgres: this half of the merge was applied already")

// mergeRowIDs are the message ids of a merge's two rows.
func mergeRowIDs(id string) (out, in string) { return id + "/out", id + "/in" }

// inRowOf is the message id of the in row of the merge whose out row is
// outID.
func inRowOf(outID string) string { return strings.TrimSuffix(outID, "/out") + "/in" }

// EnqueueMerge writes the rows of the merge of from into into, under id
// (each row's message id is id with "/out" or "/in"): durable when it
// returns nil. A merge whose rows are still in the inbox is kept once.
func (s *Store) EnqueueMerge(ctx context.Context, id, from, into string) error {
	if id == "" || from == "" || into == "" || from == into {
		return fmt.Errorf("postgres: enqueue merge %q: needs an id and two different customers, have %q and %q", id, from, into)
	}
	outID, inID := mergeRowIDs(id)
	const q = `INSERT INTO inbox(shard, customer, message_id, input, merge, partner)
		VALUES ($1, $2, $3, ''::bytea, $4, $5) ON CONFLICT (message_id) DO NOTHING`
	err := s.read(func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			// The merges' rows in seq order, pair by pair (see above).
			if _, err := tx.Exec(ctx, "SELECT 1 FROM merge_order FOR UPDATE"); err != nil {
				return err
			}
			// The out row first: when both customers share a shard, the
			// state is out before the in row is reached.
			if _, err := tx.Exec(ctx, q, int32(s.ShardOf(from)), from, outID, MergeOut, into); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, q, int32(s.ShardOf(into)), into, inID, MergeIn, from)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("postgres: enqueue merge of %q into %q: %w", from, into, err)
	}
	return nil
}

// CommitMergeOut applies the out row of a merge, fenced on its shard, in
// one transaction: it writes b (the customer merged, emptied; nil or empty
// when the customer is not known, which writes no customer), puts state
// (the customer as it was, JSON; "null" for nothing to merge) in the
// merge's in row, records the out row's message id and takes the row out
// of the inbox. ErrMergeDone when the row is gone.
func (s *Store) CommitMergeOut(ctx context.Context, out InboxItem, b *store.Batch, state []byte) error {
	if out.Merge != MergeOut || len(state) == 0 {
		return fmt.Errorf("postgres: commit merge out: row %d is not the out row of a merge, or no state", out.Seq)
	}
	r := &rows{written: s.now()}
	if b != nil && len(b.Customers) > 0 {
		var err error
		if r, err = s.flatten(b); err != nil {
			return err
		}
	}
	r.shards = append(r.shards, out.Shard) // fenced even when it writes no customer
	r.msgs = append(r.msgs, out.MessageID)
	st, err := s.stage(r)
	if err != nil {
		return err
	}
	err = s.writeStaged(ctx, func(w *wtx) error {
		if err := lockRow(w, out.Seq); err != nil {
			return err
		}
		if err := s.commit(w, st); err != nil {
			return err
		}
		_, err := w.tx.Exec(w.ctx, "UPDATE inbox SET input = $2 WHERE message_id = $1 AND merge = 'in'", inRowOf(out.MessageID), state)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: merge %q out: %w", out.Customer, err)
	}
	return nil
}

// CommitMergeIn applies the in row of a merge, fenced on its shard, in one
// transaction: b, the customer merged into with the merge's outcome (its
// MessageIDs hold the row's, which takes it out of the inbox), and fromRes,
// what the merge ended or dropped of the customer merged, kept in the
// history under that customer's id unless it was erased after its state
// left (PartnerErased, read under the row's lock: an erase that marks the
// row first wins). ErrMergeDone when the row is gone.
func (s *Store) CommitMergeIn(ctx context.Context, in InboxItem, b *store.Batch, fromRes engine.Result) error {
	if in.Merge != MergeIn || b == nil || len(b.Customers) == 0 {
		return fmt.Errorf("postgres: commit merge in: row %d is not the in row of a merge, or nothing to write", in.Seq)
	}
	r, err := s.flatten(b)
	if err != nil {
		return err
	}
	if !slices.Contains(r.msgs, in.MessageID) {
		r.msgs = append(r.msgs, in.MessageID)
	}
	from := &rows{}
	if err := from.result(in.Partner, s.ShardOf(in.Partner), &fromRes); err != nil {
		return err
	}
	// What the merge ended of the customer merged counts in the analytics
	// as on one node, under the shard of this commit (the owner writes
	// only its shards' tally rows).
	if ts := tally.Of(&store.CustomerWrite{Results: []engine.Result{fromRes}}); len(ts) > 0 {
		var all []store.Tally
		for i := range b.Customers {
			all = append(all, tally.Of(&b.Customers[i])...)
		}
		r.tallies = map[int][]store.Tally{in.Shard: tally.Merge(append(all, ts...))}
	}
	// Staged both ways: whether from's records are kept is read under the
	// row's lock. Kept, they come first, as on one node: its runs end
	// before they go on under into's names.
	alone, err := s.stage(r)
	if err != nil {
		return err
	}
	withFrom := *r
	withFrom.hist = from.hist.concat(r.hist)
	both, err := s.stage(&withFrom)
	if err != nil {
		return err
	}
	err = s.writeStaged(ctx, func(w *wtx) error {
		// Whichever ran before, a retry skips the rows already there:
		// the partner's erase may have switched alone and both between.
		alone.skipping = alone.skipping || both.skipping
		both.skipping = alone.skipping
		var erased bool
		err := w.tx.QueryRow(w.ctx, "SELECT partner_erased FROM inbox WHERE seq = $1 FOR UPDATE", in.Seq).Scan(&erased)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrMergeDone
		}
		if err != nil {
			return err
		}
		if erased {
			return s.commit(w, alone)
		}
		return s.commit(w, both)
	})
	if err != nil {
		return fmt.Errorf("postgres: merge %q into %q: %w", in.Partner, in.Customer, err)
	}
	return nil
}

// FinishMergeIn takes out of the inbox, recording its message id, the in
// row of a merge that had nothing to merge (the customer merged was not
// known, or empty). ErrMergeDone when the row is gone.
func (s *Store) FinishMergeIn(ctx context.Context, in InboxItem) error {
	st, err := s.stage(&rows{written: s.now(), shards: []int{in.Shard}, msgs: []string{in.MessageID}})
	if err != nil {
		return err
	}
	err = s.writeStaged(ctx, func(w *wtx) error {
		if err := lockRow(w, in.Seq); err != nil {
			return err
		}
		return s.commit(w, st)
	})
	if err != nil {
		return fmt.Errorf("postgres: merge %q into %q: %w", in.Partner, in.Customer, err)
	}
	return nil
}

// MarkPartnerErased marks the in rows still waiting whose customer merged
// is id: id is being erased, and its history must not come back when they
// are applied.
func (s *Store) MarkPartnerErased(ctx context.Context, id string) error {
	err := s.read(func() error {
		_, err := s.pool.Exec(ctx, "UPDATE inbox SET partner_erased = true WHERE merge = 'in' AND partner = $1", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: marking the merges of %q: %w", id, err)
	}
	return nil
}

// lockRow locks the inbox row seq for the transaction, or fails with
// ErrMergeDone when it is gone.
func lockRow(w *wtx, seq int64) error {
	var one int
	err := w.tx.QueryRow(w.ctx, "SELECT 1 FROM inbox WHERE seq = $1 FOR UPDATE", seq).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrMergeDone
	}
	return err
}

// concat is h's rows followed by o's, in new slices.
func (h histCols) concat(o histCols) histCols {
	return histCols{
		customer: slices.Concat(h.customer, o.customer), kind: slices.Concat(h.kind, o.kind), at: slices.Concat(h.at, o.at),
		journey: slices.Concat(h.journey, o.journey), instance: slices.Concat(h.instance, o.instance), version: slices.Concat(h.version, o.version),
		from: slices.Concat(h.from, o.from), to: slices.Concat(h.to, o.to), cause: slices.Concat(h.cause, o.cause),
		status: slices.Concat(h.status, o.status), key: slices.Concat(h.key, o.key), name: slices.Concat(h.name, o.name),
		fate: slices.Concat(h.fate, o.fate), reason: slices.Concat(h.reason, o.reason), data: slices.Concat(h.data, o.data),
	}
}

// LostMerges returns which of the in rows named (by message id) wait for
// an out row that is gone without having been applied (its id is not in
// messages): deleted by hand, or dropped by a node of a version that
// cannot read merges, during a rolling upgrade. Such an in row would hold
// its customer for ever.
func (s *Store) LostMerges(ctx context.Context, inIDs []string) (map[string]bool, error) {
	lost := map[string]bool{}
	if len(inIDs) == 0 {
		return lost, s.read(func() error { return nil })
	}
	outIDs := make([]string, len(inIDs))
	for i, id := range inIDs {
		outIDs[i] = strings.TrimSuffix(id, "/in") + "/out"
	}
	// One statement, one snapshot: the out half deletes its row and
	// records its id in the same transaction.
	found, err := queryAll(ctx, s, "lost merges", func(rs pgx.Rows) (id string, err error) {
		return id, rs.Scan(&id)
	}, `SELECT u.inid FROM unnest($1::text[], $2::text[]) AS u(inid, outid)
		WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE message_id = u.outid)
		AND NOT EXISTS (SELECT 1 FROM messages WHERE id = u.outid)`, inIDs, outIDs)
	if err != nil {
		return nil, err
	}
	for _, id := range found {
		lost[id] = true
	}
	return lost, nil
}
