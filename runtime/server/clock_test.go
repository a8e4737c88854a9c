package server

import (
	"strings"
	"testing"
	"time"
)

// POST /v1/clock moves a manual clock and fires what falls due, in order,
// before it answers: the welcome journey's 30-day wait ends the instance.
func TestManualClock(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	h := newHarness(t, Options{}, withManualClock(start))
	var admin map[string]string
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)

	var doc struct {
		Clock string
		Now   time.Time
		Fired *int
	}
	r := h.do("GET", "/v1/clock", nil, admin)
	r.json(t, &doc)
	if r.code != 200 || doc.Clock != "manual" || !doc.Now.Equal(start) {
		t.Fatalf("GET /v1/clock: %d %s", r.code, r.body)
	}
	r = h.do("POST", "/v1/clock", []byte(`{"advance":"29d"}`), admin)
	r.json(t, &doc)
	if r.code != 200 || doc.Fired == nil || *doc.Fired != 0 || !doc.Now.Equal(start.Add(29*24*time.Hour)) {
		t.Fatalf("advance 29d: %d %s", r.code, r.body)
	}
	if c := h.customer("u1"); len(c.Instances) != 1 || c.Instances[0].Status != "active" {
		t.Fatalf("after 29d: %+v", c.Instances)
	}
	r = h.do("POST", "/v1/clock", []byte(`{"to":"2026-04-02T10:00:00+02:00"}`), admin)
	r.json(t, &doc)
	if r.code != 200 || *doc.Fired != 1 || !doc.Now.Equal(time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("to April 2: %d %s", r.code, r.body)
	}
	c := h.customer("u1")
	if len(c.Instances) != 1 || c.Instances[0].Status != "completed" {
		t.Fatalf("the 30d wait did not end the journey: %+v", c.Instances)
	}
	// The engine ran the wake at its due time, not at the target.
	if last := c.Instances[0].History[len(c.Instances[0].History)-1]; !last.At.Equal(start.Add(30 * 24 * time.Hour)) {
		t.Errorf("the wait fired at %s, want %s", last.At, start.Add(30*24*time.Hour))
	}

	for _, tt := range []struct{ body, want string }{
		{`{}`, "give advance or to"},
		{`{"advance":"1h","to":"2027-01-01T00:00:00Z"}`, "give advance or to"},
		{`{"advance":"soon"}`, `clock: advance "soon"`},
		{`{"advance":3600}`, "must be a JSON object like"},
		{`{"to":"yesterday"}`, `clock: to "yesterday" is not an RFC 3339 time`},
		{`{"to":"2026-03-01T00:00:00Z"}`, "the clock only moves forward"},
		{`{"forward":"1h"}`, `unknown member "forward"`},
		{`[`, "clock: must be a JSON object"},
	} {
		r := h.do("POST", "/v1/clock", []byte(tt.body), admin)
		if r.code != 400 || !strings.Contains(r.errorText(t), tt.want) {
			t.Errorf("POST /v1/clock %s: %d %s, want 400 naming %q", tt.body, r.code, r.body, tt.want)
		}
	}
}

// On the real clock, GET says so and POST is refused with what to do.
func TestRealClockCannotMove(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.get("/v1/clock")
	if r.code != 200 || !strings.Contains(string(r.body), `"clock":"real"`) {
		t.Errorf("GET /v1/clock: %d %s", r.code, r.body)
	}
	r = h.post("/v1/clock", `{"advance":"1h"}`)
	if r.code != 409 || !strings.Contains(r.errorText(t), "--clock manual") {
		t.Errorf("POST /v1/clock: %d %s", r.code, r.body)
	}
}

// FuzzClockRequest feeds arbitrary bodies to the POST /v1/clock parser:
// nothing panics, and a body it accepts never moves the clock back.
func FuzzClockRequest(f *testing.F) {
	for _, s := range []string{`{"advance":"1h"}`, `{"advance":"1w 2d 3h"}`, `{"to":"2026-03-02T23:30:00+01:00"}`, `{"advance":"-1h"}`, `{"to":null}`, `{"advance":"1h","x":1}`, `{}`, `[`, ``} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		target, herr := parseClockRequest(body, now)
		if herr != nil {
			if herr.status != 400 || !strings.HasPrefix(herr.msg, "clock: ") {
				t.Fatalf("%q: %d %q", body, herr.status, herr.msg)
			}
			return
		}
		if target.Before(now) {
			t.Fatalf("%q: moves the clock back to %s", body, target)
		}
	})
}
