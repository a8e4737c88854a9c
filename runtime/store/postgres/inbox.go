package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// InboxItem is one input waiting in the inbox for the owner of its shard.
type InboxItem struct {
	Seq       int64 // given by the inbox
	Shard     int
	Customer  string
	MessageID string // required: the input's identity in the inbox
	Input     []byte // the engine.Input as JSON
	// Erase marks an erase of the customer instead of an input (Input is
	// then empty): see inboxerase.go.
	Erase bool
	// Merge is MergeOut or MergeIn for the rows of a merge (inboxmerge.go),
	// "" for an input or an erase; Partner is the merge's other customer.
	// A MergeIn row's Input is empty until the partner's state is in it.
	Merge   string
	Partner string
	// PartnerErased: the customer merged (Partner of a MergeIn row) was
	// erased after its state left.
	PartnerErased bool
}

// Ready reports whether a MergeIn row holds the state it waits for.
func (it *InboxItem) Ready() bool { return it.Merge == MergeIn && len(it.Input) > 0 }

// Enqueue writes inputs to the inbox, durably, in order, through the group
// writer (so many ingest requests share one commit). An input whose message
// id is in the inbox already is the same input again and is kept once.
func (s *Store) Enqueue(ctx context.Context, items []InboxItem) error {
	if len(items) == 0 {
		return s.read(func() error { return nil })
	}
	shards := make([]int32, len(items))
	custs := make([]string, len(items))
	ids := make([]string, len(items))
	inputs := make([][]byte, len(items))
	erase := make([]bool, len(items))
	for i, it := range items {
		if it.MessageID == "" {
			return fmt.Errorf("postgres: enqueue: input %d for %q has no message id", i, it.Customer)
		}
		shards[i], custs[i], ids[i], inputs[i], erase[i] = int32(it.Shard), it.Customer, it.MessageID, it.Input, it.Erase
		if inputs[i] == nil {
			inputs[i] = []byte{}
		}
	}
	err := s.qi.Write(ctx, func(w *wtx) error {
		_, err := w.tx.Exec(w.ctx, `INSERT INTO inbox(shard, customer, message_id, input, erase)
			SELECT u.shard, u.customer, u.id, u.input, u.erase
			FROM unnest($1::integer[], $2::text[], $3::text[], $4::bytea[], $5::boolean[]) WITH ORDINALITY AS u(shard, customer, id, input, erase, ord)
			ORDER BY u.ord
			ON CONFLICT (message_id) DO NOTHING`, shards, custs, ids, inputs, erase)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: enqueue: %w", err)
	}
	s.wrote()
	return nil
}

// Inbox lists, in seq order, at most limit inputs waiting for the shards
// given.
func (s *Store) Inbox(ctx context.Context, shards []int, limit int) ([]InboxItem, error) {
	if len(shards) == 0 || limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	return queryAll(ctx, s, "inbox", func(rs pgx.Rows) (it InboxItem, err error) {
		var sh int32
		err = rs.Scan(&it.Seq, &sh, &it.Customer, &it.MessageID, &it.Input, &it.Erase, &it.Merge, &it.Partner, &it.PartnerErased)
		it.Shard = int(sh)
		return it, err
	}, `SELECT seq, shard, customer, message_id, input, erase, merge, partner, partner_erased FROM inbox
		WHERE shard = ANY($1) ORDER BY seq LIMIT $2`, int32s(shards), limit)
}

// DropInbox deletes inputs from the inbox by seq: those the worker did not
// commit because they were applied before (a commit deletes the inputs it
// applies itself).
func (s *Store) DropInbox(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.tx.Exec(w.ctx, "DELETE FROM inbox WHERE seq = ANY($1)", seqs)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: drop inbox: %w", err)
	}
	return nil
}
