package server

import (
	"fmt"
	"strings"
	"testing"
)

// GET /v1/customers/{id} shows the latest entries of each history list
// and links to the older ones; following the links gives every entry once.
func TestCustomerDocumentPaging(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	var calls []string
	for i := range 150 {
		calls = append(calls, fmt.Sprintf(`{"type":"track","userId":"u1","event":"ping","messageId":"p%d"}`, i))
	}
	h.mustPost("/v1/batch", `{"batch":[`+strings.Join(calls, ",")+`]}`)
	const total = 2 + 150*2 // entry, greet -> count, then count -> bump -> count per ping

	history := func(c customerDoc) []transitionDoc {
		var out []transitionDoc
		for _, in := range c.Instances {
			out = append(out, in.History...)
		}
		return out
	}
	all := h.customer("u1?limit=1000")
	if got := len(history(all)); got != total || all.Page.Next != "" || all.Page.History != (listPage{total, 0, total}) {
		t.Fatalf("?limit=1000: %d transitions, page %+v; want all %d and no next", got, all.Page, total)
	}

	def := h.customer("u1")
	if got := len(history(def)); got != defaultHistoryPage {
		t.Errorf("default page: %d transitions, want the latest %d", got, defaultHistoryPage)
	}
	if def.Page.History != (listPage{total, total - defaultHistoryPage, total}) || def.Page.Sends != (listPage{1, 0, 1}) {
		t.Errorf("default page: %+v", def.Page)
	}
	if len(def.Sends) != 1 || len(def.Instances) != 1 || def.Instances[0].Stage != "count" {
		t.Errorf("default page: sends %+v, instances %+v", def.Sends, def.Instances)
	}

	// Pages of 64, newest first, until no next: every entry once, in order.
	var got []transitionDoc
	path := "/v1/customers/u1?limit=64"
	pages := 0
	for path != "" {
		r := h.get(path)
		if r.code != 200 {
			t.Fatalf("GET %s: %d %s", path, r.code, r.body)
		}
		var c customerDoc
		r.json(t, &c)
		got = append(history(c), got...)
		if pages > 0 && len(c.Sends) != 0 {
			t.Errorf("page %d repeats the sends: %+v", pages, c.Sends)
		}
		path = c.Page.Next
		if pages++; pages > 10 {
			t.Fatal("the next links do not end")
		}
	}
	if pages != 5 || fmt.Sprint(got) != fmt.Sprint(history(all)) {
		t.Errorf("%d pages gave %d transitions, want 5 pages and the %d of ?limit=1000 in order", pages, len(got), total)
	}

	for query, want := range map[string]string{
		"?history_before=-1": `history_before: "-1" is not a position`,
		"?sends_before=x":    `sends_before: "x" is not a position`,
		"?limit=1001":        `limit: "1001" is not a number from 1 to 1000`,
	} {
		if r := h.get("/v1/customers/u1" + query); r.code != 400 || !strings.HasPrefix(r.errorText(t), want) {
			t.Errorf("GET %s: %d %s, want 400 %q", query, r.code, r.body, want)
		}
	}
}
