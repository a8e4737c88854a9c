package server

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/analytics"
)

// GET /v1/metrics/{name} on the SQLite store's tallies, with the win-back
// example: w1..w4 answer in the winback journey (9, 10, 3 and 8: two
// promoters, a detractor and a passive of 4 → 25), nobody in no journey
// answers 0 (→ −100); all five → (2 − 2) / 5 = 0.
func TestMetricScore(t *testing.T) {
	start := time.Date(2026, 4, 6, 14, 0, 0, 0, time.UTC)
	h := newHarness(t, Options{AdminToken: "s3cret"}, withManualClock(start), withWorkspace("../../../examples/winback"))
	admin := map[string]string{"Authorization": "Bearer s3cret"}
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

	r := h.do("GET", "/v1/metrics/nps", nil, admin)
	var doc analytics.MetricScore
	r.json(t, &doc)
	if r.code != 200 {
		t.Fatalf("metric: %d %s", r.code, r.body)
	}
	want := []analytics.JourneyScore{{Journey: "winback", Responses: 4, Score: 25}, {Journey: "", Responses: 1, Score: -100}}
	if doc.Metric != "nps" || doc.Kind != "nps" || doc.Responses != 5 || doc.Score != 0 || !reflect.DeepEqual(doc.ByJourney, want) {
		t.Errorf("nps: %+v, want 5 responses scoring 0, by journey %+v", doc, want)
	}

	// From 15:00 on: nobody entered, and the journey-less answer was
	// given at 14:00. The range is the hours used.
	since := start.Add(time.Hour)
	r = h.do("GET", "/v1/metrics/nps?since="+url.QueryEscape(since.Format(time.RFC3339)), nil, admin)
	doc = analytics.MetricScore{}
	r.json(t, &doc)
	if r.code != 200 || doc.Responses != 0 || len(doc.ByJourney) != 0 || !doc.Since.Equal(since) {
		t.Errorf("a later range: %d %+v", r.code, doc)
	}

	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{"/v1/metrics/nope", 404, `no metric "nope"`},
		{"/v1/metrics/nps?until=soon", 400, `until: "soon" is not an RFC 3339 time`},
	} {
		r := h.do("GET", tt.path, nil, admin)
		if r.code != tt.code || !strings.Contains(r.errorText(t), tt.want) {
			t.Errorf("GET %s: %d %s, want %d with %q", tt.path, r.code, r.body, tt.code, tt.want)
		}
	}
	if r := h.do("GET", "/v1/metrics/nps", nil, nil); r.code != 401 {
		t.Errorf("without the token: %d, want 401", r.code)
	}
}

// A store without tallies cannot score a metric across journeys.
func TestMetricScoreNeedsTallies(t *testing.T) {
	h := newHarness(t, Options{}, withWorkspace("../../../examples/winback"), withStore(openRecordsOnly))
	r := h.do("GET", "/v1/metrics/nps", nil, nil)
	if r.code != 501 || !strings.Contains(r.errorText(t), "keeps no analytics tallies") {
		t.Errorf("%d %s, want 501", r.code, r.body)
	}
}
