package pebble

import (
	"context"
	"encoding/binary"
	"fmt"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/store"
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

// maxGroup bounds the requests of one batch, so that the latency of the
// first request in it stays bounded under load.
const maxGroup = 256

type request struct {
	ctx  context.Context
	fn   func(t *tx) error
	done chan error // buffered: the writer never blocks on a caller
}

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

// write hands fn to the writer and waits for the outcome. It waits even if
// ctx ends meanwhile: once fn has started, only the outcome of the batch
// says whether it was written.
func (s *Store) write(ctx context.Context, fn func(t *tx) error) error {
	if err := ctx.Err(); err != nil {
		return s.read(func() error { return err })
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	return <-r.done
}

func (s *Store) writeLoop() {
	defer close(s.done)
	group := make([]*request, 0, maxGroup)
	for r := range s.reqs {
		group = append(group[:0], r)
	more:
		for len(group) < maxGroup {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break more
				}
				group = append(group, r)
			default:
				break more
			}
		}
		s.runGroup(group)
	}
}

func (s *Store) runGroup(group []*request) {
	b := s.db.NewIndexedBatch()
	defer b.Close()
	t := &tx{s: s, b: b}
	errs := make([]error, len(group))
	var fatal error // the batch itself failed: nothing of the group is written
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		t.ops = t.ops[:0]
		if errs[i] = r.call(t); errs[i] != nil {
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
		r.done <- errs[i]
	}
}

// call runs r.fn. A panic in it becomes its error: the writer goroutine
// must survive, or every caller after it would wait forever.
func (r *request) call(t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pebble: internal error in a write: %v", p)
		}
	}()
	return r.fn(t)
}
