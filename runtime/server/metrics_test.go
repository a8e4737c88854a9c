package server

import (
	"bytes"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waymark-dev/waymark/runtime/deliver"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Every metric /metrics has ever written keeps its name, type and labels:
// dashboards and alerts name them. The list was taken from the output of
// the hand-written exposition this replaced; new metrics are added to it,
// none is ever taken out.
func TestMetricNames(t *testing.T) {
	type metric struct {
		typ    string
		labels string // the label names of its series, sorted, le left out
	}
	want := map[string]metric{
		"waymark_deliver_cancelled_total":         {"counter", ""},
		"waymark_deliver_channel_dead_total":      {"counter", "channel"},
		"waymark_deliver_channel_delivered_total": {"counter", "channel"},
		"waymark_deliver_channel_retried_total":   {"counter", "channel"},
		"waymark_deliver_channel_seconds_total":   {"counter", "channel"},
		"waymark_deliver_claim_errors_total":      {"counter", ""},
		"waymark_deliver_dead_total":              {"counter", ""},
		"waymark_deliver_delivered_total":         {"counter", ""},
		"waymark_deliver_in_flight":               {"gauge", ""},
		"waymark_deliver_interrupted_total":       {"counter", ""},
		"waymark_deliver_retried_total":           {"counter", ""},
		"waymark_deliver_settle_errors_total":     {"counter", ""},
		"waymark_http_request_duration_seconds":   {"histogram", "route"},
		"waymark_http_requests_total":             {"counter", "code,route"},
		"waymark_ingest_commit_seconds":           {"histogram", ""},
		"waymark_ingest_duplicates_total":         {"counter", ""},
		"waymark_ingest_events_total":             {"counter", "type"},
		"waymark_ingest_ignored_total":            {"counter", "type"},
		"waymark_program_info":                    {"gauge", "version"},
		"waymark_reload_last_seconds":             {"gauge", ""},
		"waymark_reload_refusals_total":           {"counter", ""},
		"waymark_reload_refused":                  {"gauge", ""},
		"waymark_reload_swaps_total":              {"counter", ""},
		"waymark_sched_errors_total":              {"counter", ""},
		"waymark_sched_fired_total":               {"counter", ""},
		"waymark_sched_hints_total":               {"counter", ""},
		"waymark_sched_inflight":                  {"gauge", ""},
		"waymark_sched_known":                     {"gauge", ""},
		"waymark_sched_lag_seconds":               {"histogram", ""},
		"waymark_sched_poll_rows_total":           {"counter", ""},
		"waymark_sched_polls_total":               {"counter", ""},
		"waymark_sched_stuck_total":               {"counter", ""},
		"waymark_start_time_seconds":              {"gauge", ""},
		"waymark_worker_abandoned_total":          {"counter", ""},
		"waymark_worker_batches_total":            {"counter", ""},
		"waymark_worker_cache_hits_total":         {"counter", ""},
		"waymark_worker_cache_loads_total":        {"counter", ""},
		"waymark_worker_commit_seconds":           {"histogram", ""},
		"waymark_worker_customer_writes_total":    {"counter", ""},
		"waymark_worker_duplicates_total":         {"counter", ""},
		"waymark_worker_errors_total":             {"counter", ""},
		"waymark_worker_failed_total":             {"counter", ""},
		"waymark_worker_inputs_total":             {"counter", ""},
		"waymark_worker_queued":                   {"gauge", ""},
		"waymark_worker_swaps_total":              {"counter", ""},
		"waymark_ingest_invalid_total":            {"counter", ""},
		// Added with the move to client_golang.
		"waymark_sends_total":        {"counter", "fate"},
		"waymark_sends_failed_total": {"counter", "journey,send"},
	}
	h := runnerHarness(t, Options{}, withFailingSends())
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	h.mustPost("/v1/track", `{"userId":"u1","event":"subscribed"}`) // no email: the send fails
	h.mustPost("/v1/batch", `{"batch":[{"type":"page","userId":"u1"},{"type":"identify","userId":"u1","messageId":"m"},{"type":"identify","userId":"u1","messageId":"m"}]}`)
	got := h.metrics()
	for name, w := range want {
		f := got[name]
		if f == nil {
			t.Errorf("%s (%s) is missing from /metrics", name, w.typ)
			continue
		}
		labels := map[string]bool{}
		for _, s := range f.series {
			for l := range s.labels {
				if l != "le" {
					labels[l] = true
				}
			}
		}
		if g := (metric{f.typ, strings.Join(slices.Sorted(maps.Keys(labels)), ",")}); g != w {
			t.Errorf("%s is a %s with labels %q, want a %s with labels %q", name, g.typ, g.labels, w.typ, w.labels)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && strings.HasPrefix(name, "waymark_") {
			t.Errorf("%s is not in the list: add it", name)
		}
	}
}

// runnerHarness is a harness whose /metrics has every collector `waymark
// run` registers, the worker's live and the others' fed figures.
func runnerHarness(t *testing.T, opts Options, hopts ...harnessOption) *harness {
	var h *harness
	opts.Metrics = []prometheus.Collector{
		WorkerMetrics(func() worker.Stats { return h.w.Stats() }),
		SchedulerMetrics(func() sched.Stats { return sched.Stats{} }),
		DispatcherMetrics(func() deliver.Stats {
			return deliver.Stats{Channels: map[string]deliver.ChannelStats{"email": {}}}
		}),
		ReloadMetrics(func() reload.Status { return reload.Status{Version: "v", LastReload: time.Now()} }),
	}
	h = newHarness(t, opts, hopts...)
	return h
}

// A send that fails at run time is counted by fate and by journey and
// send, and logged as a warning naming where it is and why, never the
// message.
func TestFailedSendsCountedAndLogged(t *testing.T) {
	var logs bytes.Buffer
	var h *harness
	h = newHarness(t, Options{Metrics: []prometheus.Collector{WorkerMetrics(func() worker.Stats { return h.w.Stats() })}},
		withFailingSends(), withWorkerLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	h.mustPost("/v1/track", `{"userId":"u1","event":"subscribed"}`)
	h.mustPost("/v1/track", `{"userId":"u2","event":"subscribed"}`)
	h.mustPost("/v1/identify", `{"userId":"u3","traits":{"email":"u3@example.com"}}`)
	h.mustPost("/v1/track", `{"userId":"u3","event":"subscribed"}`)
	m := h.metrics()
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"waymark_sends_total", map[string]string{"fate": "failed"}, 2},
		{"waymark_sends_total", map[string]string{"fate": "deliver"}, 1},
		{"waymark_sends_failed_total", map[string]string{"journey": "newsletter", "send": "confirm"}, 2},
	} {
		if got := m.value(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var warned []string
	for _, l := range lines {
		if strings.Contains(l, `msg="send failed"`) {
			warned = append(warned, l)
		}
	}
	if len(warned) != 2 {
		t.Fatalf("%d send-failed warnings, want 2:\n%s", len(warned), logs.String())
	}
	for _, want := range []string{"level=WARN", "journey=newsletter", "stage=confirm", "send=confirm", "customer=u1", `reason="field to: to is null"`} {
		if !strings.Contains(warned[0], want) {
			t.Errorf("the warning %q lacks %s", warned[0], want)
		}
	}
	if strings.Contains(logs.String(), "Please confirm") {
		t.Errorf("the log shows the message:\n%s", logs.String())
	}
}

// GET /v1/failed-sends lists the failed sends of every customer, oldest
// first, in pages; the fields only when asked for.
func TestFailedSendsList(t *testing.T) {
	h := newHarness(t, Options{AdminToken: "adm"}, withFailingSends())
	auth := map[string]string{"Authorization": "Bearer adm"}
	for _, id := range []string{"u1", "u2"} {
		h.mustPost("/v1/track", `{"userId":"`+id+`","event":"subscribed"}`)
	}
	h.mustPost("/v1/identify", `{"userId":"u3","traits":{"email":"u3@example.com"}}`)
	h.mustPost("/v1/track", `{"userId":"u3","event":"subscribed"}`) // delivered: not listed
	h.mustPost("/v1/track", `{"userId":"u4","event":"subscribed"}`)
	if r := h.get("/v1/failed-sends"); r.code != 401 {
		t.Errorf("without the admin token: %d, want 401", r.code)
	}
	page := func(query string) failedSendsDoc {
		t.Helper()
		r := h.do("GET", "/v1/failed-sends"+query, nil, auth)
		if r.code != 200 {
			t.Fatalf("GET /v1/failed-sends%s: %d %s", query, r.code, r.body)
		}
		var d failedSendsDoc
		r.json(t, &d)
		return d
	}
	customers := func(d failedSendsDoc) string {
		var ids []string
		for _, f := range d.FailedSends {
			ids = append(ids, f.Customer)
		}
		return strings.Join(ids, " ")
	}
	all := page("")
	if got := customers(all); got != "u1 u2 u4" || all.Next != "" {
		t.Fatalf("failed sends: %q next %q, want u1 u2 u4 and no next", got, all.Next)
	}
	f := all.FailedSends[0]
	if f.Send.Journey != "newsletter" || f.Send.Stage != "confirm" || f.Send.Name != "confirm" || f.Send.Reason != "field to: to is null" || f.Send.Fields != nil {
		t.Errorf("failed send %+v", f)
	}
	first := page("?limit=2")
	if got := customers(first); got != "u1 u2" || first.Next == "" {
		t.Fatalf("first page: %q next %q", got, first.Next)
	}
	if got := customers(page("?limit=2&after=" + first.Next)); got != "u4" {
		t.Errorf("second page: %q, want u4", got)
	}
	if d := page("?fields=1&limit=1"); len(d.FailedSends) != 1 || d.FailedSends[0].Send.Fields == nil {
		t.Errorf("?fields=1: %+v, want the fields that evaluated", d.FailedSends)
	}
	for query, want := range map[string]string{
		"?after=nope": `after: failed-send cursor "nope"`,
		"?limit=0":    `limit: "0" is not a number from 1 to 1000`,
	} {
		r := h.do("GET", "/v1/failed-sends"+query, nil, auth)
		if r.code != 400 || !strings.HasPrefix(r.errorText(t), want) {
			t.Errorf("GET /v1/failed-sends%s: %d %s, want 400 %q", query, r.code, r.body, want)
		}
	}
}
