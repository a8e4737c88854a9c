package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// qJourneyRecords reads the records of one journey from the whole history
// in commit order (there is no journey index since schema 9: the analytics
// read the tallies; this serves tests and tally rebuilds); the outbox row
// of a delivered send comes by its primary key.
const qJourneyRecords = `SELECT h.kind, h.journey, h.instance, h.version, h.from_stage, h.to_stage, h.cause, h.status, h.at, h.name, h.fate, o.state, h.data, h.key
FROM history h LEFT JOIN outbox o ON h.kind = 'send' AND o.key = h.key
WHERE h.journey = ? AND h.kind IN ('transition', 'send', 'response') AND h.at < ?
ORDER BY h.seq`

// qAllRecords reads the records of every journey, in commit order (the
// history's primary key): the upgrade to the tallies replays them.
const qAllRecords = `SELECT h.kind, h.journey, h.instance, h.version, h.from_stage, h.to_stage, h.cause, h.status, h.at, h.name, h.fate, o.state, h.data, h.key
FROM history h LEFT JOIN outbox o ON h.kind = 'send' AND o.key = h.key
WHERE h.kind IN ('transition', 'send', 'response')
ORDER BY h.seq`

// JourneyRecords implements store.JourneyRecords.
func (s *Store) JourneyRecords(ctx context.Context, journey string, until time.Time, fn func(store.JourneyRecord) error) error {
	err := s.read(func() error { return journeyRecords(ctx, s.rdb, journey, micros(until), fn) })
	if err != nil {
		return fmt.Errorf("sqlite: records of journey %q: %w", journey, err)
	}
	return nil
}

// querier is a connection or a pool: the reads that run both in the store
// and in a migration (on the migration's connection) take one.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// journeyRecords reads the records of journey before until (unix
// microseconds) on q.
func journeyRecords(ctx context.Context, q querier, journey string, until int64, fn func(store.JourneyRecord) error) error {
	return records(ctx, q, fn, qJourneyRecords, journey, until)
}

// records runs query (qJourneyRecords or qAllRecords) with args on q and
// calls fn with each record.
func records(ctx context.Context, q querier, fn func(store.JourneyRecord) error, query string, args ...any) error {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var kind, journey string
		var instance, version, from, to, cause, status, name, fate, delivery, key sql.NullString
		var at int64
		var data []byte
		if err := rs.Scan(&kind, &journey, &instance, &version, &from, &to, &cause, &status, &at, &name, &fate, &delivery, &data, &key); err != nil {
			return err
		}
		row := store.RecordRow{Kind: kind, Journey: journey, Instance: instance.String, Version: version.String,
			From: from.String, To: to.String, Cause: cause.String, Status: status.String, Name: name.String, Fate: fate.String,
			Delivery: delivery.String, Key: key.String, At: fromMicros(at), Data: data}
		rec, err := row.Record()
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return rs.Err()
}
