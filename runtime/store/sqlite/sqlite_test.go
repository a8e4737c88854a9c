package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// paths gives each test (or subtest) its own database file, the same one
// on every call with the same t: the storetest open contract.
type paths struct {
	mu sync.Mutex
	m  map[*testing.T]string
}

func (p *paths) of(t *testing.T) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[*testing.T]string)
	}
	if path, ok := p.m[t]; ok {
		return path
	}
	// A name with the characters a URI filename must escape.
	path := filepath.Join(t.TempDir(), "way mark?#%.db")
	p.m[t] = path
	return path
}

func TestConformance(t *testing.T) {
	var p paths
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(p.of(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// rawDB opens the file without the store, for tests that look under it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, commonPragmas))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSchema(t *testing.T) {
	var p paths
	storetest.RunSchema(t, storetest.Schema{
		Open: func(t *testing.T) (store.Store, error) { return Open(p.of(t)) },
		Version: func(t *testing.T) int {
			var v int
			if err := rawDB(t, p.of(t)).QueryRow("SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		},
		SetVersion: func(t *testing.T, v int) {
			db := rawDB(t, p.of(t))
			if _, err := db.Exec("DELETE FROM schema_migrations WHERE version > ?", v); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT OR IGNORE INTO schema_migrations(version, name, applied_at) VALUES (?, 'test', 0)", v); err != nil {
				t.Fatal(err)
			}
			db.Close()
		},
		Latest: SchemaVersion,
	})
}

func TestSchemaVersionIsMigrationCount(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion = %d, but there are %d migrations", SchemaVersion, len(migrations))
	}
}

// An existing empty file (touched by an installer, say) is a new database.
func TestOpenEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{storetest.Write("c", 1, storetest.T0)}}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	notDB := filepath.Join(t.TempDir(), "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(notDB); err == nil {
		s.Close()
		t.Error("Open of a text file succeeded")
	} else {
		t.Logf("Open of a text file: %v", err)
	}
	if s, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")); err == nil {
		s.Close()
		t.Error("Open in a missing directory succeeded")
	}
}

// The settings the durability promise rests on are really in force, on the
// writer and on the readers.
func TestPragmas(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	check := func(who string, q func(string) (string, error), pragma, want string) {
		t.Helper()
		got, err := q(pragma)
		if err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", who, pragma, err)
		}
		if !strings.EqualFold(got, want) {
			t.Errorf("%s: PRAGMA %s = %s, want %s", who, pragma, got, want)
		}
	}
	// The writer connection belongs to the writer goroutine: ask it there.
	writerQ := func(pragma string) (v string, err error) {
		err = s.write(ctx, func(w *writer) error {
			return w.conn.QueryRowContext(bg, "PRAGMA "+pragma).Scan(&v)
		})
		return v, err
	}
	readerQ := func(pragma string) (v string, err error) {
		err = s.rdb.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&v)
		return v, err
	}
	check("writer", writerQ, "journal_mode", "wal")
	check("writer", writerQ, "synchronous", "2") // FULL
	check("writer", writerQ, "foreign_keys", "1")
	check("writer", writerQ, "busy_timeout", "10000")
	check("reader", readerQ, "journal_mode", "wal")
	check("reader", readerQ, "query_only", "1")
	check("reader", readerQ, "busy_timeout", "10000")
	check("reader", readerQ, "foreign_keys", "1")

	// And a reader cannot write.
	if _, err := s.rdb.ExecContext(ctx, "DELETE FROM customers"); err == nil {
		t.Error("a reader connection wrote")
	}
}

