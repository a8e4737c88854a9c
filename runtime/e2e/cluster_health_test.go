package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
)

// health reads GET /healthz: its status code and the part it names failing.
func health(p *proc) (int, string, error) {
	res, err := newClient(p.base).http.Get(p.base + "/healthz")
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	var doc struct{ Status, Failing string }
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return res.StatusCode, "", err
	}
	return res.StatusCode, doc.Failing, nil
}

// TestClusterHealthReadOnlyDatabase: a node's /healthz turns 503 ("store
// writes") once its PostgreSQL database refuses writes (made read-only,
// its sessions ended, as a maintenance switch or a failover to a standby
// would), while reads still answer; and 200 again once it takes writes.
// Without store.WriteHealth on the PostgreSQL store /healthz stays 200
// while every event is refused.
func TestClusterHealthReadOnlyDatabase(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	p := c.start()
	c.settled(p, c.nodes, time.Minute)
	if code, failing, err := health(p); code != 200 || err != nil {
		t.Fatalf("/healthz on a writable database: %d %q %v", code, failing, err)
	}
	srv := pgtest.Need(t)
	db := c.dsn[strings.LastIndex(c.dsn, "/")+1:]
	db, _, _ = strings.Cut(db, "?")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, srv.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	set := func(q string) {
		t.Helper()
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db); err != nil {
			t.Fatal(err)
		}
	}
	set("ALTER DATABASE " + db + " SET default_transaction_read_only = on")
	eventually(t, 20*time.Second, func() error {
		code, failing, err := health(p)
		if err != nil {
			return err
		}
		if code != 503 || failing != "store writes" {
			return fmt.Errorf("/healthz: %d, failing %q; want 503, \"store writes\"", code, failing)
		}
		return nil
	})
	if err := newClient(p.base).batch(ctx, []call{{Type: "track", UserID: "h1", Event: "signed_up", MessageID: "h1"}}); err == nil {
		t.Error("an event was acknowledged by a node whose database refuses writes")
	}
	set("ALTER DATABASE " + db + " RESET default_transaction_read_only")
	eventually(t, 20*time.Second, func() error {
		if code, failing, err := health(p); code != 200 || err != nil {
			return fmt.Errorf("/healthz: %d, failing %q, %v; want 200 once writable", code, failing, err)
		}
		return nil
	})
	eventually(t, 20*time.Second, func() error {
		return newClient(p.base).batch(ctx, []call{{Type: "track", UserID: "h1", Event: "signed_up", MessageID: "h1"}})
	})
}
