package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Two databases of the shared server are distinct and each is usable.
func TestDB(t *testing.T) {
	ctx := context.Background()
	a, b := DB(t), DB(t)
	if a == b {
		t.Fatalf("two databases with one DSN: %s", a)
	}
	for i, dsn := range []string{a, b} {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE TABLE t (n int)"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT n FROM t").Scan(&n); err != nil || n != i {
			t.Fatalf("database %d holds %d, %v", i, n, err)
		}
	}
}

// Without binaries, a test is skipped locally and fails under CI.
func TestMissingBinaries(t *testing.T) {
	t.Setenv("WAYMARK_PG_BIN", t.TempDir())
	_, err := Start(Options{})
	if err == nil {
		t.Fatal("Start with no binaries succeeded")
	}
	t.Setenv("CI", "true")
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Missing(ft, err)
	}()
	if !ft.fatal || ft.skipped {
		t.Errorf("under CI: fatal %v, skipped %v; want a failure", ft.fatal, ft.skipped)
	}
	t.Setenv("CI", "")
	ft = &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Missing(ft, err)
	}()
	if ft.fatal || !ft.skipped {
		t.Errorf("locally: fatal %v, skipped %v; want a skip", ft.fatal, ft.skipped)
	}
}

// fakeTB records Fatalf and Skipf instead of ending the test; both panic
// to stop Missing, as the real ones stop the goroutine.
type fakeTB struct {
	testing.TB
	fatal, skipped bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatalf(string, ...any) { f.fatal = true; panic("fatal") }
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true; panic("skip") }

// CPU counts the time of the server's backends: a query that computes for
// a while moves it by about that much, and the test's own process by far
// less.
func TestServerCPU(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		Missing(t, err)
	}
	defer s.Stop()
	ctx := context.Background()
	dsn, err := s.CreateDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	before, err := s.CPU()
	if err != nil {
		t.Fatal(err)
	}
	self := SelfCPU()
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM generate_series(1, 5000000) AS g WHERE g % 7 = 0").Scan(&n); err != nil || n != 714285 {
		t.Fatalf("count %d, %v", n, err)
	}
	after, err := s.CPU()
	if err != nil {
		t.Fatal(err)
	}
	used, selfUsed := after-before, SelfCPU()-self
	if used < 0.2 {
		t.Errorf("the server used %.2fs of CPU for the query, want at least 0.2s", used)
	}
	if selfUsed > used/2 {
		t.Errorf("this process used %.2fs meanwhile, the server %.2fs: SelfCPU or CPU counts the wrong process", selfUsed, used)
	}
}
