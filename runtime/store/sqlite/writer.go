package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/waymark-dev/waymark/runtime/store/groupcommit"
)

// Every write goes through one goroutine that owns the one writer
// connection. Requests that queue up while it commits are written together,
// in one transaction with one fsync: group commit across callers, so that a
// dispatcher settling outbox items one by one from many goroutines, and a
// worker committing batches, share fsyncs instead of paying one each.
//
// A request's fn runs inside the shared transaction. If any fn of a group
// fails, the whole transaction is rolled back and each request is run again
// alone, so that a failure (a cancelled context, a bad batch) never takes
// another caller's write with it and never leaves half of its own.

// request is one write: the queue (runtime/store/groupcommit) groups them.
type request = groupcommit.Request[*writer]

// write hands fn to the writer and waits for the outcome (see
// groupcommit.Queue.Write).
func (s *Store) write(ctx context.Context, fn func(w *writer) error) error {
	return s.q.Write(ctx, fn)
}

// writer is the writer connection with its prepared statements. Only the
// writer goroutine (and Open, before it starts) uses it.
type writer struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	nudge chan<- struct{} // tells the checkpointer there is something to copy
	full  *atomic.Bool    // the store's: the last write met a full disk

	// failHook, when set (tests only), is called at points inside Commit
	// and may return an error there, to prove a failing batch leaves nothing.
	failHook func(point string, r *rows) error
}

func (w *writer) close() error {
	err := w.closeStmts()
	if w.conn != nil {
		err = errors.Join(err, w.conn.Close())
		w.conn = nil
	}
	return err
}

// Statements run with a context that is never cancelled: the driver then
// does not start a watcher goroutine per statement, and a request's own
// context is checked between statements instead (see runGroup), so a
// cancellation never interrupts SQLite in the middle of a COMMIT.
var bg = context.Background()

// closeStmts closes the prepared statements, leaving the connection open.
func (w *writer) closeStmts() error {
	var err error
	for _, st := range w.stmts {
		err = errors.Join(err, st.Close())
	}
	w.stmts = nil
	return err
}

func (w *writer) exec(query string) error {
	_, err := w.conn.ExecContext(bg, query)
	return err
}

// stmt returns the prepared statement for query, preparing it once.
func (w *writer) stmt(query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(bg, query)
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = make(map[string]*sql.Stmt)
	}
	w.stmts[query] = st
	return st, nil
}

func (w *writer) execStmt(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(bg, args...)
}

func (w *writer) runGroup(group []*request) {
	groupcommit.RunAll(group, func(reqs []*request) error { return w.noteWrite(w.runTx(reqs)) })
}

// runTx runs the fns of reqs in one transaction and commits it; on any
// error nothing of it is written.
func (w *writer) runTx(reqs []*request) (err error) {
	if err := w.exec("BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		if err != nil {
			// A failed COMMIT or an I/O error may already have ended the
			// transaction; the error of ROLLBACK then says nothing new.
			_ = w.exec("ROLLBACK")
		}
	}()
	for _, r := range reqs {
		if err := r.Call("sqlite", w); err != nil {
			return err
		}
		// A request cancelled while it ran is undone, as promised to its
		// caller; one cancelled after this point is committed and reported
		// as committed.
		if err := r.Ctx.Err(); err != nil {
			return err
		}
	}
	if err := w.exec("COMMIT"); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	select {
	case w.nudge <- struct{}{}:
	default: // one is pending already
	}
	return nil
}

// bulk is a multi-row statement: head, then row repeated n times joined by
// sep, then tail. One statement for many rows crosses database/sql and the
// driver once instead of n times, which is most of the cost of a small row.
type bulk struct {
	cols int // parameters per row
	// sql[i] is the text for 1<<i rows.
	sql [bulkBits]string
}

// bulkBits: statements for 1, 2, 4, ... 1<<(bulkBits-1) rows. A run of n rows
// is written as its binary decomposition, so each table needs at most
// bulkBits statements, whatever the batch sizes.
const bulkBits = 7 // up to 64 rows per statement

// newBulk builds every text up front: the bulks are package variables
// shared by all open stores, so they must be immutable.
func newBulk(head, row, sep, tail string) *bulk {
	b := &bulk{cols: strings.Count(row, "?")}
	for i := range bulkBits {
		var s strings.Builder
		s.WriteString(head)
		for j := range 1 << i {
			if j > 0 {
				s.WriteString(sep)
			}
			s.WriteString(row)
		}
		s.WriteString(tail)
		b.sql[i] = s.String()
	}
	return b
}

// run executes b over args (a whole number of rows) and returns the number
// of rows the statements changed.
func (w *writer) run(b *bulk, args []any) (int64, error) {
	if len(args)%b.cols != 0 {
		return 0, fmt.Errorf("sqlite: internal error: %d arguments for rows of %d", len(args), b.cols)
	}
	var changed int64
	for n := len(args) / b.cols; n > 0; {
		i := bulkBits - 1
		for 1<<i > n {
			i--
		}
		k := 1 << i
		res, err := w.execStmt(b.sql[i], args[:k*b.cols]...)
		if err != nil {
			return changed, err
		}
		c, _ := res.RowsAffected()
		changed += c
		args = args[k*b.cols:]
		n -= k
	}
	return changed, nil
}
