package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/deliver"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

func TestTrackIdentifyBatch(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/identify", `{"userId":"u1","traits":{"email":"u1@example.com","plan":"pro"},"messageId":"m0","timestamp":"2024-05-01T12:00:00.123Z"}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up","properties":{"source":"ads"},"messageId":"m1","context":{"ip":"1.2.3.4"}}`)
	h.mustPost("/v1/batch", `{"batch":[
		{"type":"track","userId":"u1","event":"ping","messageId":"m2"},
		{"type":"track","userId":"u1","event":"ping","messageId":"m3","timestamp":"2024-05-01T12:00:00+0000"},
		{"type":"identify","userId":"u1","messageId":"m3b","timestamp":"2024-05-01T12:00:00.5"},
		{"type":"page","userId":"u1","name":"Home"},
		{"type":"identify","userId":"u1","traits":{"plan":"team"},"messageId":"m4"},
		{"type":"track","anonymousId":"anon-7","event":"signed_up","messageId":"m5"}
	],"sentAt":"2024-05-01T12:00:01Z"}`)

	c := h.customer("u1")
	if c.Traits["email"] != "u1@example.com" || c.Traits["plan"] != "team" {
		t.Errorf("traits = %v", c.Traits)
	}
	if c.Traits["pings"] != float64(2) {
		t.Errorf("pings = %v, want 2", c.Traits["pings"])
	}
	if len(c.Instances) != 1 || c.Instances[0].Journey != "welcome" || c.Instances[0].Stage != "count" || c.Instances[0].Status != "active" {
		t.Fatalf("instances = %+v", c.Instances)
	}
	// An anonymous visitor is a customer keyed by the anonymous id.
	if a := h.customer("anon-7"); len(a.Instances) != 1 {
		t.Errorf("anonymous customer's instances = %+v", a.Instances)
	}
}

func TestUnknownEventIsAcceptedAndIgnored(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"userId":"u1","event":"never_declared","properties":{"x":1}}`)
	c := h.customer("u1")
	if len(c.Instances) != 0 || len(c.Sends) != 0 {
		t.Errorf("an undeclared event did something: %+v", c)
	}
}

