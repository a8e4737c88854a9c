package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// checkingWorker accepts every Submit after checking that what the parser
// produced is something the worker and the engine can run: a customer id,
// a known input kind, an event name for an event.
type checkingWorker struct{ t *testing.T }

func (w checkingWorker) Submit(_ context.Context, items []worker.Item) error {
	if len(items) == 0 {
		w.t.Fatal("Submit of no items")
	}
	for _, it := range items {
		if it.CustomerID == "" {
			w.t.Fatalf("item without a customer: %+v", it)
		}
		switch it.Input.Kind {
		case engine.KindEvent:
			if it.Input.Event == "" {
				w.t.Fatalf("event without a name: %+v", it)
			}
		case engine.KindIdentify:
			if it.Input.Event != "" || it.Input.Properties != nil {
				w.t.Fatalf("identify with an event: %+v", it)
			}
		case engine.KindSubscription:
			if it.Input.Topic != "marketing" || (it.Input.Status != "subscribed" && it.Input.Status != "unsubscribed") {
				w.t.Fatalf("subscription to an unknown topic or status: %+v", it)
			}
		default:
			w.t.Fatalf("input kind %q", it.Input.Kind)
		}
		// The engine's state must stay JSON: what the parser keeps has to
		// encode again.
		if _, err := json.Marshal(it.Input); err != nil {
			w.t.Fatalf("input does not encode: %v", err)
		}
	}
	return nil
}

// Engine is a program with one topic, what POST /v1/subscriptions checks.
func (checkingWorker) Engine() *engine.Engine { return fuzzEngine }

var fuzzEngine = func() *engine.Engine {
	e, err := engine.New(&ir.Program{Format: ir.Format, Topics: []ir.Topic{{Name: "marketing", Default: ir.TopicSubscribed}}}, engine.Options{})
	if err != nil {
		panic(err)
	}
	return e
}()

// Merge checks that a merge names two different customers.
func (w checkingWorker) Merge(_ context.Context, from, into string) (bool, error) {
	if from == "" || into == "" || from == into {
		w.t.Fatalf("merge of %q into %q", from, into)
	}
	return true, nil
}

var fuzzPaths = []string{"/v1/track", "/v1/identify", "/v1/batch", "/v1/alias", "/v1/page", "/v1/screen", "/v1/group", "/v1/subscriptions"}

