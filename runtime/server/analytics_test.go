package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// The welcome journey of testdata/ws on a manual clock: u1 orders
// (converted), u2 pings once (count → bump → count) and u3 does nothing;
// 30 days later both complete. The analytics come from the records the
// SQLite store kept, through the real server.
func TestJourneyAnalytics(t *testing.T) { forEachAnalyticsStore(t, testJourneyAnalytics) }

func testJourneyAnalytics(t *testing.T, kind harnessOption, tallies bool) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	h := newHarness(t, Options{AdminToken: "s3cret"}, withManualClock(start), kind)
	admin := map[string]string{"Authorization": "Bearer s3cret"}
	for _, ev := range []string{
		`{"userId":"u1","event":"signed_up"}`, `{"userId":"u2","event":"signed_up"}`, `{"userId":"u3","event":"signed_up"}`,
		`{"userId":"u1","event":"ordered","properties":{"amount":5}}`, `{"userId":"u2","event":"ping"}`,
	} {
		if r := h.do("POST", "/v1/track", []byte(ev), nil); r.code != 200 {
			t.Fatalf("track %s: %d %s", ev, r.code, r.body)
		}
	}
	if r := h.do("POST", "/v1/clock", []byte(`{"advance":"31d"}`), admin); r.code != 200 {
		t.Fatalf("advance: %d %s", r.code, r.body)
	}

	r := h.do("GET", "/v1/journeys/welcome/analytics", nil, admin)
	var doc analytics.Analytics
	r.json(t, &doc)
	if r.code != 200 {
		t.Fatalf("analytics: %d %s", r.code, r.body)
	}
	if doc.Entered != 3 || doc.Converted != 1 || doc.Completed != 2 || doc.Active != 0 || doc.Exited != 0 {
		t.Errorf("totals: entered %d converted %d completed %d active %d exited %d, want 3 1 2 0 0",
			doc.Entered, doc.Converted, doc.Completed, doc.Active, doc.Exited)
	}
	entered := map[string]int{}
	for _, s := range doc.Stages {
		entered[s.Name] = s.Entered
		if s.Name == "count" && (s.Leaked != 2 || s.Leakage != 2.0/3) {
			t.Errorf("count: leaked %d (%v), want 2 of 3", s.Leaked, s.Leakage)
		}
	}
	if want := map[string]int{"greet": 3, "count": 4, "bump": 1}; !reflect.DeepEqual(entered, want) {
		t.Errorf("stage entries %v, want %v", entered, want)
	}
	wantEdges := []analytics.Edge{{From: "greet", To: "count", Count: 3},
		{From: "count", To: "bump", Count: 1}, {From: "count", To: "end", Count: 2}, {From: "count", To: "goal:ordered", Count: 1},
		{From: "bump", To: "count", Count: 1}}
	if !reflect.DeepEqual(doc.Edges, wantEdges) {
		t.Errorf("edges %+v, want %+v", doc.Edges, wantEdges)
	}
	if len(doc.Goals) != 1 || doc.Goals[0].Conversions != 1 || doc.Goals[0].Rate != 1.0/3 {
		t.Errorf("goals %+v, want ordered 1 of 3", doc.Goals)
	}
	if len(doc.Sends) != 1 || doc.Sends[0].Name != "hello" || doc.Sends[0].Fates["deliver"] != 3 {
		t.Errorf("sends %+v, want hello deliver 3", doc.Sends)
	}

	// A range that starts after everyone entered holds nobody.
	r = h.do("GET", "/v1/journeys/welcome/analytics?since="+url.QueryEscape(start.Add(time.Hour).Format(time.RFC3339)), nil, admin)
	doc = analytics.Analytics{}
	r.json(t, &doc)
	if r.code != 200 || doc.Entered != 0 || doc.Edges == nil || len(doc.Edges) != 0 {
		t.Errorf("a later range: %d %s", r.code, r.body)
	}

	// A range inside an hour: the tallies answer for the instances that
	// entered in its whole hours (the document says which), the records
	// for those that entered in the range itself.
	r = h.do("GET", "/v1/journeys/welcome/analytics?since="+url.QueryEscape(start.Add(30*time.Minute).Format(time.RFC3339))+
		"&until="+url.QueryEscape(start.Add(90*time.Minute).Format(time.RFC3339)), nil, admin)
	doc = analytics.Analytics{}
	r.json(t, &doc)
	wantSince, wantUntil, wantEntered := start.Add(30*time.Minute), start.Add(90*time.Minute), 0
	if tallies {
		wantSince, wantUntil, wantEntered = start, start.Add(2*time.Hour), 3
	}
	if r.code != 200 || !doc.Since.Equal(wantSince) || !doc.Until.Equal(wantUntil) || doc.Entered != wantEntered {
		t.Errorf("[10:30, 11:30): %d since %v until %v entered %d, want %v %v %d", r.code, doc.Since, doc.Until, doc.Entered, wantSince, wantUntil, wantEntered)
	}

	r = h.do("GET", "/v1/journeys/welcome/paths?steps=5", nil, admin)
	var paths analytics.Paths
	r.json(t, &paths)
	if r.code != 200 {
		t.Fatalf("paths: %d %s", r.code, r.body)
	}
	got := map[string]int{}
	for _, l := range paths.Links {
		got[l.Source+">"+l.Target] = l.Value
	}
	want := map[string]int{"0_greet>1_count": 3, "1_count>2_goal:ordered": 1, "1_count>2_bump": 1, "1_count>2_end": 1,
		"2_bump>3_count": 1, "3_count>4_end": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths links %v, want %v", got, want)
	}

	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{"/v1/journeys/nope/analytics", 404, `no journey "nope"`},
		{"/v1/journeys/welcome/analytics?since=yesterday", 400, `since: "yesterday" is not an RFC 3339 time`},
		{"/v1/journeys/welcome/analytics?since=2026-03-02T10:00:00Z&until=2026-03-02T10:00:00Z", 400, "since must be before until"},
		{"/v1/journeys/welcome/paths?steps=0", 400, "steps: \"0\" is not a number from 1 to 20"},
		{"/v1/journeys/welcome/paths?steps=x", 400, "steps: \"x\" is not a number"},
	} {
		r := h.do("GET", tt.path, nil, admin)
		if r.code != tt.code || !strings.Contains(r.errorText(t), tt.want) {
			t.Errorf("GET %s: %d %s, want %d with %q", tt.path, r.code, r.body, tt.code, tt.want)
		}
	}
	for _, p := range []string{"/v1/journeys/welcome/analytics", "/v1/journeys/welcome/paths"} {
		if r := h.do("GET", p, nil, nil); r.code != 401 {
			t.Errorf("GET %s without the token: %d, want 401", p, r.code)
		}
	}
}

