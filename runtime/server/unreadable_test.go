package server

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// A customer whose stored state cannot be decoded (a pre-fix database's
// 1e400, written here with SQL) no longer turns GET /v1/customers into a
// 503 for everyone: the page lists the others and names it under
// "unreadable"; GET /v1/customers/{id} of it is a 500 that says retrying
// will not help, not a 503 asking for a retry. Before the fix, both were
// 503s.
func TestCustomerListUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waymark.db")
	h := newHarness(t, Options{}, withStore(func(t testing.TB) store.Store {
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}))
	for _, id := range []string{"a", "b", "c"} {
		h.mustPost("/v1/identify", `{"userId":"`+id+`","traits":{"plan":"premium"}}`)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE customers SET state = ? WHERE id = 'b'", storetest.BigNumberState); err != nil {
		t.Fatal(err)
	}

	for _, query := range []string{"", "?q=plan:premium"} {
		r := h.get("/v1/customers" + query)
		if r.code != 200 {
			t.Fatalf("GET /v1/customers%s: %d %s", query, r.code, r.body)
		}
		var p store.CustomerPage
		r.json(t, &p)
		var ids []string
		for _, c := range p.Customers {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, []string{"a", "c"}) || len(p.Unreadable) != 1 || p.Unreadable[0].ID != "b" ||
			!strings.Contains(p.Unreadable[0].Error, "cannot be decoded") || strings.Contains(string(r.body), "1e400") {
			t.Errorf("GET /v1/customers%s = %s; want a and c, and b unreadable (its value not shown)", query, r.body)
		}
	}

	r := h.get("/v1/customers/b")
	if msg := r.errorText(t); r.code != 500 || r.header.Get("Retry-After") != "" || !strings.Contains(msg, "cannot be decoded") || !strings.Contains(msg, "retrying will not help") || strings.Contains(msg, "1e400") {
		t.Errorf("GET /v1/customers/b = %d (Retry-After %q) %s; want a 500 saying the state cannot be decoded", r.code, r.header.Get("Retry-After"), r.body)
	}
	if r := h.get("/v1/customers/a"); r.code != 200 {
		t.Errorf("GET /v1/customers/a = %d %s", r.code, r.body)
	}
}
