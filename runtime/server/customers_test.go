package server

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// GET /v1/customers lists customers by id prefix and by trait value, page
// by page.
func TestCustomerList(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/identify", `{"userId":"acme:1","traits":{"plan":"premium","pings":3}}`)
	h.mustPost("/v1/identify", `{"userId":"acme:2","traits":{"plan":"free"}}`)
	h.mustPost("/v1/track", `{"userId":"acme3","event":"signed_up","traits":{"plan":"premium"}}`)
	h.mustPost("/v1/identify", `{"userId":"bolt","traits":{"plan":"premium","pings":3.5}}`)
	list := func(query string) ([]string, string) {
		t.Helper()
		r := h.get("/v1/customers?" + query)
		if r.code != 200 {
			t.Fatalf("GET /v1/customers?%s: %d %s", query, r.code, r.body)
		}
		var p store.CustomerPage
		r.json(t, &p)
		var ids []string
		for _, c := range p.Customers {
			ids = append(ids, c.ID)
		}
		return ids, p.Next
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"acme3", "acme:1", "acme:2", "bolt"}},
		{"q=acme", []string{"acme3", "acme:1", "acme:2"}},
		{"q=" + url.QueryEscape("id:acme:"), []string{"acme:1", "acme:2"}},
		{"q=plan:premium", []string{"acme3", "acme:1", "bolt"}},
		{"q=plan:premium&after=acme3", []string{"acme:1", "bolt"}},
		{"q=pings:3", []string{"acme:1"}},
		{"q=pings:3.5", []string{"bolt"}},
		{"q=plan:gold", nil},
		{"q=nobody", nil},
	} {
		got, next := list(tc.query)
		if !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("?%s: %q next %q, want %q", tc.query, got, next, tc.want)
		}
	}
	got, next := list("q=plan:premium&limit=2")
	if !slices.Equal(got, []string{"acme3", "acme:1"}) || next != "acme:1" {
		t.Errorf("first page: %q next %q", got, next)
	}
	got, next = list("q=plan:premium&limit=2&after=" + url.QueryEscape(next))
	if !slices.Equal(got, []string{"bolt"}) || next != "" {
		t.Errorf("second page: %q next %q", got, next)
	}

	// The summary shows traits and where the customer is.
	r := h.get("/v1/customers?q=acme3")
	var p store.CustomerPage
	r.json(t, &p)
	if len(p.Customers) != 1 || p.Customers[0].Traits["plan"] != "premium" ||
		!slices.Equal(p.Customers[0].Active, []store.ActiveStage{{Journey: "welcome", Stage: "count"}}) || p.Customers[0].NextWake.IsZero() {
		t.Errorf("acme3's summary: %s", r.body)
	}

	for _, tc := range []struct{ query, want string }{
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"q=:premium", "names no trait"},
	} {
		r := h.get("/v1/customers?" + tc.query)
		if r.code != 400 || !strings.Contains(r.errorText(t), tc.want) {
			t.Errorf("?%s: %d %s, want 400 naming %q", tc.query, r.code, r.body, tc.want)
		}
	}
}