// The bill-reminder example (examples/bill_reminders) shows leakage per
// channel path: customers with the app go statement → due_soon →
// due_soon_app, the others → due_soon_web → last_call_ivr. Of two app
// customers one pays after the push; of three web customers one pays
// after the email, and the two left are called and then get the overdue
// notice, completing without paying.
func TestBillReminderLeakageByChannel(t *testing.T) {
	forEachAnalyticsStore(t, testBillReminderLeakageByChannel)
}

func testBillReminderLeakageByChannel(t *testing.T, kind harnessOption, _ bool) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	h := newHarness(t, Options{}, withManualClock(start), func(c *harnessConfig) { c.ws = "../../../examples/bill_reminders" }, kind)
	for _, c := range []struct {
		id  string
		app bool
	}{{"a1", true}, {"a2", true}, {"w1", false}, {"w2", false}, {"w3", false}} {
		h.mustPost("/v1/identify", `{"userId":"`+c.id+`","traits":{"email":"`+c.id+`@example.com","phone":"+447700900101","app_installed":`+strconv.FormatBool(c.app)+`,"autopay":false,"needs_agent":false}}`)
		h.mustPost("/v1/track", `{"userId":"`+c.id+`","event":"bill_issued","properties":{"bill_id":"b-`+c.id+`","product":"credit_card","amount_due":100,"minimum_due":25,"due_date":"2026-03-20T17:00:00Z"}}`)
	}
	admin := map[string]string{}
	if r := h.do("POST", "/v1/clock", []byte(`{"to":"2026-03-18T12:00:00Z"}`), admin); r.code != 200 {
		t.Fatalf("advance: %d %s", r.code, r.body)
	}
	for _, id := range []string{"a1", "w1"} {
		h.mustPost("/v1/track", `{"userId":"`+id+`","event":"bill_paid","properties":{"bill_id":"b-`+id+`","amount":100,"paid_via":"app"}}`)
	}
	if r := h.do("POST", "/v1/clock", []byte(`{"to":"2026-04-15T12:00:00Z"}`), admin); r.code != 200 {
		t.Fatalf("advance: %d %s", r.code, r.body)
	}
	r := h.do("GET", "/v1/journeys/card_bill_reminder/analytics", nil, admin)
	var doc analytics.Analytics
	r.json(t, &doc)
	if r.code != 200 || doc.Entered != 5 || doc.Converted != 2 || doc.Completed != 3 {
		t.Fatalf("analytics: %d entered %d converted %d completed %d: %s", r.code, doc.Entered, doc.Converted, doc.Completed, r.body)
	}
	leak := map[string]string{}
	for _, s := range doc.Stages {
		if s.Entered > 0 {
			leak[s.Name] = fmt.Sprintf("%d/%d", s.Leaked, s.Entered)
		}
	}
	want := map[string]string{"statement": "3/5", "due_soon": "3/5", "due_soon_app": "1/2", "due_soon_web": "2/3",
		"last_call_app": "1/1", "last_call_ivr": "2/2", "overdue": "3/3", "overdue_notice": "3/3"}
	if !reflect.DeepEqual(leak, want) {
		t.Errorf("leaked/entered by stage %v, want %v", leak, want)
	}
	// The designed map stands beside the measured figures.
	touch := map[string]string{}
	for _, s := range doc.Stages {
		if s.Map != nil {
			touch[s.Name] = s.Map.Touchpoint
		}
	}
	if want := map[string]string{"due_soon_app": "app push", "last_call_ivr": "IVR call"}; !reflect.DeepEqual(touch, want) || doc.Persona == "" {
		t.Errorf("persona %q, touchpoints by stage %v, want a persona and %v", doc.Persona, touch, want)
	}
}

