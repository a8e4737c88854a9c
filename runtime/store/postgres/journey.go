package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/store"
)

// JourneyRecords implements store.JourneyRecords, across all shards, by a
// scan of the history (there is no journey index since schema 11: the
// analytics read the tallies); the outbox row of a send comes by its key.
func (s *Store) JourneyRecords(ctx context.Context, journey string, until time.Time, fn func(store.JourneyRecord) error) error {
	err := s.read(func() error {
		return scanRecords(ctx, s.pool, func(_ string, rec store.JourneyRecord) error { return fn(rec) }, qJourneyRecords, journey, until)
	})
	if err != nil {
		return fmt.Errorf("postgres: records of journey %q: %w", journey, err)
	}
	return nil
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// The records of one journey ($1) before $2, in commit order; and those of every journey, in commit order, for the
// upgrade to the tallies (a sort of the whole history, once).
const (
	qJourneyRecords = `SELECT h.customer, h.journey, h.kind, h.instance, h.version, h.from_stage, h.to_stage, h.cause, h.status, h.at, h.name, h.fate, o.state, h.data, h.key
		FROM history AS h LEFT JOIN outbox AS o ON h.kind = 'send' AND o.key = h.key
		WHERE h.journey = $1 AND h.kind IN ('transition', 'send', 'response') AND h.at < $2
		ORDER BY h.seq`
	qAllRecords = `SELECT h.customer, h.journey, h.kind, h.instance, h.version, h.from_stage, h.to_stage, h.cause, h.status, h.at, h.name, h.fate, o.state, h.data, h.key
		FROM history AS h LEFT JOIN outbox AS o ON h.kind = 'send' AND o.key = h.key
		WHERE h.kind IN ('transition', 'send', 'response')
		ORDER BY h.seq`
)

// scanRecords calls fn with each record query (qJourneyRecords,
// qAllRecords) reads, and the customer whose record it is.
func scanRecords(ctx context.Context, q querier, fn func(customer string, rec store.JourneyRecord) error, query string, args ...any) error {
	rs, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var customer, journey, kind string
		var instance, version, from, to, cause, status, name, fate, delivery, key *string
		var at time.Time
		var data []byte
		if err := rs.Scan(&customer, &journey, &kind, &instance, &version, &from, &to, &cause, &status, &at, &name, &fate, &delivery, &data, &key); err != nil {
			return err
		}
		row := store.RecordRow{Kind: kind, Journey: journey, Instance: str(instance), Version: str(version),
			From: str(from), To: str(to), Cause: str(cause), Status: str(status), Name: str(name), Fate: str(fate),
			Delivery: str(delivery), Key: str(key), At: at.UTC(), Data: data}
		rec, err := row.Record()
		if err != nil {
			return err
		}
		if err := fn(customer, rec); err != nil {
			return err
		}
	}
	return rs.Err()
}