// The customer document lists the inputs received: kind, event name,
// message id and time, in order; duplicates and timers are not inputs.
func TestCustomerReceived(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"userId":"r1","event":"signed_up","messageId":"m-1"}`)
	h.mustPost("/v1/track", `{"userId":"r1","event":"signed_up","messageId":"m-1"}`) // a retry
	h.mustPost("/v1/batch", `{"batch":[{"type":"identify","userId":"r1","traits":{"plan":"free"},"messageId":"m-2"},{"type":"track","userId":"r1","event":"ping"}]}`)
	c := h.customer("r1")
	var got []string
	for _, in := range c.Received {
		if in.At.IsZero() {
			t.Errorf("an input without a time: %+v", in)
		}
		got = append(got, in.Kind+" "+in.Name+" "+in.MessageID)
	}
	want := []string{engine.KindEvent + " signed_up m-1", engine.KindIdentify + "  m-2", engine.KindEvent + " ping "}
	if !slices.Equal(got, want) {
		t.Errorf("received: %q, want %q", got, want)
	}
}

// DELETE /v1/customers/{id} erases a customer over HTTP: the document, the
// list, the dead letters and the pending sends forget it; the id then
// starts a new customer; a retried input of the erased one stays a
// duplicate.
func TestEraseCustomer(t *testing.T) {
	h := newHarness(t, Options{})
	dead := h.deadLetters(3, "gone", "e/2")
	h.mustPost("/v1/identify", `{"userId":"e/1","traits":{"email":"li@example.com","plan":"premium"}}`)
	h.mustPost("/v1/track", `{"userId":"e/1","event":"signed_up","messageId":"e1-m1"}`)
	h.mustPost("/v1/track", `{"userId":"e/2","event":"ping","messageId":"e2-m2"}`)
	h.mustPost("/v1/track", `{"userId":"keep","event":"signed_up"}`)

	for _, id := range []string{"e/1", "e/2"} {
		r := h.do("DELETE", "/v1/customers/"+url.PathEscape(id), nil, nil)
		var doc erasedDoc
		r.json(t, &doc)
		if r.code != 200 || doc.ID != id || !doc.Customer || doc.Cancelled != 1 || doc.History == 0 {
			t.Errorf("DELETE %s: %d %s", id, r.code, r.body)
		}
		if r := h.get("/v1/customers/" + url.PathEscape(id)); r.code != 404 {
			t.Errorf("GET %s after the erase: %d %s", id, r.code, r.body)
		}
	}
	var p store.CustomerPage
	h.get("/v1/customers").json(t, &p)
	if len(p.Customers) != 1 || p.Customers[0].ID != "keep" {
		t.Errorf("the list after the erases: %+v", p.Customers)
	}
	var dl deadLettersDoc
	h.get("/v1/dead-letters").json(t, &dl)
	if len(dl.DeadLetters) != 0 {
		t.Errorf("dead letters after the erase of %s: %+v", dead, dl.DeadLetters)
	}
	items, err := h.st.ClaimOutbox(context.Background(), time.Now().Add(time.Hour), time.Minute, 10)
	if err != nil || len(items) != 1 || !strings.HasPrefix(items[0].Send.Key, "keep/") {
		t.Errorf("claim after the erases: %v %+v; want keep's send alone", err, items)
	}

	// A retry of an erased input is still a duplicate; a new input starts
	// a new customer.
	h.mustPost("/v1/track", `{"userId":"e/1","event":"signed_up","messageId":"e1-m1"}`)
	if r := h.get("/v1/customers/e%2F1"); r.code != 404 {
		t.Errorf("a retried input brought e/1 back: %d %s", r.code, r.body)
	}
	h.mustPost("/v1/track", `{"userId":"e/1","event":"signed_up","messageId":"e1-m9"}`)
	c := h.customer("e%2F1")
	if len(c.Traits) != 0 || len(c.Received) != 1 || c.Received[0].MessageID != "e1-m9" || len(c.Instances) != 1 {
		t.Errorf("the new e/1: %+v", c)
	}

	r := h.do("DELETE", "/v1/customers/nobody", nil, nil)
	var doc erasedDoc
	r.json(t, &doc)
	if r.code != 200 || doc.Customer || doc.History != 0 {
		t.Errorf("DELETE of an unknown id: %d %s", r.code, r.body)
	}
}

// GET /v1/customers/{id} holds the customer's metric responses, each with
// the stage it is scored at and its seq, after the input that carried it;
// they page like the other lists.
func TestCustomerResponses(t *testing.T) {
	start := time.Date(2026, 4, 6, 14, 0, 0, 0, time.UTC)
	h := newHarness(t, Options{}, withManualClock(start), withWorkspace("../../../examples/winback"))
	h.mustPost("/v1/identify", `{"userId":"w1","traits":{"email":"w1@example.com","first_name":"Sam","timezone":"America/New_York","lifetime_orders":3,"favourite_roast":"Kettle House Blend"}}`)
	h.mustPost("/v1/batch", `{"batch":[`+
		`{"type":"track","userId":"w1","event":"customer_lapsed","properties":{"days_inactive":45,"last_order_id":"CK-1","last_order_total":30}},`+
		`{"type":"track","userId":"w1","event":"nps_submitted","properties":{"score":8,"comment":"early"}},`+
		`{"type":"track","userId":"w1","event":"nps_submitted","properties":{"score":10,"comment":"later"}}]}`)
	h.mustPost("/v1/track", `{"userId":"nobody","event":"nps_submitted","properties":{"score":0,"comment":"not in a journey"}}`)

	tests := []struct {
		id   string
		want []engine.Response // without Seq and At
	}{
		{"w1", []engine.Response{{Metric: "nps", Journey: "winback", Instance: "w1/winback/1", Stage: "offer", Value: 8},
			{Metric: "nps", Journey: "winback", Instance: "w1/winback/1", Stage: "offer", Value: 10}}},
		{"nobody", []engine.Response{{Metric: "nps", Value: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c := h.customer(tt.id)
			var got []engine.Response
			for _, r := range c.Responses {
				if r.Seq == 0 {
					t.Errorf("response %+v has no seq", r)
				}
				r.Seq, r.At = 0, time.Time{}
				got = append(got, r)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("responses %+v, want %+v", got, tt.want)
			}
			// Each response comes right after the input that carried it.
			var inputs []int
			for _, in := range c.Received {
				if in.Name == "nps_submitted" {
					inputs = append(inputs, in.Seq)
				}
			}
			if len(inputs) != len(c.Responses) {
				t.Fatalf("%d nps_submitted inputs, %d responses", len(inputs), len(c.Responses))
			}
			for k, r := range c.Responses {
				if r.Seq != inputs[k]+1 {
					t.Errorf("response %d has seq %d, its input %d", k, r.Seq, inputs[k])
				}
			}
		})
	}

	r := h.get("/v1/customers/w1?limit=1")
	var c customerDoc
	r.json(t, &c)
	if len(c.Responses) != 1 || c.Responses[0].Value != 10 || c.Page.Responses != (listPage{Total: 2, From: 1, To: 2}) ||
		!strings.Contains(c.Page.Next, "responses_before=1") {
		t.Errorf("limit=1: responses %+v, page %+v", c.Responses, c.Page)
	}
}