// The win-back example's NPS metric through the API: a response is scored
// in the stage the customer was in when it answered. w1, w2, w3 answer in
// the survey (9, 10, 3: 2 promoters and 1 detractor of 3 → 33.3), w4
// answers early, still in the offer (8: passive → 0); all four → 25. A
// customer in no journey answers too (0): stored, but in no journey's
// report. A range starting after everyone entered has no responses.
func TestWinbackNPSByStage(t *testing.T) { forEachAnalyticsStore(t, testWinbackNPSByStage) }

func testWinbackNPSByStage(t *testing.T, kind harnessOption, _ bool) {
	start := time.Date(2026, 4, 6, 14, 0, 0, 0, time.UTC)
	h := newHarness(t, Options{}, withManualClock(start), withWorkspace("../../../examples/winback"), kind)
	admin := map[string]string{}
	for _, id := range []string{"w1", "w2", "w3", "w4"} {
		h.mustPost("/v1/identify", `{"userId":"`+id+`","traits":{"email":"`+id+`@example.com","first_name":"Sam","timezone":"America/New_York","lifetime_orders":3,"favourite_roast":"Kettle House Blend"}}`)
		h.mustPost("/v1/track", `{"userId":"`+id+`","event":"customer_lapsed","properties":{"days_inactive":45,"last_order_id":"CK-1","last_order_total":30}}`)
	}
	h.mustPost("/v1/track", `{"userId":"w4","event":"nps_submitted","properties":{"score":8,"comment":"early"}}`)
	h.mustPost("/v1/track", `{"userId":"nobody","event":"nps_submitted","properties":{"score":0,"comment":"not in a journey"}}`)
	if r := h.do("POST", "/v1/clock", []byte(`{"advance":"6d"}`), admin); r.code != 200 {
		t.Fatalf("advance: %d %s", r.code, r.body)
	}
	for id, score := range map[string]int{"w1": 9, "w2": 10, "w3": 3} {
		h.mustPost("/v1/track", `{"userId":"`+id+`","event":"nps_submitted","properties":{"score":`+strconv.Itoa(score)+`,"comment":"x"}}`)
	}

	r := h.do("GET", "/v1/journeys/winback/analytics", nil, admin)
	var doc analytics.Analytics
	r.json(t, &doc)
	if r.code != 200 {
		t.Fatalf("analytics: %d %s", r.code, r.body)
	}
	want := []analytics.Metric{{Name: "nps", Kind: "nps", Responses: 4, Score: 25, ByStage: []analytics.StageMetric{
		{Stage: "offer", Responses: 1, Score: 0}, {Stage: "survey", Responses: 3, Score: 100.0 / 3}}}}
	if !reflect.DeepEqual(doc.Metrics, want) {
		t.Errorf("metrics %+v, want %+v", doc.Metrics, want)
	}

	r = h.do("GET", "/v1/journeys/winback/analytics?since="+url.QueryEscape(start.Add(time.Hour).Format(time.RFC3339)), nil, admin)
	doc = analytics.Analytics{}
	r.json(t, &doc)
	want = []analytics.Metric{{Name: "nps", Kind: "nps", ByStage: []analytics.StageMetric{}}}
	if r.code != 200 || !reflect.DeepEqual(doc.Metrics, want) {
		t.Errorf("a later range: %d metrics %+v, want %+v", r.code, doc.Metrics, want)
	}
}

