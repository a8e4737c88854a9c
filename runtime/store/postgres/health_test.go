package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// dbName is the database of a DSN from pgtest.
func dbName(dsn string) string {
	name, _, _ := strings.Cut(dsn[strings.LastIndex(dsn, "/")+1:], "?")
	return name
}

// setReadOnly makes the database read-only (or writable again) for every
// new session, and ends its current ones, as a maintenance switch or a
// failover would: the store's pool connects again.
func setReadOnly(t *testing.T, srv *pgtest.Server, db string, on bool) {
	t.Helper()
	admin := sqlConn(t, srv.DSN("postgres"))
	q := "ALTER DATABASE " + db + " SET default_transaction_read_only = on"
	if !on {
		q = "ALTER DATABASE " + db + " RESET default_transaction_read_only"
	}
	ctx := context.Background()
	if _, err := admin.Exec(ctx, q); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db); err != nil {
		t.Fatal(err)
	}
}

// WriteError reports a database that refuses writes, without writing: a
// read-only database (and a commit there fails), then writable again.
func TestWriteErrorReadOnly(t *testing.T) {
	srv := pgtest.Need(t)
	s, dsn := openStore(t)
	if err := s.WriteError(); err != nil {
		t.Fatalf("a writable database: %v", err)
	}
	setReadOnly(t, srv, dbName(dsn), true)
	// The first query on each dead connection fails; the pool replaces it.
	deadline := time.Now().Add(10 * time.Second)
	err := s.WriteError()
	for err == nil || !strings.Contains(err.Error(), "read-only") {
		if time.Now().After(deadline) {
			t.Fatalf("WriteError on a read-only database: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
		err = s.WriteError()
	}
	if cerr := s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{storetest.Write("ro", 1, storetest.T0)}}); cerr == nil {
		t.Error("a commit succeeded on the read-only database: WriteError said it would fail")
	}
	setReadOnly(t, srv, dbName(dsn), false)
	deadline = time.Now().Add(10 * time.Second)
	for err = s.WriteError(); err != nil; err = s.WriteError() {
		if time.Now().After(deadline) {
			t.Fatalf("WriteError once writable again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{storetest.Write("rw", 1, storetest.T0)}}); err != nil {
		t.Fatal(err)
	}
}

// A real full disk: the database lives in a tablespace on a small tmpfs
// that is then filled. A commit fails with SQLSTATE 53100, WriteError says
// so (wrapping store.ErrNoSpace) without writing, and once there is space
// and a commit succeeds, it says nothing. Needs root (a tmpfs mount).
func TestWriteErrorDiskFull(t *testing.T) {
	srv := pgtest.Need(t)
	dir := storetest.SmallDisk(t, 8<<20)
	if os.Getuid() == 0 {
		// Under root the server runs as postgres (see pgtest): the
		// tablespace's directory must be its own, and reachable.
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown postgres %s: %v %s", dir, err, out)
		}
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	admin := sqlConn(t, srv.DSN("postgres"))
	name := fmt.Sprintf("small_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE TABLESPACE "+name+" LOCATION '"+dir+"'"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TABLESPACE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Exec(ctx, "DROP TABLESPACE IF EXISTS "+name)
	})
	s, err := Open(srv.DSN(name))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	filler := storetest.FillDisk(t, dir, 0)
	var cerr error
	for i := 0; i < 200 && cerr == nil; i++ {
		var ws []store.CustomerWrite
		for k := range 50 {
			ws = append(ws, storetest.Write(fmt.Sprintf("full%d-%d", i, k), 1, storetest.T0))
		}
		cerr = s.Commit(ctx, &store.Batch{Customers: ws})
	}
	if !isCode(cerr, "53100") {
		t.Fatalf("commits on a full disk: %v, want SQLSTATE 53100", cerr)
	}
	if err := s.WriteError(); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("WriteError after a write met the full disk: %v, want store.ErrNoSpace", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("space", 1, storetest.T0)}}); err != nil {
		t.Fatalf("a commit once there is space: %v", err)
	}
	if err := s.WriteError(); err != nil {
		t.Errorf("WriteError after a commit succeeded: %v", err)
	}
}

// The shard count is set when the cluster is created and fixed after: a
// node asking for another is refused, saying both counts; one asking for
// none takes the cluster's.
func TestShardCountFixedAtCreation(t *testing.T) {
	dsn := pgtest.DB(t)
	s, err := OpenWith(dsn, Options{Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	n := s.Shards()
	s.Close()
	if n != 16 {
		t.Fatalf("a cluster created with 16 shards has %d", n)
	}
	if _, err := OpenWith(dsn, Options{Shards: 64}); err == nil || !strings.Contains(err.Error(), "asks for 64 shards") || !strings.Contains(err.Error(), "created with 16") {
		t.Errorf("a node asking for 64 on a cluster of 16: %v", err)
	}
	s, err = Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Shards() != 16 {
		t.Errorf("a node asking for no count sees %d shards, want 16", s.Shards())
	}
	if _, err := OpenWith(dsn, Options{Shards: MaxShards + 1}); err == nil {
		t.Error("a count over MaxShards was accepted")
	}
}