// FuzzIngest posts arbitrary bodies to the ingest handlers: nothing may
// panic, and the answer is 200, 400 or 413, with a JSON body.
func FuzzIngest(f *testing.F) {
	seeds := []struct {
		path int
		body string
	}{
		{0, `{"userId":"u1","event":"signed_up","properties":{"source":"ads","n":1e400},"messageId":"m1","timestamp":"2024-05-01T12:00:00Z"}`},
		{0, `{"anonymousId":"a1","event":"x","traits":{"plan":null},"context":{"ip":"1.2.3.4"}}`},
		{0, `{"userId":"u1","event":"e","properties":[1]}`},
		{0, `{"userId":"u1","event":"e"} x`},
		{0, `{"userId":"\ud800","event":"\u0000"}`},
		{1, `{"userId":"u1","traits":{"email":"a@b.c","tags":["x",{"y":[]}]}}`},
		{1, `{"userId":12,"traits":{}}`},
		{1, `nul`},
		{2, `{"batch":[{"type":"track","userId":"u","event":"e","messageId":"m"},{"type":"track","userId":"u","event":"e","messageId":"m"},{"type":"page","userId":"u"},{"type":"identify","userId":"u","traits":{"a":1}}]}`},
		{2, `{"batch":[{"type":"teleport"}]}`},
		{2, `{"batch":null}`},
		{2, `{"batch":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}`},
		{2, ` {"batch":[]} `},
		{2, ``},
		{2, `{"batch":[{"type":"track","userId":"u","event":"e","timestamp":"2024-05-01T12:00:00.5+0530"}],"sentAt":1}`},
		{0, `{"writeKey":"wk","userId":"u1","event":"e","timestamp":"2024-05-01T12:00:00"}`},
		{2, `{"writeKey":7,"batch":[{"type":"track","userId":"u","event":"e"},1,{"type":"track"},{"type":"identify","userId":"u","timestamp":"2024-05-01T12:00:00.25"}]}`},
		{2, `{"batch":[{"type":"teleport"},{"type":"track","userId":"u","event":"e","timestamp":"soon"}]}`},
		// Ids that would break a header or merge two customers.
		{0, `{"userId":"u\r\nX: y","event":"e"}`},
		{0, "{\"userId\":\"u\xff\xfe\",\"event\":\"e\"}"},
		{1, `{"userId":"\ud83d\ude00 \ufffd \\ud800","messageId":"m\u0085"}`},
		{2, `{"batch":[{"type":"identify","anonymousId":"a\udc00"},{"type":"track","userId":"ok","event":"e","messageId":"\t"}]}`},
		{2, `{"batch":[{"type":"alias","userId":"u","previousId":"a"},{"type":"identify","userId":"u","anonymousId":"a"},{"type":"alias","userId":"u","previousId":"u"}]}`},
		{1, `{"userId":"u","anonymousId":"a","traits":{"plan":"x"}}`},
		{3, `{"userId":"u","previousId":"a","messageId":"m"}`}, {3, `{"userId":"u"}`}, {3, `{"previousId":"a"}`}, {3, `{"userId":"u","previousId":["a"]}`},
		{7, `{"userId":"u","topic":"marketing","status":"unsubscribed","messageId":"m"}`}, {7, `{"userId":"u","topic":"news","status":"subscribed"}`},
		{7, `{"userId":"u","topic":"marketing","status":"on"}`}, {7, `{"topic":"marketing"}`},
		// Values that could not be kept as sent (ingestred): refused by path.
		{1, `{"userId":"u","traits":{"n":1e300000000,"m":-1e-5000,"x":[1e309]}}`},
		{0, `{"userId":"u","event":"e","properties":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`},
		{4, `{"userId":"u","name":"Home","properties":{"path":"/"}}`}, {5, `{"anonymousId":"a"}`}, {6, `{"userId":"u","groupId":"g","traits":{}}`},
	}
	for _, s := range seeds {
		f.Add(uint8(s.path), []byte(s.body))
	}
	// No seed over the size limits (TestSizeLimits covers them): mutating
	// and minimizing 32 KB inputs stalls the fuzzer for no new coverage.

	f.Fuzz(func(t *testing.T, path uint8, body []byte) {
		srv := New(nil, checkingWorker{t}, Options{})
		p := fuzzPaths[int(path)%len(fuzzPaths)]
		req := httptest.NewRequest("POST", p, bytes.NewReader(body))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("POST %s: status %d: %s", p, rec.Code, rec.Body)
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("POST %s: answer is not JSON: %q", p, rec.Body)
		}
		if rec.Code != 200 {
			if msg, _ := doc["error"].(string); msg == "" || !strings.HasPrefix(msg, strings.TrimPrefix(p, "/v1/")) {
				t.Fatalf("POST %s: %d without an error that names the call: %s", p, rec.Code, fmt.Sprint(doc))
			}
			return
		}
		// A 200 may list refused batch items: each names its index.
		errs, _ := doc["errors"].([]any)
		for _, e := range errs {
			item, _ := e.(map[string]any)
			index, _ := item["index"].(float64)
			reason, _ := item["reason"].(string)
			if !strings.HasPrefix(reason, fmt.Sprintf("batch[%d]", int(index))) {
				t.Fatalf("POST %s: refused item %v does not name its index", p, e)
			}
		}
	})
}

var fuzzAdminRoutes = []struct{ method, prefix string }{
	{"GET", "/v1/customers/"},
	{"GET", "/v1/dead-letters?"},
	{"POST", "/v1/dead-letters/requeue?"},
	{"GET", "/v1/journeys?"},
	{"GET", "/v1/status?"},
	{"POST", "/v1/clock?"},
	{"GET", "/metrics?"},
	{"GET", "/"},
	{"GET", "/v1/customers?"},
	{"GET", "/v1/failed-sends?"},
	{"DELETE", "/v1/customers/"},
	{"GET", "/v1/journeys/"},
}

