package pebble

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// kMigrate3 holds the progress of the layout-3 indexing: the history
// sequence number when it was written, then the first key not yet indexed.
var kMigrate3 = []byte("meta/migrate3")

// migrateChunk is how many keys one batch of the indexing reads.
var migrateChunk = 10000

// indexForPruning writes the layout-3 indexes of an older store: an ht/
// entry per history record, under the record's own time, and a dv/ entry
// per delivered outbox item. A large store takes a while, at its first
// open by a layout-3 binary; so each batch records how far it got, and an
// indexing cut short (a crash, a restart by a supervisor) resumes there,
// unless something was committed meanwhile (a layout-2 binary opened the
// store and may have written records anywhere): then it starts over,
// clearing what it had indexed. final, the batch that records the new
// version, forgets the progress.
func indexForPruning(db *pdb.DB, final *pdb.Batch) error {
	seq, _, err := get(db, kSeq)
	if err != nil {
		return err
	}
	seq = append(make([]byte, 0, 8), seq...)
	var from []byte
	if v, ok, err := get(db, kMigrate3); err != nil {
		return err
	} else if ok && len(v) > 8 && bytes.Equal(v[:8], binary.BigEndian.AppendUint64(nil, seqValue(seq))) {
		from = v[8:]
	} else {
		for _, p := range [][]byte{pHistTime, pDelivAt} {
			if err := db.DeleteRange(p, upper(p), pdb.Sync); err != nil {
				return err
			}
		}
	}
	phases := []struct {
		prefix []byte
		index  func(b *pdb.Batch, k, v []byte) error
	}{{pHistory, indexRecord}, {pOutbox, indexDelivered}}
	for _, ph := range phases {
		lower := ph.prefix
		if from != nil {
			if bytes.Compare(from, upper(ph.prefix)) >= 0 {
				continue // done in an earlier run
			}
			if bytes.Compare(from, ph.prefix) > 0 {
				lower = from
			}
		}
		for lower != nil {
			b := db.NewBatch()
			n := 0
			var last []byte
			err := scan(db, lower, upper(ph.prefix), func(k, v []byte) (bool, error) {
				n++
				last = append(last[:0], k...)
				return n < migrateChunk, ph.index(b, k, v)
			})
			lower = nil
			if err == nil && n == migrateChunk {
				lower = append(bytes.Clone(last), 0)
			}
			progress := upper(ph.prefix)
			if lower != nil {
				progress = lower
			}
			if err == nil {
				err = b.Set(kMigrate3, append(binary.BigEndian.AppendUint64(nil, seqValue(seq)), progress...), nil)
			}
			if err == nil {
				err = b.Commit(pdb.NoSync)
			}
			b.Close()
			if err != nil {
				return err
			}
		}
	}
	return final.Delete(kMigrate3, nil)
}

func seqValue(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// indexRecord files the history record k, v under its time. A record whose
// time cannot be read (or a key that does not parse) is filed under the end
// of time: never pruned, as a prune of layout 2 kept what it could not read.
func indexRecord(b *pdb.Batch, k, v []byte) error {
	customer, rest, err := readStr(k[len(pHistory):])
	if err != nil || len(rest) != 8 {
		return nil // not a record: nothing to index
	}
	ref := histRef{customer: customer, seq: binary.BigEndian.Uint64(rest)}
	at := int64(math.MaxInt64)
	var rec struct {
		At   time.Time `json:"at"`
		Key  string    `json:"key"`
		Fate string    `json:"fate"`
	}
	if len(v) > 0 && json.Unmarshal(v[1:], &rec) == nil && !rec.At.IsZero() {
		at = ceilMicros(rec.At)
		if v[0] == kindSend && rec.Fate == engine.FateDeliver {
			ref.outbox = rec.Key
		}
	}
	return b.Set(histTimeKey(at, ref.seq), histIndex{ref}.encode(), nil)
}

// indexDelivered files a delivered outbox item under its delivery time.
func indexDelivered(b *pdb.Batch, k, v []byte) error {
	r, err := decodeOut(v)
	if err != nil || r.state != stateDelivered {
		return nil // only delivered items are pruned; a bad one stays
	}
	return b.Set(deliveredKey(r.settledAt, string(k[len(pOutbox):])), nil, nil)
}
