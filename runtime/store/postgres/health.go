package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// A database refuses writes when the server is a standby (in recovery,
// after a failover to the wrong side), when the session is read-only
// (default_transaction_read_only set on the server, the database or the
// role: a maintenance switch), or when its disk is full (SQLSTATE 53100:
// the transaction is rolled back and nothing is lost). WriteError, which
// /healthz asks, reports each without writing: the first two from the
// server's own settings, read at once; a full disk from the last write
// that met it, for fullHold, or until a write that holds rows succeeds
// (the server cannot say how much space it has left without a write).

// fullHold is how long a write that met a full disk makes WriteError
// report it, unless a write succeeds meanwhile: long enough that a load
// balancer stops sending events, short enough that the next try comes
// soon after space is made.
const fullHold = 30 * time.Second

// health is what the writers learned of the database's writability.
type health struct {
	fullAt atomic.Int64 // unix nanoseconds of the last write that met a full disk; 0: none since a success
}

// noteWrite records the outcome of a write transaction: a full disk.
func (s *Store) noteWrite(err error) {
	if err != nil && isCode(err, "53100") {
		s.health.fullAt.Store(time.Now().UnixNano())
	}
}

// wrote records a write that held rows and succeeded: there is space.
func (s *Store) wrote() { s.health.fullAt.Store(0) }

// WriteError implements store.WriteHealth: nil when writes may succeed;
// otherwise why not (wrapping store.ErrNoSpace for a full disk). It never
// writes; it asks the server (two settings, one round trip, within 2s).
func (s *Store) WriteError() error {
	if at := s.health.fullAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < fullHold {
		return fmt.Errorf("postgres: %w: the last write failed for lack of space on the database server (SQLSTATE 53100)", store.ErrNoSpace)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var recovery bool
	var readOnly string
	err := s.read(func() error {
		return s.pool.QueryRow(ctx, "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')").Scan(&recovery, &readOnly)
	})
	switch {
	case err != nil:
		return fmt.Errorf("postgres: asking the server whether it takes writes: %w", err)
	case recovery:
		return fmt.Errorf("postgres: the server is in recovery (a standby): it refuses writes")
	case readOnly == "on":
		return fmt.Errorf("postgres: the database is read-only (default_transaction_read_only is on): it refuses writes")
	}
	return nil
}
