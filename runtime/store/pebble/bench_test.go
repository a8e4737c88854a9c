package pebble

import (
	"encoding/binary"
	"testing"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// BenchmarkCommit is storetest.RunCommitBench on this store, every batch
// synced, beside the SQLite store's: run both in one go to compare them.
// Its floor appends each event as one key to a bare Pebble database with
// the store's options.
//
//	go test ./runtime/store/sqlite ./runtime/store/pebble -run '^$' -bench Commit -benchtime 20x
func BenchmarkCommit(b *testing.B) {
	storetest.RunCommitBench(b,
		func(b *testing.B) store.Store {
			s, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		func(b *testing.B) func([]storetest.FloorRow) error {
			db, err := pdb.Open(b.TempDir(), options(vfs.Default))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			var seq uint64
			return func(rows []storetest.FloorRow) error {
				wb := db.NewBatch()
				defer wb.Close()
				for _, r := range rows {
					seq++
					if err := wb.Set(binary.BigEndian.AppendUint64([]byte("log/"), seq), append(r.State, r.Send...), nil); err != nil {
						return err
					}
				}
				return wb.Commit(pdb.Sync)
			}
		})
}

// BenchmarkOutboxDrain is storetest.RunOutboxDrainBench on this store:
// end/start near 1 means claims cost the same with the backlog full or
// nearly drained.
//
//	go test ./runtime/store/sqlite ./runtime/store/pebble -run '^$' -bench OutboxDrain -benchtime 1x
func BenchmarkOutboxDrain(b *testing.B) {
	storetest.RunOutboxDrainBench(b, func(b *testing.B) store.Store {
		s, err := Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