// The timer index and the claim use their partial indexes, without a sort:
// at millions of rows anything else is a scan.
func TestQueryPlans(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plans := map[string]string{
		qCustomer:     "sqlite_autoindex_customers_1",
		qSeen:         "PRIMARY KEY",
		qDue:          "customers_wake",
		qActive:       "PRIMARY KEY",
		qActiveStates: "sqlite_autoindex_customers_1",
		qTransitions:  "history_customer",
		qSends:        "history_customer",
		qEvents:       "history_customer",
		qStageCounts:  "active_instances_stage",
		qDeadLetters:  "outbox_dead",
		qFailedSends:  "history_failed",
		qOutboxChunk:  "SEARCH outbox USING INTEGER PRIMARY KEY",
		qPruneOutbox:  "SEARCH outbox USING INTEGER PRIMARY KEY",
		qHistoryChunk: "SEARCH history USING INTEGER PRIMARY KEY",
		qPruneHistory: "sqlite_autoindex_outbox_1",
		qClaim:        "USING COVERING INDEX outbox_due",
		qClaimSends:   "INTEGER PRIMARY KEY",
		qActiveSigs:   "sqlite_autoindex_customers_1",
		qLastSeq:      "",
		qItemTally:    "sqlite_autoindex_outbox_1",
		// One range of the primary key per journey; the grouping by
		// (kind, a, b) sorts those few rows per hour.
		qSumTallies: "SEARCH t USING PRIMARY KEY (journey=? AND cohort>? AND cohort<?)",
		"DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE at < 1 LIMIT 10)": "messages_at",
	}
	maps.Copy(plans, customerPlans)
	for q, want := range plans {
		// Parameters as literals: database/sql wants every one bound.
		rs, err := s.rdb.Query("EXPLAIN QUERY PLAN " + regexp.MustCompile(`\?\d*`).ReplaceAllString(q, "1"))
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rs.Next() {
			var id, parent, notused int
			var detail string
			if err := rs.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rs.Close()
		p := strings.Join(plan, "; ")
		t.Logf("%s\n  %s", q, p)
		// A scan of a subquery's rows (bounded by its LIMIT) is no table scan.
		scans := regexp.MustCompile(`SCAN \(subquery-\d+\)`).ReplaceAllString(p, "")
		if !strings.Contains(p, want) || strings.Contains(p, "TEMP B-TREE") && q != qSumTallies || strings.Contains(scans, "SCAN") && !strings.Contains(p, "SCAN j") && q != qStageCounts && q != qLastSeq {
			t.Errorf("%s\n  plan: %s\n  want %s and no temp b-tree", q, p, want)
		}
	}
}

var errInjected = errors.New("sqlite: injected failure")

// A batch that fails in the middle of its transaction (after the customers
// were written, before the outbox) leaves nothing, and a write grouped
// with it in the same transaction still commits.
func TestFailureInsideTransaction(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	// Hold the writer so that both requests queue into one group.
	release := make(chan struct{})
	held := make(chan struct{})
	go s.write(ctx, func(w *writer) error { close(held); <-release; return nil })
	<-held

	failing := storetest.Write("bad", 1, storetest.T0)
	good := storetest.Write("good", 1, storetest.T0)
	var wg sync.WaitGroup
	var errBad, errGood error
	wg.Add(2)
	go func() {
		defer wg.Done()
		errBad = s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{failing}})
	}()
	go func() {
		defer wg.Done()
		errGood = s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{good}})
	}()
	for s.q.Queued() < 2 {
		time.Sleep(time.Millisecond)
	}
	// Fail the batch of "bad" at its outbox step, however often it runs.
	s.w.failHook = func(point string, r *rows) error {
		if point == "outbox" && r.customers[0] == "bad" {
			return errInjected
		}
		return nil
	}
	close(release)
	wg.Wait()
	s.w.failHook = nil

	if !errors.Is(errBad, errInjected) || errGood != nil {
		t.Fatalf("errors: bad %v, good %v; want the injected one and nil", errBad, errGood)
	}
	failed, ok := "bad", "good"
	if _, err := s.Customer(ctx, failed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the failed batch's customer is there: %v", err)
	}
	if ts, _ := s.Transitions(ctx, failed); len(ts) != 0 {
		t.Errorf("the failed batch's transitions are there: %v", ts)
	}
	if m, _ := s.SeenMessages(ctx, []string{failed + "-m1"}); len(m) != 0 {
		t.Errorf("the failed batch's message id is there")
	}
	if _, err := s.Customer(ctx, ok); err != nil {
		t.Errorf("the other batch was lost with it: %v", err)
	}
	items, err := s.ClaimOutbox(ctx, storetest.T0.Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || !strings.HasPrefix(items[0].Send.Key, ok+"/") {
		t.Errorf("outbox: %+v, want only %s's send", items, ok)
	}
}

// Close checkpoints: the database file alone holds everything.
func TestCloseCheckpoints(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "way mark?#%.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{storetest.Write("c", 1, storetest.T0)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("WAL left with %d bytes after Close", fi.Size())
	}
	// The file is where the path says, under its odd name.
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("the database is not at %q: %v", path, err)
	}
}

func TestCeilMicros(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   time.Time
		want int64
	}{
		{base, base.UnixMicro()},
		{base.Add(1), base.UnixMicro() + 1},
		{base.Add(999), base.UnixMicro() + 1},
		{base.Add(1000), base.UnixMicro() + 1},
		{base.Add(1001), base.UnixMicro() + 2},
		{time.Date(1960, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() + 1},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).UnixMicro()},
	} {
		if got := ceilMicros(c.in); got != c.want {
			t.Errorf("ceilMicros(%v) = %d, want %d", c.in, got, c.want)
		}
		if fromMicros(ceilMicros(c.in)).Before(c.in) {
			t.Errorf("ceilMicros(%v) went back in time", c.in)
		}
	}
}

// An outbox item whose send was deleted from the history by hand is
// dead-lettered by the claim that meets it; the others are claimed.
func TestClaimMissingSend(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a, b := storetest.Write("a", 1, storetest.T0), storetest.Write("b", 1, storetest.T0)
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{a, b}}); err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, func(w *writer) error {
		_, err := w.execStmt("DELETE FROM history WHERE customer = 'a' AND kind = 'send'")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	items, err := s.ClaimOutbox(ctx, storetest.T0.Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Send.Key != b.Results[0].Sends[0].Key {
		t.Fatalf("claimed %+v, want only b's send", items)
	}
	var state, lastError string
	if err := s.rdb.QueryRow("SELECT state, last_error FROM outbox WHERE customer = 'a'").Scan(&state, &lastError); err != nil {
		t.Fatal(err)
	}
	if state != store.DeliveryDead || lastError == "" {
		t.Errorf("a's item: %s (%q), want dead with a reason", state, lastError)
	}
}

// A panic inside a write is that write's error; the writer lives on.
func TestWriterSurvivesPanic(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.write(ctx, func(*writer) error { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("a panicking write returned %v", err)
	}
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("c", 1, storetest.T0)}}); err != nil {
		t.Fatalf("a commit after the panic: %v", err)
	}
}

