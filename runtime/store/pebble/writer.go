package pebble

import (
	"context"
	"encoding/binary"
	"fmt"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/store/groupcommit"
)

// Every write (Commit, ClaimOutbox, the settlements, SaveProgram, each
// chunk of PruneMessages and PruneHistory) is a request to one writer
// goroutine: writes read what they change (a customer's previous wake and
// active instances, whether an outbox key exists, an outbox item's state),
// so they must see each other in order. The writer takes every request
// queued while it was busy, runs them one after the other against one
// indexed batch (reads see the database plus the earlier requests of the
// group), and commits the batch with one fsync: group commit. No request
// is answered before that fsync has returned.
//
// A request stages its writes and they reach the batch only if it returns
// nil, so a request that fails (or panics) leaves nothing, and the others
// of its group go on. Requests read before they stage: a request does not
// see its own staged writes.

// request is one write: the queue (runtime/store/groupcommit) groups them.
type request = groupcommit.Request[*tx]

// tx is what a request's fn works with.
type tx struct {
	s   *Store
	b   *pdb.Batch // the group's indexed batch: reads see it and the database
	ops []op       // staged writes
}

type op struct {
	key, val []byte
	del      bool
}

func (t *tx) get(key []byte) ([]byte, bool, error) { return get(t.b, key) }
func (t *tx) set(key, val []byte)                  { t.ops = append(t.ops, op{key: key, val: val}) }
func (t *tx) del(key []byte)                       { t.ops = append(t.ops, op{key: key, del: true}) }

// nextSeq numbers a history record. A number taken by a request that fails
// is not reused: the sequence has gaps, never repeats.
func (t *tx) nextSeq() uint64 {
	t.s.seq++
	return t.s.seq
}

// write hands fn to the writer and waits for the outcome (see
// groupcommit.Queue.Write). A context already ended is refused before
// anything is queued.
func (s *Store) write(ctx context.Context, fn func(t *tx) error) error {
	if err := ctx.Err(); err != nil {
		return s.read(func() error { return err })
	}
	return s.q.Write(ctx, fn)
}

func (s *Store) runGroup(group []*request) {
	b := s.db.NewIndexedBatch()
	defer b.Close()
	t := &tx{s: s, b: b}
	errs := make([]error, len(group))
	var fatal error // the batch itself failed: nothing of the group is written
	for i, r := range group {
		if err := r.Ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		t.ops = t.ops[:0]
		if errs[i] = r.Call("pebble", t); errs[i] != nil {
			continue
		}
		for _, o := range t.ops {
			var err error
			if o.del {
				err = b.Delete(o.key, nil)
			} else {
				err = b.Set(o.key, o.val, nil)
			}
			if err != nil {
				fatal = fmt.Errorf("pebble: batch: %w", err)
				break
			}
		}
		if fatal != nil {
			break
		}
	}
	if fatal == nil && s.seq != s.savedSeq {
		fatal = b.Set(kSeq, binary.BigEndian.AppendUint64(nil, s.seq), nil)
	}
	if fatal == nil && !b.Empty() {
		if err := b.Commit(pdb.Sync); err != nil {
			fatal = fmt.Errorf("pebble: commit: %w", err)
		} else {
			s.savedSeq = s.seq
		}
	}
	for i, r := range group {
		if errs[i] == nil {
			errs[i] = fatal
		}
		r.Answer(errs[i])
	}
}
