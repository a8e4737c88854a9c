package pebble

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// FailedSends implements store.FailedSendLister through fs/<at><seq>, an
// entry per failed send written by the commit that recorded it, whose
// value is the customer: the record is h/<customer><seq>. An entry whose
// record is gone (a customer erased) is skipped; PruneHistory removes
// entries by their time.
func (s *Store) FailedSends(ctx context.Context, after string, limit int) ([]store.FailedSend, error) {
	at, seq, ok, err := store.ParseFailedSendCursor(after)
	if err != nil {
		return nil, fmt.Errorf("pebble: %w", err)
	}
	var out []store.FailedSend
	err = s.read(func() error {
		if limit <= 0 {
			return nil
		}
		snap := s.db.NewSnapshot()
		defer snap.Close()
		lower := pFailed
		if ok {
			lower = append(failedKey(at, seq), 0) // the first key after the cursor
		}
		return scan(snap, lower, upper(pFailed), func(k, v []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			at, rest, err := readTime(k[len(pFailed):])
			if err != nil || len(rest) != 8 {
				return true, nil // a stray entry: skip it
			}
			seq := binary.BigEndian.Uint64(rest)
			customer := string(v)
			rec, found, err := get(snap, historyKey(customer, seq))
			if err != nil {
				return false, err
			}
			if !found || len(rec) == 0 || rec[0] != kindSend {
				return true, nil
			}
			f := store.FailedSend{Cursor: store.FailedSendCursor(at, seq), Customer: customer}
			if err := json.Unmarshal(rec[1:], &f.Send); err != nil {
				return false, fmt.Errorf("failed send %s of %q: %w", f.Cursor, customer, err)
			}
			out = append(out, f)
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: failed sends: %w", err)
	}
	return out, nil
}

// indexFailed writes the layout-4 index of an older store: an fs/ entry
// per send record whose fate is failed. It reads the whole history once;
// an interrupted run starts over at the next open (its writes are in the
// batch that records version 4, so nothing half done is kept).
func indexFailed(db *pdb.DB, b *pdb.Batch) error {
	return scan(db, pHistory, upper(pHistory), func(k, v []byte) (bool, error) {
		if len(v) == 0 || v[0] != kindSend {
			return true, nil
		}
		var sd struct {
			Fate string    `json:"fate"`
			At   time.Time `json:"at"`
		}
		if err := json.Unmarshal(v[1:], &sd); err != nil {
			return false, fmt.Errorf("history record %x: %w", k, err)
		}
		if sd.Fate != engine.FateFailed {
			return true, nil
		}
		customer, rest, err := readStr(k[len(pHistory):])
		if err != nil || len(rest) != 8 {
			return false, fmt.Errorf("history key %x: %w", k, errKey)
		}
		return true, b.Set(failedKey(micros(sd.At), binary.BigEndian.Uint64(rest)), []byte(customer), nil)
	})
}
