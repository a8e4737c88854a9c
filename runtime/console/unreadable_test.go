package console

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// /ui/customers, over a database holding a customer whose stored state
// cannot be decoded (a pre-fix 1e400, written here with SQL), lists the
// others and names it, rather than an error page for the whole list (the
// API's 503 before the fix).
func TestCustomersUnreadable(t *testing.T) {
	f := newFixture(t)
	f.seed()
	db, err := sql.Open("sqlite", "file:"+f.st.Path()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE customers SET state = ? WHERE id = 'bob'", storetest.BigNumberState); err != nil {
		t.Fatal(err)
	}
	rec := f.do("GET", "/ui/customers", nil, f.login())
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("GET /ui/customers: %d\n%s", rec.Code, body)
	}
	for _, want := range []string{
		`<a href="/ui/customers/ann">ann</a></th>`, `<a href="/ui/customers/cy">cy</a></th>`,
		`<li><a href="/ui/customers/bob">bob</a>: the stored state cannot be decoded`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /ui/customers: no %q in\n%s", want, body)
		}
	}
	if strings.Contains(body, `<a href="/ui/customers/bob">bob</a></th>`) || strings.Contains(body, "1e400") {
		t.Errorf("GET /ui/customers lists bob as readable, or shows the value:\n%s", body)
	}
}