// forEachAnalyticsStore runs an analytics test on a store answering from
// its records (the Accumulator) and on one keeping tallies (the server
// sums them): the two must tell the same.
func forEachAnalyticsStore(t *testing.T, test func(t *testing.T, kind harnessOption, tallies bool)) {
	t.Run("records", func(t *testing.T) { test(t, withStore(openRecordsOnly), false) })
	t.Run("tallies", func(t *testing.T) { test(t, withStore(openReplayTallies), true) })
}

// recordsOnly is the SQLite store without its tallies, if it has them:
// the analytics of its records.
type recordsOnly struct{ store.Store }

func (s recordsOnly) JourneyRecords(ctx context.Context, journey string, until time.Time, fn func(store.JourneyRecord) error) error {
	return s.Store.(store.JourneyRecords).JourneyRecords(ctx, journey, until, fn)
}

func openRecordsOnly(t testing.TB) store.Store {
	return recordsOnly{openSQLite(t)}
}

// replayTallies is a store that keeps tallies the simplest way: it replays
// its records (tally.Replayer) for each sum.
type replayTallies struct{ recordsOnly }

func (s replayTallies) SumTallies(ctx context.Context, journeys []string, from, to int64) ([]store.Tally, error) {
	p := tally.NewReplayer(journeys[0])
	for k := len(journeys) - 1; k >= 0; k-- { // former names first: commit order
		err := s.JourneyRecords(ctx, journeys[k], time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), func(r store.JourneyRecord) error {
			p.Add(r)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return tally.Sum(p.Tallies(), journeys, from, to), nil
}

func openReplayTallies(t testing.TB) store.Store {
	return replayTallies{recordsOnly{openSQLite(t)}}
}

func openSQLite(t testing.TB) store.Store {
	sq, err := sqlite.Open(filepath.Join(t.TempDir(), "waymark.db"))
	if err != nil {
		t.Fatal(err)
	}
	return sq
}

func TestJourneyNames(t *testing.T) {
	prog := &ir.Program{Moved: []ir.JourneyMove{{From: "a", To: "c"}, {From: "b", To: "c"}, {From: "x", To: "y"}}}
	for _, tt := range []struct {
		name string
		want []string
	}{{"c", []string{"c", "a", "b"}}, {"y", []string{"y", "x"}}, {"z", []string{"z"}}} {
		if got := journeyNames(prog, tt.name); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("journeyNames(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Ranges at the ends of what RFC 3339 can say: each answers a document
// whose times are RFC 3339 again, or 400 naming the parameter; never an
// empty 200 (a time the JSON encoder refuses, past year 9999 once the
// range is widened to whole hours).
func TestAnalyticsRangeExtremes(t *testing.T) { forEachAnalyticsStore(t, testAnalyticsRangeExtremes) }

func testAnalyticsRangeExtremes(t *testing.T, kind harnessOption, tallies bool) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	h := newHarness(t, Options{AdminToken: "s3cret"}, withManualClock(start), kind)
	admin := map[string]string{"Authorization": "Bearer s3cret"}
	if r := h.do("POST", "/v1/track", []byte(`{"userId":"u1","event":"signed_up"}`), nil); r.code != 200 {
		t.Fatalf("track: %d %s", r.code, r.body)
	}
	for _, tt := range []struct {
		query string
		param string // "" when the range is fine
	}{
		{"since=0000-01-01T00:00:00Z", ""},
		{"since=1969-12-31T23:59:59.5Z&until=1970-01-01T00:00:00.5Z", ""},
		{"until=9999-12-31T23:00:00Z", ""},
		{"until=9999-12-31T23:59:59.999999999Z", "until"},
		{"until=9999-12-31T23:30:00-01:00", "until"},
		{"since=0000-01-01T00:30:00%2B01:00", "since"},
		{"since=0000-01-01T00:00:00.5Z&until=0000-01-01T00:00:01Z", ""},
	} {
		for _, p := range []string{"analytics", "paths"} {
			r := h.do("GET", "/v1/journeys/welcome/"+p+"?"+tt.query, nil, admin)
			if tt.param != "" {
				if r.code != 400 || !strings.HasPrefix(r.errorText(t), tt.param+": ") {
					t.Errorf("%s?%s: %d %s, want 400 naming %s", p, tt.query, r.code, r.body, tt.param)
				}
				continue
			}
			var doc struct{ Since, Until time.Time }
			if r.code != 200 || json.Unmarshal(r.body, &doc) != nil || !doc.Since.Before(doc.Until) {
				t.Errorf("%s?%s: %d %q, want 200 with a range", p, tt.query, r.code, r.body)
			}
		}
	}
}
