package pebble

import (
	"bytes"
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

	// claimFloor, set by a claim: the od/ keys below it are all deleted
	// once the request's writes are (the floor it proposes; runGroup
	// adopts it only after the batch is committed).
	claimFloor []byte
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

// lower is the lower of a floor and a key; a nil floor is the lowest.
func lower(floor, key []byte) []byte {
	if floor == nil || bytes.Compare(key, floor) >= 0 {
		return floor
	}
	return append([]byte(nil), key...)
}

func (s *Store) runGroup(group []*request) {
	// A full disk: refuse the group before Pebble sees it (space.go).
	if err := s.space.admit(); err != nil {
		for _, r := range group {
			r.Answer(err)
		}
		return
	}
	b := s.db.NewIndexedBatch()
	defer b.Close()
	t := &tx{s: s, b: b}
	errs := make([]error, len(group))
	var fatal error // the batch itself failed: nothing of the group is written
	// The outbox floor (Store.outFloor) moves down at once for every od/
	// key set, committed or not (a lower floor only costs a longer scan),
	// and up only to what a claim proposed, lowered by the keys set after
	// it in the group, once the batch is committed: a floor raised by a
	// claim whose deletions were lost would hide live items.
	var proposed []byte
	for i, r := range group {
		if err := r.Ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		t.ops, t.claimFloor = t.ops[:0], nil
		if errs[i] = r.Call("pebble", t); errs[i] != nil {
			continue
		}
		if t.claimFloor != nil {
			proposed = t.claimFloor
		}
		for _, o := range t.ops {
			var err error
			if o.del {
				err = b.Delete(o.key, nil)
			} else {
				err = b.Set(o.key, o.val, nil)
				if bytes.HasPrefix(o.key, pOutDue) {
					s.outFloor = lower(s.outFloor, o.key)
					proposed = lower(proposed, o.key)
				}
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
			if proposed != nil {
				s.outFloor = proposed
			}
		}
	}
	for i, r := range group {
		if errs[i] == nil {
			errs[i] = fatal
		}
		r.Answer(errs[i])
	}
}