// Ids that are text are accepted as sent, U+FFFD and surrogate pairs
// included: only what would break or merge keys is refused.
func TestIDsKeptAsSent(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"userId":"caf\u00e9 \ud83d\ude00 \ufffd \\ud800 ok","event":"ping"}`)
	h.mustPost("/v1/identify", "{\"userId\":\"\u00e9\xef\xbf\xbd\"}")
	for _, id := range []string{"café 😀 \ufffd \\ud800 ok", "é\ufffd"} {
		if c := h.customer(url.PathEscape(id)); c.ID != id {
			t.Errorf("customer %q: got %q", id, c.ID)
		}
	}
}

// Every malformed call gets a 400 whose message names the field.
func TestBadRequestsNameTheField(t *testing.T) {
	h := newHarness(t, Options{})
	big := `"` + strings.Repeat("x", 2000) + `"`
	tests := []struct {
		path, body, want string
	}{
		{"/v1/track", ``, "track: the body is empty"},
		{"/v1/track", `[1]`, "track: must be a JSON object"},
		{"/v1/track", `{"userId":"u1","event":"x"`, "track: invalid JSON"},
		{"/v1/track", `{"userId":"u1","event":"x"} {}`, "track: unexpected data after the JSON object"},
		{"/v1/track", `{"event":"signed_up"}`, "track: userId is required (or anonymousId)"},
		{"/v1/track", `{"userId":"","anonymousId":null,"event":"signed_up"}`, "track: userId is required"},
		{"/v1/track", `{"userId":42,"event":"signed_up"}`, "track: userId must be a string, got a number"},
		{"/v1/track", `{"anonymousId":["a"],"event":"signed_up"}`, "track: anonymousId must be a string, got an array"},
		{"/v1/track", `{"userId":"u1"}`, "track: event is required"},
		{"/v1/track", `{"userId":"u1","event":true}`, "track: event must be a string, got a boolean"},
		{"/v1/track", `{"userId":"u1","event":"e","properties":[1,2]}`, "track: properties must be an object, got an array"},
		{"/v1/track", `{"userId":"u1","event":"e","properties":"x"}`, "track: properties must be an object, got a string"},
		{"/v1/track", `{"userId":"u1","event":"e","traits":5}`, "track: traits must be an object, got a number"},
		{"/v1/track", `{"userId":"u1","event":"e","messageId":{}}`, "track: messageId must be a string, got an object"},
		{"/v1/track", `{"userId":"u1","event":"e","timestamp":"yesterday"}`, `track: timestamp "yesterday" is not an ISO 8601 time`},
		{"/v1/track", `{"userId":"u1","event":"e","timestamp":1714564800}`, "track: timestamp must be a string, got a number"},
		{"/v1/track", `{"userId":` + strings.Replace(big, `"`, `"`, 1) + `,"event":"e"}`, "track: userId and anonymousId must be at most 1024 bytes"},
		{"/v1/track", `{"userId":"u1\r\nX-Evil: 1","event":"e"}`, "track: userId contains the control character U+000D at byte 2"},
		{"/v1/track", "{\"userId\":\"u\xff\",\"event\":\"e\"}", "track: userId is not valid UTF-8 (byte 0xff)"},
		{"/v1/track", "{\"userId\":\"u\xc3\",\"event\":\"e\"}", "track: userId is not valid UTF-8 (byte 0xc3)"},
		{"/v1/track", `{"anonymousId":"a\u0000","event":"e"}`, "track: anonymousId contains the control character U+0000"},
		{"/v1/track", `{"userId":"u\ud800","event":"e"}`, "track: userId holds an escape that is not a character"},
		{"/v1/track", `{"userId":"u\udc00\ud800","event":"e"}`, "track: userId holds an escape that is not a character"},
		{"/v1/track", `{"userId":"u1","event":"e","messageId":"m\t1"}`, "track: messageId contains the control character U+0009"},
		{"/v1/identify", "{\"userId\":\"\x80\"}", "identify: userId is not valid UTF-8"},
		{"/v1/identify", `{"traits":{"plan":"pro"}}`, "identify: userId is required"},
		{"/v1/identify", `{"userId":"u1","traits":[]}`, "identify: traits must be an object, got an array"},
		// Out of range numbers: 1e400 stored made the customer unreadable
		// (503 on every read), larger ones read as null. Refused, by path.
		{"/v1/identify", `{"userId":"u1","traits":{"score":1e400}}`, "identify: traits.score: the number 1e400 is out of range"},
		{"/v1/track", `{"userId":"u1","event":"e","properties":{"n":-1e309}}`, "track: properties.n: the number -1e309 is out of range"},
		{"/v1/track", `{"userId":"u1","event":"e","properties":{"amount":1e300000000}}`, "track: properties.amount: the number 1e300000000 is out of range"},
		{"/v1/track", `{"userId":"u1","event":"e","properties":{"a":{"b":[1,2,-1e-5000]}}}`, "track: properties.a.b[2]: the number -1e-5000 is out of range"},
		{"/v1/identify", `{"userId":"u1","traits":{"score":1e1300}}`, "identify: traits.score: the number 1e1300 is out of range"},
		{"/v1/batch", `{}`, "batch: batch is required"},
		{"/v1/batch", `{"batch":{}}`, "batch: batch must be an array, got an object"},
		{"/v1/batch", `{"batch":[{"type":"track","userId":"u1","event":"e"}]`, "batch: invalid JSON"},
		{"/v1/batch", `[{"type":"track","userId":"u1","event":"e"}]`, "batch: must be a JSON object"},
	}
	for _, tt := range tests {
		r := h.post(tt.path, tt.body)
		if r.code != 400 {
			t.Errorf("POST %s %.60s: status %d, want 400 (%s)", tt.path, tt.body, r.code, r.body)
			continue
		}
		if msg := r.errorText(t); !strings.HasPrefix(msg, tt.want) {
			t.Errorf("POST %s %.60s:\n got error %q\nwant prefix %q", tt.path, tt.body, msg, tt.want)
		}
	}
	// A refused request has no effect at all, not even the valid calls of
	// an unparsable batch.
	if r := h.get("/v1/customers/u1"); r.code != 404 {
		t.Errorf("a refused request left a customer: %d %s", r.code, r.body)
	}
}

// One bad item does not sink a batch: tracking libraries treat a 400 as
// final and would drop the valid calls with it. The valid calls are applied
// and acknowledged; each invalid one is reported in the 200 answer by index
// and reason, and counted.
func TestBatchReportsBadItems(t *testing.T) {
	h := newHarness(t, Options{})
	pad := strings.Repeat("x", MaxEventBytes)
	r := h.post("/v1/batch", `{"batch":[
		{"type":"track","userId":"u1","event":"signed_up","messageId":"ok-0"},
		1,
		{"userId":"u1","event":"e"},
		{"type":7,"userId":"u1"},
		{"type":"teleport","userId":"u1"},
		{"type":"track","userId":"u1"},
		{"type":"identify","anonymousId":false},
		{"type":"track","userId":"u1","event":"e","properties":{"pad":"`+pad+`"}},
		{"type":"track","userId":"u1","event":"ping","messageId":"ok-8"},
		{"type":"identify","userId":"u1","traits":{"plan":"team"}},
		{"type":"identify","userId":"u\n"}
	]}`)
	if r.code != 200 {
		t.Fatalf("status %d, want 200: %s", r.code, r.body)
	}
	var doc struct {
		Success bool
		Errors  []itemError
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	want := []itemError{
		{1, "batch[1]: must be an object, got a number"},
		{2, "batch[2]: type is required: track or identify"},
		{3, "batch[3]: type must be a string, got a number"},
		{4, `batch[4]: type "teleport" is not a known call`},
		{5, "batch[5] (track): event is required"},
		{6, "batch[6] (identify): anonymousId must be a string, got a boolean"},
		{7, "batch[7]: the call is larger than 32768 bytes"},
		{10, "batch[10] (identify): userId contains the control character U+000A"},
	}
	if !doc.Success || len(doc.Errors) != len(want) {
		t.Fatalf("answer %s: want success and %d errors", r.body, len(want))
	}
	for i, w := range want {
		if got := doc.Errors[i]; got.Index != w.Index || !strings.HasPrefix(got.Reason, w.Reason) {
			t.Errorf("errors[%d] = %+v, want index %d and a reason starting %q", i, got, w.Index, w.Reason)
		}
	}
	c := h.customer("u1")
	if c.Traits["pings"] != float64(1) || c.Traits["plan"] != "team" || len(c.Instances) != 1 {
		t.Errorf("the valid calls were not all applied: traits %v, instances %+v", c.Traits, c.Instances)
	}
	if v := h.metrics().value("waymark_ingest_invalid_total", nil); v != float64(len(want)) {
		t.Errorf("waymark_ingest_invalid_total = %v, want %d", v, len(want))
	}

	// A batch whose every item is bad is still a 200: there is nothing a
	// retry could fix.
	r = h.post("/v1/batch", `{"batch":[{"type":"track"}]}`)
	if r.code != 200 || !strings.Contains(string(r.body), `"index":0`) {
		t.Errorf("all-bad batch: %d %s", r.code, r.body)
	}
	// A clean batch answers as before.
	r = h.post("/v1/batch", `{"batch":[{"type":"track","userId":"u2","event":"ping"}]}`)
	if r.code != 200 || strings.TrimSpace(string(r.body)) != `{"success":true}` {
		t.Errorf("clean batch: %d %s", r.code, r.body)
	}
}

func TestWriteKey(t *testing.T) {
	h := newHarness(t, Options{WriteKey: "wk_secret"})
	body := []byte(`{"userId":"u1","event":"signed_up"}`)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"none", nil, 401},
		{"wrong basic user", map[string]string{"Authorization": basic("wk_wrong", "")}, 401},
		{"key as the password only", map[string]string{"Authorization": basic("", "wk_secret")}, 401},
		{"prefix of the key", map[string]string{"X-Write-Key": "wk_secre"}, 401},
		{"basic user", map[string]string{"Authorization": basic("wk_secret", "")}, 200},
		{"X-Write-Key", map[string]string{"X-Write-Key": "wk_secret"}, 200},
	}
	for _, tt := range tests {
		r := h.do("POST", "/v1/track", body, tt.header)
		if r.code != tt.want {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, r.code, tt.want, r.body)
		}
		if r.code == 401 && !strings.Contains(r.errorText(t), "write key") {
			t.Errorf("%s: 401 does not say why: %s", tt.name, r.body)
		}
	}
	// Segment's third way: writeKey in the JSON body, on every ingest
	// endpoint. A key in a header is checked first and wins.
	bodyTests := []struct {
		name, path, body string
		header           map[string]string
		want             int
	}{
		{"track, body key", "/v1/track", `{"writeKey":"wk_secret","userId":"u1","event":"signed_up"}`, nil, 200},
		{"identify, body key", "/v1/identify", `{"writeKey":"wk_secret","userId":"u1","traits":{}}`, nil, 200},
		{"batch, body key", "/v1/batch", `{"writeKey":"wk_secret","batch":[{"type":"track","userId":"u1","event":"ping"}]}`, nil, 200},
		{"wrong body key", "/v1/track", `{"writeKey":"wk_wrong","userId":"u1","event":"signed_up"}`, nil, 401},
		{"body key not a string", "/v1/track", `{"writeKey":7,"userId":"u1","event":"signed_up"}`, nil, 401},
		{"no key, unparsable body", "/v1/track", `{"userId":`, nil, 401},
		{"wrong header beats a right body key", "/v1/track", `{"writeKey":"wk_secret","userId":"u1","event":"signed_up"}`, map[string]string{"X-Write-Key": "wk_wrong"}, 401},
		{"right header, body key ignored", "/v1/track", `{"writeKey":"wk_wrong","userId":"u1","event":"signed_up"}`, map[string]string{"X-Write-Key": "wk_secret"}, 200},
	}
	for _, tt := range bodyTests {
		r := h.do("POST", tt.path, []byte(tt.body), tt.header)
		if r.code != tt.want {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, r.code, tt.want, r.body)
		}
		if r.code == 401 && !strings.Contains(r.errorText(t), "write key") {
			t.Errorf("%s: 401 does not say why: %s", tt.name, r.body)
		}
	}
	// The admin API is not behind the write key.
	if r := h.get("/v1/journeys"); r.code != 200 {
		t.Errorf("GET /v1/journeys: %d", r.code)
	}
}

func TestSizeLimits(t *testing.T) {
	h := newHarness(t, Options{})
	pad := func(n int) string { return strings.Repeat("x", n) }
	call := func(n int) string {
		return fmt.Sprintf(`{"type":"track","userId":"u1","event":"e","properties":{"pad":"%s"}}`, pad(n))
	}
	// Just under the limits: accepted.
	h.mustPost("/v1/track", call(MaxEventBytes-100))
	tests := []struct {
		name, path, body, want string
	}{
		{"track over 32 KB", "/v1/track", call(MaxEventBytes), "track: the body is larger than 32768 bytes"},
		{"identify over 32 KB", "/v1/identify", call(MaxEventBytes), "identify: the body is larger than 32768 bytes"},
		{"batch over 500 KB", "/v1/batch", `{"batch":[` + strings.TrimSuffix(strings.Repeat(call(20000)+",", 30), ",") + `]}`, "batch: the body is larger than 512000 bytes"},
	}
	for _, tt := range tests {
		r := h.post(tt.path, tt.body)
		if r.code != 413 {
			t.Errorf("%s: status %d, want 413", tt.name, r.code)
			continue
		}
		if msg := r.errorText(t); msg != tt.want {
			t.Errorf("%s: error %q, want %q", tt.name, msg, tt.want)
		}
	}
	// A batch of many calls under 500 KB is fine.
	h.mustPost("/v1/batch", `{"batch":[`+strings.TrimSuffix(strings.Repeat(call(20000)+",", 20), ",")+`]}`)
}

// A messageId is handled once: repeated in one batch, and sent again in a
// later request (a client retrying a request whose answer it lost).
func TestMessageIDDedup(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up","messageId":"s1"}`)
	h.mustPost("/v1/batch", `{"batch":[
		{"type":"track","userId":"u1","event":"ping","messageId":"p1"},
		{"type":"track","userId":"u1","event":"ping","messageId":"p1"},
		{"type":"track","userId":"u1","event":"ping","messageId":"p2"}]}`)
	h.mustPost("/v1/batch", `{"batch":[
		{"type":"track","userId":"u1","event":"ping","messageId":"p2"},
		{"type":"track","userId":"u1","event":"ping","messageId":"p3"}]}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"ping","messageId":"p1"}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up","messageId":"s1"}`)
	if got := h.customer("u1").Traits["pings"]; got != float64(3) {
		t.Errorf("pings = %v, want 3 (p1, p2, p3 once each)", got)
	}
	// Without messageIds nothing is deduplicated.
	h.mustPost("/v1/track", `{"userId":"u1","event":"ping"}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"ping"}`)
	if got := h.customer("u1").Traits["pings"]; got != float64(5) {
		t.Errorf("pings = %v, want 5", got)
	}
	m := h.metrics()
	if v := m.value("waymark_ingest_duplicates_total", nil); v != 1 {
		t.Errorf("waymark_ingest_duplicates_total = %v, want 1", v)
	}
}

func TestAdminAuth(t *testing.T) {
	h := newHarness(t, Options{AdminToken: "adm_secret", WriteKey: "wk"})
	for _, path := range []string{"/v1/journeys", "/v1/customers/u1", "/v1/status", "/metrics", "/v1/dead-letters", "/v1/clock"} {
		for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer nope"}, {"Authorization": "adm_secret"}, {"Authorization": "Basic adm_secret"}, {"X-Write-Key": "wk"}} {
			if r := h.do("GET", path, nil, hdr); r.code != 401 {
				t.Errorf("GET %s with %v: %d, want 401", path, hdr, r.code)
			}
		}
	}
	if r := h.do("POST", "/v1/dead-letters/requeue", []byte(`{"keys":["k"]}`), nil); r.code != 401 {
		t.Errorf("requeue without the token: %d, want 401", r.code)
	}
	if r := h.do("POST", "/v1/clock", []byte(`{"advance":"1h"}`), nil); r.code != 401 {
		t.Errorf("clock without the token: %d, want 401", r.code)
	}
	ok := map[string]string{"Authorization": "Bearer adm_secret"}
	for _, path := range []string{"/v1/journeys", "/v1/status", "/metrics", "/v1/dead-letters"} {
		if r := h.do("GET", path, nil, ok); r.code != 200 {
			t.Errorf("GET %s with the token: %d %s", path, r.code, r.body)
		}
	}
	// The scheme is case-insensitive (RFC 9110); the token is not.
	for _, hdr := range []string{"bearer adm_secret", "BEARER adm_secret", "bEaReR   adm_secret "} {
		if r := h.do("GET", "/v1/status", nil, map[string]string{"Authorization": hdr}); r.code != 200 {
			t.Errorf("GET /v1/status with %q: %d, want 200", hdr, r.code)
		}
	}
	for _, hdr := range []string{"Bearer ADM_SECRET", "Bearer adm_secret2", "Bearer", "Bearer ", "Bearers adm_secret", "Beareradm_secret"} {
		if r := h.do("GET", "/v1/status", nil, map[string]string{"Authorization": hdr}); r.code != 401 {
			t.Errorf("GET /v1/status with %q: %d, want 401", hdr, r.code)
		}
	}
	if r := h.do("GET", "/v1/customers/nobody", nil, ok); r.code != 404 || !strings.Contains(r.errorText(t), `"nobody"`) {
		t.Errorf("GET an unknown customer: %d %s", r.code, r.body)
	}
	// The admin token is not a write key.
	if r := h.do("POST", "/v1/track", []byte(`{"userId":"u","event":"e"}`), ok); r.code != 401 {
		t.Errorf("ingest with the admin token: %d", r.code)
	}
	// Health is open.
	if r := h.get("/healthz"); r.code != 200 || !bytes.Contains(r.body, []byte(`"ok"`)) {
		t.Errorf("GET /healthz: %d %s", r.code, r.body)
	}
}

