package postgres

import (
	"bytes"
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

// Enqueue writes inputs to the inbox, durably, in order, through the
// inbox's group writer, whose group sends the rows of all its requests as
// one COPY (a third of the server's time an INSERT of the same rows takes).
// An input whose message id is in the inbox already is the same input
// again and is kept once (see flushInbox).
func (s *Store) Enqueue(ctx context.Context, items []InboxItem) error {
	if len(items) == 0 {
		return s.read(func() error { return nil })
	}
	rows, err := inboxTuples(items)
	if err != nil {
		return err
	}
	err = s.qi.Write(ctx, func(w *wtx) error {
		w.inbox = append(w.inbox, rows...)
		w.inboxItems = append(w.inboxItems, items...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: enqueue: %w", err)
	}
	s.wrote()
	return nil
}

// codeUniqueViolation is SQLSTATE unique_violation.
const codeUniqueViolation = "23505"

// qCopyInbox is the COPY of inbox rows (inboxTuples).
const qCopyInbox = `COPY inbox (shard, customer, message_id, input, erase) FROM STDIN (FORMAT binary)`

// inboxTuples encodes items as tuples of qCopyInbox, each message id once
// (the first).
func inboxTuples(items []InboxItem) ([]byte, error) {
	size := 0
	for _, it := range items {
		size += 2 + 5*4 + 4 + 1 + len(it.Customer) + len(it.MessageID) + len(it.Input)
	}
	c := copyData{buf: make([]byte, 0, size)}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if it.MessageID == "" {
			return nil, fmt.Errorf("postgres: enqueue: input %d for %q has no message id", i, it.Customer)
		}
		if seen[it.MessageID] {
			continue
		}
		seen[it.MessageID] = true
		c.tuple(5)
		c.int4(int32(it.Shard))
		c.text(it.Customer)
		c.text(it.MessageID)
		c.bytea(nonNil(it.Input))
		c.bool(it.Erase)
	}
	return c.buf, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// flushInbox writes the group's inbox rows, one COPY. A COPY cannot skip
// an input already in the inbox (a client's retry while the first still
// waits): one fails it, and the group's inputs are then written by an
// INSERT that skips those, back at a savepoint in the same transaction,
// rather than failing every request of the group.
func (w *wtx) flushInbox() error {
	if len(w.inbox) == 0 {
		return nil
	}
	data, items := frameCopy(w.inbox), w.inboxItems
	w.inbox, w.inboxItems = nil, nil
	if _, err := w.tx.Exec(w.ctx, "SAVEPOINT inbox"); err != nil {
		return fmt.Errorf("postgres: inbox: %w", err)
	}
	_, err := w.tx.Conn().PgConn().CopyFrom(w.ctx, bytes.NewReader(data), qCopyInbox)
	if isCode(err, codeUniqueViolation) {
		if _, err := w.tx.Exec(w.ctx, "ROLLBACK TO SAVEPOINT inbox"); err != nil {
			return fmt.Errorf("postgres: inbox: %w", err)
		}
		err = enqueueSkipping(w, items)
	}
	if err != nil {
		return fmt.Errorf("postgres: inbox: %w", err)
	}
	return nil
}

// enqueueSkipping inserts items, skipping those whose message id is in the
// inbox already.
func enqueueSkipping(w *wtx, items []InboxItem) error {
	shards := make([]int32, len(items))
	custs := make([]string, len(items))
	ids := make([]string, len(items))
	inputs := make([][]byte, len(items))
	erase := make([]bool, len(items))
	for i, it := range items {
		shards[i], custs[i], ids[i], inputs[i], erase[i] = int32(it.Shard), it.Customer, it.MessageID, nonNil(it.Input), it.Erase
	}
	_, err := w.tx.Exec(w.ctx, `INSERT INTO inbox(shard, customer, message_id, input, erase)
		SELECT u.shard, u.customer, u.id, u.input, u.erase
		FROM unnest($1::integer[], $2::text[], $3::text[], $4::bytea[], $5::boolean[]) WITH ORDINALITY AS u(shard, customer, id, input, erase, ord)
		ORDER BY u.ord
		ON CONFLICT (message_id) DO NOTHING`, shards, custs, ids, inputs, erase)
	return err
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
