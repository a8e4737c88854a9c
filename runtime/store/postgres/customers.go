package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

var _ interface {
	store.CustomerLister
	store.ReceivedHistory
	store.ResponseHistory
} = (*Store)(nil)

// kindReceived is the history kind of a received input
// (store.CustomerWrite.Received): its data is the store.Received as JSON,
// its time the input's. Kept in the history, it is written by the commit
// that handled the input, pruned by month with the rest and erased with
// the customer's history, with no table of its own.
const kindReceived = "received"

// received adds a write's received inputs to the history rows of r.
func (r *rows) received(customer string, ins []store.Received) error {
	for k := range ins {
		in := &ins[k]
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("postgres: commit: customer %q: encoding a received input: %w", customer, err)
		}
		r.hist.add(customer, kindReceived, in.At, "", "", "", "", "", "", "", "", in.Name, "", "", data)
	}
	return nil
}

// Received implements store.ReceivedHistory, through history_customer.
func (s *Store) Received(ctx context.Context, customerID string) ([]store.Received, error) {
	return queryAll(ctx, s, fmt.Sprintf("received inputs of %q", customerID), func(rs pgx.Rows) (store.Received, error) {
		var in store.Received
		var data []byte
		if err := rs.Scan(&data); err != nil {
			return in, err
		}
		if err := json.Unmarshal(data, &in); err != nil {
			return in, fmt.Errorf("decoding a received input: %w", err)
		}
		in.At = in.At.UTC()
		return in, nil
	}, `SELECT data FROM history WHERE customer = $1 AND kind = 'received' ORDER BY seq`, customerID)
}

// Responses implements store.ResponseHistory, through history_customer.
func (s *Store) Responses(ctx context.Context, customerID string) ([]engine.Response, error) {
	return queryAll(ctx, s, fmt.Sprintf("metric responses of %q", customerID), func(rs pgx.Rows) (engine.Response, error) {
		var data []byte
		if err := rs.Scan(&data); err != nil {
			return engine.Response{}, err
		}
		r, err := store.DecodeResponse(data)
		if err != nil {
			return engine.Response{}, err
		}
		r.At = r.At.UTC()
		return *r, nil
	}, `SELECT data FROM history WHERE customer = $1 AND kind = 'response' ORDER BY seq`, customerID)
}

// Customer ids are listed in byte order, as the other stores list them,
// whatever the database's collation: a prefix is then one range of ids.
// In a database whose collation is C that is the primary key's order; in
// any other, migration 5 made the index customers_id_bytes on
// (id COLLATE "C") and the list compares ids in that collation.
// idCollation says which: "" or ` COLLATE "C"`.
func idCollation(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var byteOrder bool
	if err := pool.QueryRow(ctx, qByteOrder).Scan(&byteOrder); err != nil {
		return "", fmt.Errorf("postgres: reading the database's collation: %w", err)
	}
	if byteOrder {
		return "", nil
	}
	return ` COLLATE "C"`, nil
}

// qByteOrder is true when the database's default collation is byte order:
// libc's C or POSIX (an ICU default collation, PostgreSQL 15's
// datlocprovider 'i', never is; the column is read through JSON so that
// older servers, which have no such column, read libc). Migration 5 asks
// the same.
const qByteOrder = `SELECT coalesce(to_jsonb(d)->>'datlocprovider', 'c') = 'c' AND d.datcollate IN ('C', 'POSIX')
	FROM pg_database AS d WHERE d.datname = current_database()`

// prefixEnd is store.PrefixEnd in UTF-8 (PostgreSQL refuses other text):
// the prefix with its last character replaced by the next one, after
// dropping the last characters that have none. UTF-8's byte order is the
// characters' order, so it is greater than every id starting with prefix.
// "" when there is no bound. prefix must be valid UTF-8.
func prefixEnd(prefix string) string {
	rs := []rune(prefix)
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		switch {
		case last == 0xD7FF:
			rs[len(rs)-1] = 0xE000 // past the surrogates, which UTF-8 cannot hold
			return string(rs)
		case last < unicode.MaxRune:
			rs[len(rs)-1] = last + 1
			return string(rs)
		}
		rs = rs[:len(rs)-1]
	}
	return ""
}

// storable reports whether PostgreSQL can hold s as text.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// listChunk is how many customers ListCustomers reads a query.
const listChunk = 256

// ListCustomers implements store.CustomerLister: a walk of the ids in byte
// order, from the cursor or the prefix to the prefix's end, in chunks,
// each state decoded to match the trait.
func (s *Store) ListCustomers(ctx context.Context, q store.CustomerQuery) (store.CustomerPage, error) {
	if q.Limit <= 0 {
		return store.CustomerPage{}, s.read(func() error { return nil })
	}
	// PostgreSQL text is UTF-8 without NUL: no id starts with another
	// prefix, and another cursor was not given by a list.
	if !storable(q.IDPrefix) {
		return store.CustomerPage{}, s.read(func() error { return nil })
	}
	if !storable(q.After) {
		return store.CustomerPage{}, fmt.Errorf("postgres: list customers: the cursor %q is not an id (not UTF-8, or holds a NUL)", q.After)
	}
	id := "id" + s.idCollate
	query := `SELECT id, state FROM customers WHERE ` + id + ` > $1 AND ` + id + ` >= $2`
	args := []any{"", q.IDPrefix, 0}
	if end := prefixEnd(q.IDPrefix); end != "" {
		query += ` AND ` + id + ` < $4`
		args = append(args, end)
	}
	query += ` ORDER BY ` + id + ` LIMIT $3`
	return store.ListChunks(q, listChunk, func(after string, n int, row func(id string, state []byte) error) error {
		args[0], args[2] = after, n
		_, err := queryAll(ctx, s, "list customers", func(rs pgx.Rows) (struct{}, error) {
			var id string
			var state []byte
			if err := rs.Scan(&id, &state); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, row(id, state)
		}, query, args...)
		return err
	})
}