// GET /v1/customers/{id} tells the customer's story: each instance with
// its transitions and causes, and each send with its fate and delivery.
func TestCustomerHistory(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"ping"}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"ordered","properties":{"amount":30}}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`) // reentry never: refused

	c := h.customer("u1")
	if len(c.Instances) != 1 {
		t.Fatalf("instances: %+v", c.Instances)
	}
	in := c.Instances[0]
	if in.Status != "converted" || in.Cause != "goal:ordered" || in.EndedAt.IsZero() || in.Version == "" {
		t.Errorf("instance = %+v", in)
	}
	var path []string
	for _, tr := range in.History {
		path = append(path, fmt.Sprintf("%s>%s(%s)", tr.From, tr.To, tr.Cause))
	}
	want := []string{">greet(entry:signed_up)", "greet>count(goto)", "count>bump(on:ping)", "bump>count(goto)", "count>end(goal:ordered)"}
	if strings.Join(path, " ") != strings.Join(want, " ") {
		t.Errorf("history:\n got %v\nwant %v", path, want)
	}
	if len(c.Sends) != 1 {
		t.Fatalf("sends: %+v", c.Sends)
	}
	s := c.Sends[0]
	if s.Name != "hello" || s.Fate != "deliver" || s.Delivery != "pending" || s.Key == "" || s.Fields != nil {
		t.Errorf("send = %+v", s)
	}
	if r := h.get("/v1/customers/u1?fields=1"); !bytes.Contains(r.body, []byte(`"Hello, u1"`)) {
		t.Errorf("?fields=1 does not show the message: %s", r.body)
	}
	var refused bool
	for _, ev := range c.Events {
		if ev.Refusal != nil && ev.Refusal.Journey == "welcome" && ev.Refusal.Reason == "reentry" {
			refused = true
		}
	}
	if !refused {
		t.Errorf("the refused re-entry is not in the events: %+v", c.Events)
	}
}

func TestJourneysCounts(t *testing.T) {
	h := newHarness(t, Options{})
	for _, id := range []string{"a", "b", "c"} {
		h.mustPost("/v1/track", `{"userId":"`+id+`","event":"signed_up"}`)
	}
	h.mustPost("/v1/track", `{"userId":"c","event":"ordered"}`)
	var doc journeysDoc
	h.get("/v1/journeys").json(t, &doc)
	if len(doc.Journeys) != 1 {
		t.Fatalf("journeys: %+v", doc)
	}
	j := doc.Journeys[0]
	if j.Name != "welcome" || j.Version == "" || j.Active != 2 {
		t.Errorf("journey = %+v", j)
	}
	got := map[string]int{}
	for _, s := range j.Stages {
		got[s.Name] = s.Active
	}
	if len(j.Stages) != 3 || got["count"] != 2 || got["greet"] != 0 || got["bump"] != 0 {
		t.Errorf("stages = %+v", j.Stages)
	}
}

func TestStatus(t *testing.T) {
	h := newHarness(t, Options{})
	var doc struct {
		Journeys []struct{ Name, Version string }
	}
	h.get("/v1/status").json(t, &doc)
	if len(doc.Journeys) != 1 || doc.Journeys[0].Name != "welcome" {
		t.Errorf("status without a reloader: %+v", doc)
	}
	h2 := newHarness(t, Options{Status: func() any { return map[string]string{"version": "sha256:abc"} }})
	if r := h2.get("/v1/status"); !bytes.Contains(r.body, []byte(`"sha256:abc"`)) {
		t.Errorf("status: %s", r.body)
	}
}

// When the worker has stopped, ingest answers 503 with Retry-After: the
// client keeps the events and retries.
func TestUnavailableWhenTheWorkerStops(t *testing.T) {
	h := newHarness(t, Options{})
	h.stopWorker()
	r := h.post("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	if r.code != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.errorText(t), "shutting down") {
		t.Errorf("after the worker stopped: %d %v %s", r.code, r.header, r.body)
	}
}

func TestMetricsParse(t *testing.T) {
	h := newHarness(t, Options{Metrics: []prometheus.Collector{statsCollector(func(e emitter) {
		e.counter("waymark_test_total", "A \"test\" counter\nwith a line break and a \\.", 3)
		e.gauge("waymark_test_info", "Labels with awkward values.", 1, Label{"v", "a\"b\\c\nd"})
	})}})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	h.post("/v1/track", `{}`)
	h.get("/nowhere")
	m := h.metrics()
	if v := m.value("waymark_http_requests_total", map[string]string{"route": "POST /v1/track", "code": "200"}); v != 1 {
		t.Errorf("requests 200 = %v", v)
	}
	if v := m.value("waymark_http_requests_total", map[string]string{"route": "POST /v1/track", "code": "400"}); v != 1 {
		t.Errorf("requests 400 = %v", v)
	}
	if v := m.value("waymark_http_requests_total", map[string]string{"route": "unmatched", "code": "404"}); v != 1 {
		t.Errorf("requests unmatched = %v", v)
	}
	if v := m.value("waymark_ingest_events_total", map[string]string{"type": "event"}); v != 1 {
		t.Errorf("ingest events = %v", v)
	}
	if v := m.value("waymark_ingest_commit_seconds_count", nil); v != 1 {
		t.Errorf("commit histogram count = %v", v)
	}
	if v := m.value("waymark_test_info", map[string]string{"v": "a\"b\\c\nd"}); v != 1 {
		t.Errorf("escaped label = %v", v)
	}
	if f := m["waymark_test_total"]; f == nil || f.help != `A "test" counter\nwith a line break and a \\.` {
		t.Errorf("help = %+v", f)
	}
}

type promSet map[string]*promFamily

func (h *harness) metrics() promSet {
	h.t.Helper()
	r := h.get("/metrics")
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		h.t.Fatalf("GET /metrics: %d %v", r.code, r.header)
	}
	fams, err := parsePromText(bytes.NewReader(r.body))
	if err != nil {
		h.t.Fatalf("/metrics is not valid Prometheus text: %v\n%s", err, r.body)
	}
	return fams
}

// value returns the value of the series name with exactly labels, or -1.
func (m promSet) value(name string, labels map[string]string) float64 {
	for _, f := range m {
		for _, s := range f.series {
			if s.name == name && canonicalLabels(s.labels) == canonicalLabels(labels) {
				return s.value
			}
		}
	}
	return -1
}

// The collectors of the other components write valid exposition too.
func TestCollectorsParse(t *testing.T) {
	hist := worker.Histogram{Bounds: worker.LatencyBounds, Counts: make([]uint64, len(worker.LatencyBounds)), Count: 3, Sum: 0.5}
	for i := range hist.Counts {
		hist.Counts[i] = min(uint64(i), 2)
	}
	var h *harness
	h = newHarness(t, Options{Metrics: []prometheus.Collector{
		WorkerMetrics(func() worker.Stats { return h.w.Stats() }),
		SchedulerMetrics(func() sched.Stats { return sched.Stats{Fired: 4, Lag: hist} }),
		DispatcherMetrics(func() deliver.Stats {
			return deliver.Stats{Delivered: 2, Channels: map[string]deliver.ChannelStats{"sms": {Delivered: 1}, "email": {Delivered: 1, Seconds: 0.25}}}
		}),
		ReloadMetrics(func() reload.Status {
			return reload.Status{Version: "sha256:0123", Reloads: 2, Refused: &reload.Refused{}, LastReload: time.Now()}
		}),
	}})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	m := h.metrics()
	for name, want := range map[string]float64{
		"waymark_worker_inputs_total":     1,
		"waymark_worker_batches_total":    1,
		"waymark_sched_fired_total":       4,
		"waymark_sched_lag_seconds_count": 3,
		"waymark_deliver_delivered_total": 2,
		"waymark_reload_swaps_total":      2,
		"waymark_reload_refused":          1,
	} {
		if got := m.value(name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := m.value("waymark_deliver_channel_seconds_total", map[string]string{"channel": "email"}); got != 0.25 {
		t.Errorf("email seconds = %v", got)
	}
	if got := m.value("waymark_program_info", map[string]string{"version": "sha256:0123"}); got != 1 {
		t.Errorf("program info = %v", got)
	}
}

// Customer ids are path segments: any id works once escaped.
func TestCustomerIDEscaped(t *testing.T) {
	h := newHarness(t, Options{})
	id := "li@example.com/a b?c#d"
	h.mustPost("/v1/track", `{"userId":"`+id+`","event":"signed_up"}`)
	if c := h.customer(url.PathEscape(id)); c.ID != id || len(c.Instances) != 1 {
		t.Errorf("customer %q: %+v", id, c)
	}
}

// Message ids older than the window are forgotten: the same id is then a
// new event.
func TestPruneMessages(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up","messageId":"old"}`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); PruneMessages(ctx, h.st, 0, time.Hour, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen, err := h.st.SeenMessages(context.Background(), []string{store.DedupKey("old")})
		if err != nil {
			t.Fatal(err)
		}
		if !seen[store.DedupKey("old")] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message id was not pruned")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// The dead-letter queue over HTTP: a send delivery gave up on shows on the
// customer (delivery "dead", attempts, last error) and in
// GET /v1/dead-letters, page by page; POST /v1/dead-letters/requeue makes
// it deliverable again under the same key.
func TestDeadLetters(t *testing.T) {
	requeued := 0
	h := newHarness(t, Options{Requeued: func() { requeued++ }})
	keys := h.deadLetters(10, "webhook https://hooks.example: 410 Gone", "u1", "u2")
	ctx := context.Background()

	// The raw documents, key by key: these names are the API.
	var raw struct {
		DeadLetters []map[string]json.RawMessage `json:"dead_letters"`
		Next        string                       `json:"next"`
	}
	r := h.get("/v1/dead-letters?limit=1")
	if r.code != 200 {
		t.Fatalf("GET /v1/dead-letters: %d %s", r.code, r.body)
	}
	r.json(t, &raw)
	if len(raw.DeadLetters) != 1 || raw.Next == "" {
		t.Fatalf("first page: %s", r.body)
	}
	d := raw.DeadLetters[0]
	for _, k := range []string{"send", "customer", "attempts", "last_error", "dead_at"} {
		if _, ok := d[k]; !ok {
			t.Errorf("a dead letter has no %q: %s", k, r.body)
		}
	}
	if string(d["attempts"]) != "10" || string(d["last_error"]) != `"webhook https://hooks.example: 410 Gone"` {
		t.Errorf("attempts %s, last_error %s", d["attempts"], d["last_error"])
	}
	var typed deadLettersDoc
	r.json(t, &typed)
	first := typed.DeadLetters[0]
	if first.Send.Key != keys[0] || first.Send.Name != "hello" || first.Send.Journey != "welcome" || first.Send.Fields != nil {
		t.Errorf("first dead letter: %+v", first)
	}
	var page deadLettersDoc
	h.get("/v1/dead-letters?limit=1&after="+url.QueryEscape(raw.Next)).json(t, &page)
	if len(page.DeadLetters) != 1 || page.DeadLetters[0].Send.Key != keys[1] {
		t.Errorf("second page: %+v", page)
	}
	if r := h.get("/v1/dead-letters?fields=1"); !bytes.Contains(r.body, []byte(`"Hello, u`)) {
		t.Errorf("?fields=1 does not show the message: %s", r.body)
	}

	// The customer's view says the same.
	owner := strings.SplitN(keys[0], "/", 2)[0]
	r = h.get("/v1/customers/" + owner)
	var cust struct {
		Sends []map[string]json.RawMessage `json:"sends"`
	}
	r.json(t, &cust)
	if len(cust.Sends) != 1 || string(cust.Sends[0]["delivery"]) != `"dead"` || string(cust.Sends[0]["attempts"]) != "10" ||
		!strings.Contains(string(cust.Sends[0]["last_error"]), "410 Gone") {
		t.Errorf("the customer's sends do not show the dead letter: %s", r.body)
	}

	// Requeue one known key and one unknown.
	r = h.post("/v1/dead-letters/requeue", `{"keys":["`+keys[0]+`","no/such/key"]}`)
	var rq requeueDoc
	r.json(t, &rq)
	if r.code != 200 || len(rq.Requeued) != 1 || rq.Requeued[0] != keys[0] || len(rq.NotFound) != 1 || rq.NotFound[0] != "no/such/key" {
		t.Errorf("requeue: %d %s", r.code, r.body)
	}
	if requeued != 1 {
		t.Errorf("Options.Requeued called %d times, want 1", requeued)
	}
	var rest deadLettersDoc
	h.get("/v1/dead-letters").json(t, &rest)
	if len(rest.DeadLetters) != 1 || rest.DeadLetters[0].Send.Key != keys[1] || rest.Next != "" {
		t.Errorf("after the requeue: %+v", rest)
	}
	items, err := h.st.ClaimOutbox(ctx, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(items) != 1 || items[0].Send.Key != keys[0] || items[0].Attempt != 0 {
		t.Errorf("claim after the requeue: %v %+v", err, items)
	}

	for _, tc := range []struct{ method, path, body, want string }{
		{"GET", "/v1/dead-letters?limit=0", "", "limit"},
		{"GET", "/v1/dead-letters?limit=x", "", "limit"},
		{"POST", "/v1/dead-letters/requeue", `{}`, "keys is required"},
		{"POST", "/v1/dead-letters/requeue", `["k"]`, "JSON object"},
		{"POST", "/v1/dead-letters/requeue", ``, "JSON object"},
	} {
		r := h.do(tc.method, tc.path, []byte(tc.body), nil)
		if r.code != 400 || !strings.Contains(r.errorText(t), tc.want) {
			t.Errorf("%s %s %s: %d %s, want 400 naming %q", tc.method, tc.path, tc.body, r.code, r.body, tc.want)
		}
	}
}

// Content-Encoding: gzip bodies are taken, with the limits applied to the
// decompressed body (a bomb is a 413); other encodings are a 415.
func TestGzipBodies(t *testing.T) {
	h := newHarness(t, Options{})
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	enc := func(e string) map[string]string { return map[string]string{"Content-Encoding": e} }

	r := h.do("POST", "/v1/batch", gz(`{"batch":[{"type":"track","userId":"z1","event":"signed_up","messageId":"gz-1"}]}`), enc("gzip"))
	if r.code != 200 {
		t.Fatalf("gzip batch: %d %s", r.code, r.body)
	}
	if c := h.customer("z1"); len(c.Instances) != 1 {
		t.Errorf("the gzip event was not applied: %+v", c)
	}

	// 10 MB of zeros compress to about 10 KB: under the limit on the wire,
	// far over it decompressed.
	bomb := gz(`{"userId":"z2","event":"signed_up","properties":{"pad":"` + strings.Repeat("0", 10<<20) + `"}}`)
	if len(bomb) > MaxEventBytes {
		t.Fatalf("the bomb is %d bytes compressed: not a bomb", len(bomb))
	}
	for _, tc := range []struct {
		name, path string
		body       []byte
		header     map[string]string
		code       int
		want       string
	}{
		{"bomb", "/v1/track", bomb, enc("gzip"), 413, "track: the body is larger than 32768 bytes once decompressed"},
		{"not gzip", "/v1/track", []byte(`{"userId":"z3","event":"signed_up"}`), enc("gzip"), 400, "track: reading the body"},
		{"truncated", "/v1/track", gz(`{"userId":"z3","event":"signed_up"}`)[:20], enc("gzip"), 400, "track: reading the body"},
		{"brotli", "/v1/track", []byte(`{}`), enc("br"), 415, `track: Content-Encoding "br" is not supported`},
	} {
		r := h.do("POST", tc.path, tc.body, tc.header)
		if r.code != tc.code || !strings.Contains(r.errorText(t), tc.want) {
			t.Errorf("%s: %d %s, want %d %q", tc.name, r.code, r.body, tc.code, tc.want)
		}
	}
	if r := h.get("/v1/customers/z3"); r.code != 404 {
		t.Errorf("a refused body created its customer: %d", r.code)
	}
}

// The documents' member names are the API (the issue names them): checked
// on the raw JSON, since decoding into the structs that wrote it would not
// notice a renamed tag.
func TestAdminDocumentNames(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/identify", `{"userId":"n1","traits":{"plan":"pro"}}`)
	h.mustPost("/v1/track", `{"userId":"n1","event":"signed_up"}`)
	h.mustPost("/v1/track", `{"userId":"n1","event":"ordered"}`)
	h.mustPost("/v1/track", `{"userId":"n1","event":"signed_up"}`) // refused: events

	type obj = map[string]json.RawMessage
	decode := func(data []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
	}
	has := func(where string, o obj, names ...string) {
		t.Helper()
		for _, n := range names {
			if _, ok := o[n]; !ok {
				t.Errorf("%s has no %q: %v", where, n, slices.Sorted(maps.Keys(o)))
			}
		}
	}
	var c obj
	decode(h.get("/v1/customers/n1").body, &c)
	has("the customer", c, "id", "traits", "instances", "held", "sends", "events")
	var instances, sends, history []obj
	decode(c["instances"], &instances)
	decode(c["sends"], &sends)
	if len(instances) != 1 || len(sends) != 1 {
		t.Fatalf("instances %s, sends %s", c["instances"], c["sends"])
	}
	in := instances[0]
	has("an instance", in, "id", "journey", "version", "stage", "status", "cause", "entered_at", "ended_at", "history")
	if string(in["status"]) != `"converted"` {
		t.Errorf("status %s, want \"converted\"", in["status"])
	}
	decode(in["history"], &history)
	if len(history) == 0 {
		t.Fatal("no history")
	}
	has("a history entry", history[0], "from", "to", "cause", "status", "version", "at")
	has("a send", sends[0], "key", "journey", "instance", "stage", "name", "channel", "fate", "at", "delivery")

	var j struct {
		Journeys []obj `json:"journeys"`
	}
	decode(h.get("/v1/journeys").body, &j)
	if len(j.Journeys) != 1 {
		t.Fatalf("journeys: %+v", j)
	}
	has("a journey", j.Journeys[0], "name", "version", "active", "stages")
}

// PruneHistory forgets what is older than the retention on its first pass,
// and with retention 0 returns at once, keeping everything.
func TestPruneHistoryLoop(t *testing.T) {
	h := newHarness(t, Options{})
	now := time.Now().UTC()
	tr := func(id string, at time.Time) store.CustomerWrite {
		return store.CustomerWrite{State: &engine.Customer{ID: id}, Results: []engine.Result{{Transitions: []engine.Transition{
			{Instance: id + "/welcome/1", Journey: "welcome", Version: "v", To: "greet", Cause: "entry:signed_up", Status: "active", At: at}}}}}
	}
	ctx := context.Background()
	if err := h.st.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{tr("old", now.Add(-48*time.Hour)), tr("new", now)}}); err != nil {
		t.Fatal(err)
	}
	count := func(id string) int {
		ts, err := h.st.Transitions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	PruneHistory(ctx, h.st, 0, time.Millisecond, nil) // returns: nothing to do
	if count("old") != 1 {
		t.Fatal("retention 0 pruned")
	}
	loopCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); PruneHistory(loopCtx, h.st, 24*time.Hour, time.Hour, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for count("old") != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if count("old") != 0 || count("new") != 1 {
		t.Errorf("after a pass with 24h retention: old %d, new %d transitions; want 0, 1", count("old"), count("new"))
	}
}

// /healthz probes the store: a closed store is a 503 that names the part,
// never the error text (the endpoint is open).
func TestHealthProbesTheStore(t *testing.T) {
	h := newHarness(t, Options{})
	if r := h.get("/healthz"); r.code != 200 {
		t.Fatalf("GET /healthz: %d %s", r.code, r.body)
	}
	h.stopWorker()
	if err := h.st.Close(); err != nil {
		t.Fatal(err)
	}
	r := h.get("/healthz")
	if r.code != 503 || string(bytes.TrimSpace(r.body)) != `{"failing":"store","status":"unavailable"}` {
		t.Errorf("GET /healthz with the store closed: %d %s", r.code, r.body)
	}
}

// failingQueue fails Requeue on one key, as a store that lost its disk
// half way through a request would.
type failingQueue struct {
	*sqlite.Store
	failOn string
}

func (q failingQueue) Requeue(ctx context.Context, key string, at time.Time) error {
	if key == q.failOn {
		return errors.New("disk I/O error")
	}
	return q.Store.Requeue(ctx, key, at)
}

// A requeue that fails part way says which keys were requeued before the
// failure, and the dispatcher is told of them; ?fields=0 shows no fields.
func TestRequeuePartialFailureAndFieldsFlag(t *testing.T) {
	h := newHarness(t, Options{})
	keys := h.deadLetters(1, "gone", "p1", "p2")
	for _, path := range []string{"/v1/dead-letters?fields=0", "/v1/customers/p1?fields=0", "/v1/dead-letters?fields=no"} {
		if r := h.get(path); r.code != 200 || bytes.Contains(r.body, []byte(`"fields"`)) {
			t.Errorf("GET %s: %d, shows fields: %s", path, r.code, r.body)
		}
	}

	notified := 0
	srv := New(failingQueue{h.st, keys[1]}, h.w, Options{Logger: discardLogger(), Requeued: func() { notified++ }})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/dead-letters/requeue", strings.NewReader(`{"keys":["`+keys[0]+`","`+keys[1]+`"]}`)))
	var got struct {
		Error    string   `json:"error"`
		Requeued []string `json:"requeued"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 503 || len(got.Requeued) != 1 || got.Requeued[0] != keys[0] || !strings.Contains(got.Error, "requeue of \""+keys[1]+"\" failed") {
		t.Errorf("partial requeue: %d %s", rec.Code, rec.Body)
	}
	if notified != 1 {
		t.Errorf("Requeued called %d times, want 1", notified)
	}
}

// deadLetters signs each customer up (the welcome journey sends at once),
// claims their sends and makes them dead after attempts attempts with
// lastError, and returns their keys in order.
func (h *harness) deadLetters(attempts int, lastError string, ids ...string) []string {
	h.t.Helper()
	ctx := context.Background()
	var keys []string
	for _, id := range ids {
		h.mustPost("/v1/track", `{"userId":"`+id+`","event":"signed_up"}`)
		items, err := h.st.ClaimOutbox(ctx, time.Now().Add(time.Second), time.Minute, 1)
		if err != nil || len(items) != 1 || !strings.HasPrefix(items[0].Send.Key, id+"/") {
			h.t.Fatalf("claim of %s's send: %v %+v", id, err, items)
		}
		if err := h.st.Dead(ctx, items[0].Send.Key, attempts, time.Now(), lastError); err != nil {
			h.t.Fatal(err)
		}
		keys = append(keys, items[0].Send.Key)
	}
	slices.Sort(keys)
	return keys
}

// Dead letters filtered by journey, channel and error text, and requeued
// by a filter: only the matching ones move.
func TestDeadLetterFilters(t *testing.T) {
	h := newHarness(t, Options{})
	mailbox := h.deadLetters(3, "smtp: 550 Mailbox unavailable", "a1", "a2", "a3")
	gone := h.deadLetters(5, "webhook https://hooks.example: 410 Gone", "b1")
	keysOf := func(path string) ([]string, string) {
		t.Helper()
		r := h.get(path)
		if r.code != 200 {
			t.Fatalf("GET %s: %d %s", path, r.code, r.body)
		}
		var doc deadLettersDoc
		r.json(t, &doc)
		var ks []string
		for _, d := range doc.DeadLetters {
			ks = append(ks, d.Send.Key)
		}
		return ks, doc.Next
	}
	all := append(slices.Clone(mailbox), gone...)
	slices.Sort(all)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"error=mailbox", mailbox}, // ignoring case
		{"error=410+gone", gone},
		{"error=nothing+like+it", nil},
		{"journey=welcome", all},
		{"journey=other", nil},
		{"channel=log&error=550", mailbox},
		{"channel=email", nil},
	} {
		got, next := keysOf("/v1/dead-letters?" + tc.query)
		if !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("?%s: %v (next %q), want %v", tc.query, got, next, tc.want)
		}
	}
	// Pages of a filtered list: the cursor is the last key given.
	got, next := keysOf("/v1/dead-letters?error=mailbox&limit=2")
	if !slices.Equal(got, mailbox[:2]) || next != mailbox[1] {
		t.Fatalf("first filtered page: %v next %q", got, next)
	}
	got, next = keysOf("/v1/dead-letters?error=mailbox&limit=2&after=" + url.QueryEscape(next))
	if !slices.Equal(got, mailbox[2:]) || next != "" {
		t.Fatalf("second filtered page: %v next %q", got, next)
	}

	for _, tc := range []struct{ body, want string }{
		{`{"filter":{}}`, "name a journey"},
		{`{"filter":{"all":true,"error":"x"}}`, "name a journey"},
		{`{"filter":{"error":"x"},"keys":["k"]}`, "not both"},
		{`{"filter":{"error":1}}`, "JSON object"},
	} {
		r := h.post("/v1/dead-letters/requeue", tc.body)
		if r.code != 400 || !strings.Contains(r.errorText(t), tc.want) {
			t.Errorf("requeue %s: %d %s, want 400 naming %q", tc.body, r.code, r.body, tc.want)
		}
	}

	r := h.post("/v1/dead-letters/requeue", `{"filter":{"error":"MAILBOX","channel":"log"}}`)
	var rq requeueDoc
	r.json(t, &rq)
	if r.code != 200 || !slices.Equal(rq.Requeued, mailbox) || len(rq.NotFound) != 0 {
		t.Fatalf("requeue by filter: %d %s", r.code, r.body)
	}
	if left, _ := keysOf("/v1/dead-letters"); !slices.Equal(left, gone) {
		t.Errorf("left after the requeue: %v, want %v", left, gone)
	}
	r = h.post("/v1/dead-letters/requeue", `{"filter":{"error":"mailbox"}}`)
	r.json(t, &rq)
	if r.code != 200 || len(rq.Requeued) != 0 {
		t.Errorf("a second requeue by the same filter: %d %s", r.code, r.body)
	}
	r = h.post("/v1/dead-letters/requeue", `{"filter":{"all":true}}`)
	r.json(t, &rq)
	if r.code != 200 || !slices.Equal(rq.Requeued, gone) {
		t.Errorf("requeue of all: %d %s", r.code, r.body)
	}
}

// A filtered read stops after deadScanBudget items and hands back a cursor,
// so a filter matching nothing in a large queue still answers quickly.
func TestDeadLetterFilterBudget(t *testing.T) {
	h := newHarness(t, Options{})
	keys := h.deadLetters(1, "boom", "c1", "c2", "c3", "c4", "c5")
	f := deadFilter{Error: "no such error"}
	ds, next, err := f.page(context.Background(), h.st, "", 10, 2)
	if err != nil || len(ds) != 0 || next != keys[1] {
		t.Fatalf("page with a budget of 2: %v %v next %q, want none and next %q", err, ds, next, keys[1])
	}
	ds, next, err = f.page(context.Background(), h.st, keys[3], 10, 2)
	if err != nil || len(ds) != 0 || next != "" {
		t.Fatalf("the last page: %v %v next %q, want the end", err, ds, next)
	}
}

// A journey that pins: /v1/journeys shows each version with active
// instances, the running one first, and which earlier ones run pinned.
func TestJourneysPinnedVersions(t *testing.T) {
	h := newHarness(t, Options{})
	for _, id := range []string{"a", "b"} {
		h.mustPost("/v1/track", `{"userId":"`+id+`","event":"signed_up"}`)
	}
	v1 := h.w.Engine().Program()
	v2 := *v1
	v2.Journeys = slices.Clone(v1.Journeys)
	j := &v2.Journeys[0]
	j.Description, j.InFlight = "pinned from now on", ir.InFlightPin
	j.Version = ir.Hash(j)
	eng, err := engine.New(&v2, engine.Options{Versions: []*ir.Program{v1}})
	if err != nil {
		t.Fatal(err)
	}
	h.w.Swap(eng)
	h.mustPost("/v1/track", `{"userId":"c","event":"signed_up"}`)
	h.mustPost("/v1/track", `{"userId":"a","event":"ping"}`) // a steps on v2's engine, and stays on v1

	var doc journeysDoc
	h.get("/v1/journeys").json(t, &doc)
	if len(doc.Journeys) != 1 {
		t.Fatalf("journeys: %+v", doc)
	}
	got := doc.Journeys[0]
	want := []versionDoc{{Version: j.Version, Active: 1, Current: true}, {Version: v1.Journeys[0].Version, Active: 2, Pinned: true}}
	if got.InFlight != ir.InFlightPin || got.Active != 3 || !slices.Equal(got.Versions, want) {
		t.Errorf("journey: in_flight %q, active %d, versions %+v; want pin, 3, %+v", got.InFlight, got.Active, got.Versions, want)
	}
}

// GET /v1/cluster: 404 on a server of one node; otherwise what Cluster
// returns, or 503 when it cannot read it.
func TestCluster(t *testing.T) {
	h := newHarness(t, Options{})
	if r := h.get("/v1/cluster"); r.code != 404 || !strings.Contains(r.errorText(t), "not part of a cluster") {
		t.Errorf("without a cluster: %d %s", r.code, r.body)
	}
	h2 := newHarness(t, Options{Cluster: func(context.Context) (any, error) { return map[string]int{"shard_count": 64}, nil }})
	if r := h2.get("/v1/cluster"); r.code != 200 || !bytes.Contains(r.body, []byte(`"shard_count":64`)) {
		t.Errorf("with a cluster: %d %s", r.code, r.body)
	}
	h3 := newHarness(t, Options{Cluster: func(context.Context) (any, error) { return nil, errors.New("connection refused") }})
	if r := h3.get("/v1/cluster"); r.code != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("when the database does not answer: %d %s", r.code, r.body)
	}
}

// Values nested deeper than MaxNesting are refused, naming the field: one
// nested 9,997 deep was accepted, and then the store could not decode the
// customer (encoding/json stops at 10,000 levels), so reading it and every
// customer list answered 503. MaxNesting levels are still kept.
func TestDeepValuesAreRefusedAndKeepCustomersReadable(t *testing.T) {
	h := newHarness(t, Options{})
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		path, body, want string
	}{
		{"/v1/identify", `{"userId":"u1","traits":{"d":` + nest(9997) + `}}`, "identify: traits.d[0][0]"},
		{"/v1/track", `{"userId":"u1","event":"e","properties":{"a":{"d":` + nest(MaxNesting) + `}}}`, "track: properties.a.d[0]"},
	}
	for _, tt := range tests {
		r := h.post(tt.path, tt.body)
		if r.code != 400 {
			t.Errorf("POST %s nested: status %d, want 400 (%.200s)", tt.path, r.code, r.body)
			continue
		}
		if msg := r.errorText(t); !strings.HasPrefix(msg, tt.want) || !strings.Contains(msg, fmt.Sprintf("nested deeper than %d levels", MaxNesting)) {
			t.Errorf("POST %s nested: error %q, want %q… nested deeper than %d levels", tt.path, msg, tt.want, MaxNesting)
		}
	}
	if r := h.post("/v1/identify", `{"userId":"u1","traits":{"d":`+nest(MaxNesting-1)+`}}`); r.code != 200 {
		t.Fatalf("identify nested %d levels: %d %s", MaxNesting, r.code, r.body)
	}
	for _, p := range []string{"/v1/customers/u1", "/v1/customers?"} {
		if r := h.get(p); r.code != 200 || !strings.Contains(string(r.body), nest(MaxNesting-1)) {
			t.Errorf("GET %s: %d %.200s", p, r.code, r.body)
		}
	}
}
