package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// BenchmarkCommit is storetest.RunCommitBench on this store, on a private
// PostgreSQL with fsync on (unfenced: a store of one node). Its floor
// appends each event as one row to a bare table with CopyFrom, one
// transaction per batch.
//
//	go test ./runtime/store/postgres -run '^$' -bench Commit -benchtime 20x
func BenchmarkCommit(b *testing.B) {
	srv, err := pgtest.Start(pgtest.Options{Durable: true})
	if err != nil {
		pgtest.Missing(b, err)
	}
	defer srv.Stop()
	ctx := context.Background()
	newDB := func(b *testing.B) string {
		dsn, err := srv.CreateDB(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return dsn
	}
	storetest.RunCommitBench(b,
		func(b *testing.B) store.Store {
			s, err := Open(newDB(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		func(b *testing.B) func([]storetest.FloorRow) error {
			conn, err := pgx.Connect(ctx, newDB(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { conn.Close(ctx) })
			if _, err := conn.Exec(ctx, "CREATE TABLE log (seq bigint GENERATED ALWAYS AS IDENTITY, customer text NOT NULL, state bytea NOT NULL, send bytea NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			return func(rows []storetest.FloorRow) error {
				return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					_, err := tx.CopyFrom(ctx, pgx.Identifier{"log"}, []string{"customer", "state", "send"},
						pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
							return []any{rows[i].Customer, rows[i].State, rows[i].Send}, nil
						}))
					return err
				})
			}
		})
}
