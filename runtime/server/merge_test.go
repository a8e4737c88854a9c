package server

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// /v1/page, /v1/screen and /v1/group are single-call endpoints: checked
// like any call, accepted, and nothing happens.
func TestPageScreenGroup(t *testing.T) {
	h := newHarness(t, Options{})
	for _, kind := range []string{"page", "screen", "group"} {
		h.mustPost("/v1/"+kind, `{"userId":"pg-1","name":"Home","messageId":"`+kind+`-1"}`)
		r := h.post("/v1/"+kind, `{"name":"Home"}`)
		if r.code != 400 || !strings.HasPrefix(r.errorText(t), kind+": userId is required") {
			t.Errorf("%s without an id: %d %s", kind, r.code, r.body)
		}
	}
	if r := h.get("/v1/customers/pg-1"); r.code != 404 {
		t.Errorf("page, screen and group made a customer: %d %s", r.code, r.body)
	}
}

// alias, and identify naming both an anonymousId and a userId, merge the
// anonymous customer into the known one, in order with the calls around
// them.
func TestAliasMerges(t *testing.T) {
	h := newHarness(t, Options{})
	h.mustPost("/v1/track", `{"anonymousId":"a-1","event":"signed_up"}`)
	h.mustPost("/v1/identify", `{"anonymousId":"a-1","traits":{"email":"a@example.com","plan":"free"}}`)
	h.mustPost("/v1/identify", `{"userId":"u-1","traits":{"plan":"premium"}}`)
	h.mustPost("/v1/alias", `{"userId":"u-1","previousId":"a-1","messageId":"al-1"}`)
	h.mustPost("/v1/track", `{"userId":"u-1","event":"ping"}`)
	c := h.customer("u-1")
	if c.Traits["plan"] != "premium" || c.Traits["email"] != "a@example.com" {
		t.Errorf("u-1's traits after the alias: %v", c.Traits)
	}
	if c.Traits["pings"] != float64(1) {
		t.Errorf("the ping after the alias did not reach the merged run: %v", c.Traits)
	}
	if len(c.Instances) < 1 || c.Instances[0].ID != "u-1/welcome/1" || c.Instances[0].Stage != "count" {
		t.Fatalf("u-1's instances: %+v", c.Instances)
	}
	// The anonymous customer's history is part of u-1's story: its hello,
	// and its run up to the merge.
	if len(c.Sends) != 1 || c.Sends[0].Instance != "a-1/welcome/1" {
		t.Errorf("u-1's sends: %+v", c.Sends)
	}
	var kinds []string
	for _, in := range c.Received {
		kinds = append(kinds, in.Kind)
	}
	if want := "event identify identify merge event"; strings.Join(kinds, " ") != want {
		t.Errorf("received %q, want %q", kinds, want)
	}
	if a := h.customer("a-1"); len(a.Traits) != 0 || a.Instances[0].Status == engine.StatusActive {
		t.Errorf("a-1 after the alias: %+v", a)
	}

	// In a batch, identify with both ids merges before it applies, and
	// the calls after it see the merged customer.
	h.mustPost("/v1/batch", `{"batch":[
		{"type":"track","anonymousId":"a-2","event":"signed_up"},
		{"type":"identify","anonymousId":"a-2","userId":"u-2","traits":{"plan":"premium"}},
		{"type":"track","userId":"u-2","anonymousId":"a-2","event":"ping"}]}`)
	c = h.customer("u-2")
	if c.Traits["pings"] != float64(1) || c.Instances[0].ID != "u-2/welcome/1" || c.Instances[0].Status != engine.StatusActive {
		t.Errorf("u-2 after a batch with an identify naming both ids: %+v", c)
	}

	// Both in the same journey: the known customer's run stays, the
	// anonymous one's ends "merged".
	h.mustPost("/v1/track", `{"anonymousId":"a-3","event":"signed_up"}`)
	h.mustPost("/v1/track", `{"userId":"u-3","event":"signed_up"}`)
	h.mustPost("/v1/alias", `{"userId":"u-3","previousId":"a-3"}`)
	c = h.customer("u-3")
	var ended bool
	for _, in := range c.Instances {
		if in.ID == "a-3/welcome/1" && in.Status == engine.StatusExited && in.Cause == engine.CauseMerged {
			ended = true
		}
	}
	if !ended || c.Instances[0].ID != "u-3/welcome/1" || c.Instances[0].Status != engine.StatusActive {
		t.Errorf("u-3's instances: %+v", c.Instances)
	}

	for _, body := range []string{`{"userId":"u-1"}`, `{"previousId":"a-1","anonymousId":"x"}`, `{"userId":"u","previousId":5}`} {
		if r := h.post("/v1/alias", body); r.code != 400 || !strings.HasPrefix(r.errorText(t), "alias: ") {
			t.Errorf("alias %s: %d %s", body, r.code, r.body)
		}
	}
	// An alias of an id to itself, or of an unknown id, changes nothing.
	h.mustPost("/v1/alias", `{"userId":"u-1","previousId":"u-1"}`)
	h.mustPost("/v1/alias", `{"userId":"u-1","previousId":"nobody"}`)
}

// recordingMerger is a Worker that merges by message id (as a cluster's
// ingest does) and records the order of its calls.
type recordingMerger struct {
	checkingWorker
	calls []string
}

func (w *recordingMerger) Submit(ctx context.Context, items []worker.Item) error {
	for _, it := range items {
		w.calls = append(w.calls, "submit "+it.CustomerID+" "+it.Input.MessageID)
	}
	return w.checkingWorker.Submit(ctx, items)
}

func (w *recordingMerger) MergeMessage(_ context.Context, from, into, messageID string) (bool, error) {
	w.calls = append(w.calls, "merge "+from+">"+into+" "+messageID)
	return true, nil
}

// A Worker that merges by message id gets the messageId of the call that
// asked for the merge (an alias's, an identify's), so that a retried call
// is the same merge; the calls of a batch reach it in order around it.
func TestMergeByMessageID(t *testing.T) {
	w := &recordingMerger{checkingWorker: checkingWorker{t}}
	srv := New(nil, w, Options{Logger: discardLogger()})
	body := `{"batch":[
		{"type":"track","userId":"a-1","event":"e","messageId":"m1"},
		{"type":"alias","userId":"u-1","previousId":"a-1","messageId":"al-1"},
		{"type":"identify","userId":"u-2","anonymousId":"a-2","messageId":"id-2"},
		{"type":"alias","userId":"u-3","previousId":"a-3"},
		{"type":"track","userId":"u-1","event":"e","messageId":"m2"}]}`
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/batch", strings.NewReader(body)))
	if rec.Code != 200 {
		t.Fatalf("batch: %d %s", rec.Code, rec.Body)
	}
	want := []string{"submit a-1 m1", "merge a-1>u-1 al-1", "merge a-2>u-2 id-2", "submit u-2 id-2", "merge a-3>u-3 ", "submit u-1 m2"}
	if !slices.Equal(w.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(w.calls, "\n"), strings.Join(want, "\n"))
	}
}