// A database of schema 1 (before the dead-letter index) is migrated on
// open, and the items that died before the upgrade are in the queue.
func TestUpgradeFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	storetest.RunDeadLetterUpgrade(t,
		func() (store.Store, error) { return Open(path) },
		func() { // back to what a schema-1 binary left
			db := rawDB(t, path)
			defer db.Close()
			for _, q := range []string{"DROP INDEX outbox_dead", "DROP INDEX history_failed", "DROP TABLE received", "DROP VIEW responses", "DROP TABLE tallies", "ALTER TABLE outbox DROP COLUMN cohort", "DELETE FROM schema_migrations WHERE version > 1"} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		},
		func() int {
			var v int
			if err := rawDB(t, path).QueryRow("SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		},
		SchemaVersion)
}

// A prune walks the history chunk by chunk, and stops at the first chunk
// whose records all lie after the cut: with chunks of 3 and records of
// these hours in commit order, cut at hour 5, it deletes 0, 1 and 2 (the
// second chunk still reaches back before the cut) and stops at the third
// chunk, so the late record of hour 3 waits for a later prune.
func TestPruneHistoryInChunks(t *testing.T) {
	defer func(n int) { pruneChunk = n }(pruneChunk)
	pruneChunk = 3
	s, err := Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, h := range []int{0, 6, 1, 2, 7, 8, 9, 10, 11, 3} {
		c := &engine.Customer{ID: fmt.Sprintf("c%d", i%3)}
		tr := engine.Transition{Instance: c.ID + "/j/1", Journey: "j", Version: "v", To: "s", Cause: "entry:e", Status: engine.StatusActive, At: base.Add(time.Duration(h) * time.Hour)}
		if err := s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{{State: c, Results: []engine.Result{{Transitions: []engine.Transition{tr}}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	n, _, err := s.PruneHistory(context.Background(), base.Add(5*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("PruneHistory = %d, %v; want 3", n, err)
	}
	var left []int64
	rs, err := rawDB(t, s.path).Query("SELECT at FROM history ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var at int64
		if err := rs.Scan(&at); err != nil {
			t.Fatal(err)
		}
		left = append(left, (at-base.UnixMicro())/time.Hour.Microseconds())
	}
	rs.Close()
	if fmt.Sprint(left) != "[6 7 8 9 10 11 3]" {
		t.Errorf("hours left: %v, want [6 7 8 9 10 11 3]", left)
	}
}

func TestInUse(t *testing.T) {
	t.Chdir(t.TempDir())
	storetest.RunInUse(t, "./waymark.db", func() (store.Store, error) { return Open("./waymark.db") })
}

// Migration 6 rebuilds history to admit metric responses: the rows of a
// schema-5 database survive it, and the AUTOINCREMENT high-water mark too,
// so a seq freed by a deleted newest row is not given again.
func TestUpgradeToResponses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v5.db")
	db := rawDB(t, path)
	if _, err := db.Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:5] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
		if _, err := db.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", i+1, m.name); err != nil {
			t.Fatal(err)
		}
	}
	for seq, to := range []string{"s", "t", "u"} {
		if _, err := db.Exec("INSERT INTO history(seq, customer, kind, at, journey, instance, version, from_stage, to_stage, cause, status) VALUES (?, 'a', 'transition', ?, 'j', 'a/j/1', 'v1', '', ?, 'c', 'active')",
			seq+1, micros(storetest.T0)+int64(seq), to); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("DELETE FROM history WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO history(customer, kind, at, journey) VALUES ('a', 'response', 0, 'j')"); err == nil {
		t.Fatal("a schema-5 history took a response: the test does not start from schema 5")
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := storetest.Write("b", 1, storetest.T0)
	w.Results = []engine.Result{{Responses: []engine.Response{{Metric: "nps", Journey: "j", Instance: "b/j/1", Stage: "s", Value: 10, At: storetest.T0}}}}
	if err := s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = s.JourneyRecords(context.Background(), "j", storetest.T0.Add(time.Hour), func(r store.JourneyRecord) error {
		if r.Transition != nil {
			got = append(got, "transition "+r.Transition.To)
		} else if r.Response != nil {
			got = append(got, fmt.Sprintf("response %s %g", r.Response.Stage, r.Response.Value))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"transition s", "transition t", "response s 10"}; !slices.Equal(got, want) {
		t.Fatalf("records after the upgrade: %q, want %q", got, want)
	}
	var seq int64
	if err := rawDB(t, path).QueryRow("SELECT min(seq) FROM history WHERE kind = 'response'").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if seq <= 3 {
		t.Fatalf("the response got seq %d: the high-water mark 3 was lost in the rebuild", seq)
	}
}
