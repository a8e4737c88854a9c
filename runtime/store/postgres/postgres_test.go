package postgres

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// dbs gives each test (or subtest) its own database, the same one on every
// call with the same t: the storetest open contract.
type dbs struct {
	mu sync.Mutex
	m  map[*testing.T]string
}

func (d *dbs) of(t *testing.T) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = make(map[*testing.T]string)
	}
	if dsn, ok := d.m[t]; ok {
		return dsn
	}
	dsn := pgtest.DB(t)
	d.m[t] = dsn
	return dsn
}

func TestConformance(t *testing.T) {
	var d dbs
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(d.of(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// openStore opens a store on a database of its own for t, closed when t
// ends, and returns it with the database's DSN.
func openStore(t *testing.T) (*Store, string) {
	t.Helper()
	dsn := pgtest.DB(t)
	s, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

// sqlConn is a connection to the database of dsn for tests that look
// under the store.
func sqlConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestSchema(t *testing.T) {
	var d dbs
	ctx := context.Background()
	storetest.RunSchema(t, storetest.Schema{
		Open: func(t *testing.T) (store.Store, error) { return Open(d.of(t)) },
		Version: func(t *testing.T) int {
			var v int
			if err := sqlConn(t, d.of(t)).QueryRow(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		},
		SetVersion: func(t *testing.T, v int) {
			c := sqlConn(t, d.of(t))
			if _, err := c.Exec(ctx, "DELETE FROM schema_migrations WHERE version > $1", v); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, "INSERT INTO schema_migrations(version, name) VALUES ($1, 'test') ON CONFLICT DO NOTHING", v); err != nil {
				t.Fatal(err)
			}
		},
		Latest: SchemaVersion,
	})
}

func TestSchemaVersionIsMigrationCount(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion = %d, but there are %d migrations", SchemaVersion, len(migrations))
	}
}

// Many nodes starting together on a new database: every one opens, and
// each step was applied once.
func TestMigrateTogether(t *testing.T) {
	dsn := pgtest.DB(t)
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			s, err := Open(dsn)
			if err == nil {
				err = s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{storetest.Write("c", 1, storetest.T0)}})
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	var rows, shards int
	c := sqlConn(t, dsn)
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM schema_migrations").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != SchemaVersion {
		t.Errorf("%d rows in schema_migrations, want %d (one per step)", rows, SchemaVersion)
	}
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM shards").Scan(&shards); err != nil || shards != 64 {
		t.Errorf("%d shards (%v), want 64", shards, err)
	}
}