// FuzzAdmin sends arbitrary paths, queries and bodies to the admin API over
// a real SQLite store holding a few customers and a dead letter: nothing may
// panic, nothing is a 5xx, and every answer of a matched route is JSON (or
// Prometheus text for /metrics).
func FuzzAdmin(f *testing.F) {
	h := newHarness(f, Options{})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	h.mustPost("/v1/track", `{"userId":"u/2 é","event":"signed_up"}`)
	items, err := h.st.ClaimOutbox(context.Background(), time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(items) == 0 {
		f.Fatalf("claim: %v", err)
	}
	if err := h.st.Dead(context.Background(), items[0].Send.Key, 3, time.Now(), "gone"); err != nil {
		f.Fatal(err)
	}
	failed := engine.Send{Key: "u3/j/1/1/s", Journey: "j", Instance: "u3/j/1", Stage: "s", Name: "s", Channel: "email",
		ChannelType: "smtp", Fate: engine.FateFailed, Reason: "field to: to is null", At: time.Now()}
	err = h.st.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{{
		State: &engine.Customer{ID: "u3"}, Results: []engine.Result{{Sends: []engine.Send{failed}}}}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		route      uint8
		path, body string
	}{
		{0, "u1?limit=1&history_before=1&sends_before=0&events_before=99999999999999999999&received_before=0", ""},
		{0, "u1?limit=2&fields=1&history_before=-1", ""},
		{0, "u1", ""}, {0, "u1?fields=1", ""}, {0, "u%2F2%20%C3%A9", ""}, {0, "%zz", ""}, {0, "", ""},
		{1, "limit=1&after=u1", ""}, {1, "limit=-1", ""}, {1, "limit=99999999999999999999", ""}, {1, "fields=1&after=%00", ""},
		{1, "journey=welcome&channel=log&error=GONE&limit=1", ""}, {1, "error=%00&after=zz", ""},
		{2, "", `{"keys":["` + items[0].Send.Key + `","x"]}`}, {2, "", `{"keys":[1]}`}, {2, "", `{"keys":null}`}, {2, "", `[`},
		{2, "", `{"filter":{"error":"gone"}}`}, {2, "", `{"filter":{"all":true}}`}, {2, "", `{"filter":{},"keys":[]}`},
		{3, "", ""}, {4, "x=1", ""}, {5, "", ""}, {6, "v1/../v1/status", ""}, {6, "v1/customers/", ""},
		{8, "", ""}, {8, "limit=1&fields=1", ""}, {8, "after=1.2", ""}, {8, "after=-9223372036854775808.18446744073709551615", ""},
		{8, "after=x.&limit=1001", ""}, {8, "after=%FF", ""},
		{7, "", ""}, {7, "q=u&limit=1", ""}, {7, "q=plan:premium&after=u1", ""}, {7, "q=:x", ""}, {7, "q=id:u%2F&limit=0", ""},
		{9, "nobody", ""}, {9, "u%2F2%20%C3%A9", ""}, {9, "", ""}, {9, "%zz", ""},
		{11, "welcome/analytics", ""}, {11, "welcome/analytics?since=2026-01-01T00:00:00Z&until=2099-01-01T00:00:00Z", ""},
		{11, "welcome/analytics?since=2099-01-01T00:00:00Z", ""}, {11, "welcome/analytics?until=yesterday", ""},
		{11, "nope/analytics", ""}, {11, "welcome/paths?steps=3", ""}, {11, "welcome/paths?steps=0", ""},
		{11, "welcome/paths?steps=99999999999999999999", ""}, {11, "%zz/paths", ""},
	} {
		f.Add(s.route, s.path, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, path string, body []byte) {
		rt := fuzzAdminRoutes[int(route)%len(fuzzAdminRoutes)]
		target := rt.prefix + path
		if _, err := url.ParseRequestURI(target); err != nil || strings.ContainsAny(target, " \t\r\n#") {
			return // not a request line a client can send
		}
		req := httptest.NewRequest(rt.method, target, bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d: %s", rt.method, target, rec.Code, rec.Body)
		}
		if req.Pattern == "" || strings.HasPrefix(req.Pattern, "GET /metrics") || rec.Code/100 == 3 {
			return // the mux's own 404/405 text or path-cleaning redirect, or Prometheus text
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s (%s): %d, not JSON: %q", rt.method, target, req.Pattern, rec.Code, rec.Body)
		}
	})
}
