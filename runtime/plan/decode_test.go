package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// states is a varied population of stored states, as the engine writes
// them: every field of the customer, instance and wait set somewhere.
func states() []*engine.Customer {
	at := time.Date(2026, 12, 6, 22, 13, 1, 181046901, time.UTC)
	ended := &engine.Instance{ID: "c2/onboarding/1", Journey: "onboarding", Version: "sha256:aa", Seq: 1,
		Status: engine.StatusExited, Cause: "stage_removed", Stage: "old", Visit: 3,
		EnteredAt: at.Add(-72 * time.Hour), StageEnteredAt: at.Add(-time.Hour), EndedAt: at, EntryEvent: "signed_up"}
	return []*engine.Customer{
		{ID: "c1"},
		{ID: "c2", Traits: map[string]any{"plan": "pro", "seats": 3.0, "tags": []any{"a", "b"}, "address": map[string]any{"city": "Zürich"}, "vip": true},
			Instances: []*engine.Instance{ended, {
				ID: "c2/trial/2", Journey: "trial", Version: "sha256:19a62f6b880c268d", Seq: 2, Status: engine.StatusActive,
				Stage: "welcome", Visit: 1, EnteredAt: at, StageEnteredAt: at, EntryEvent: "signed_up",
				Entry: map[string]any{"source": "ads", "n": 1.5},
				Waits: []engine.Wait{{Kind: engine.WaitAfter, Index: 0, Due: at.Add(48 * time.Hour)}, {Kind: engine.WaitAt, Index: 1, Due: at.Add(time.Hour), Src: `traits.renews_at`}},
			}},
			Held: []engine.Send{{Key: "c2/trial/2/1/hello", Journey: "trial", Instance: "c2/trial/2", Stage: "welcome", Name: "hello",
				Channel: "mail", ChannelType: "email", Topic: "news", Fields: map[string]any{"to": "a@example.com"}, Fate: engine.FateHeld, At: at, DueAt: at.Add(8 * time.Hour)}},
			Sends:         map[string][]time.Time{"marketing": {at, at.Add(-time.Hour)}},
			Seen:          []string{"m1", "m2"},
			Merged:        []string{"anon-1"},
			Subscriptions: map[string]string{"news": "unsubscribed"},
		},
		{ID: "c3 ünïcode ✓", Instances: []*engine.Instance{{ID: "c3/trial/1", Journey: "trial", Version: "v", Seq: 1, Status: engine.StatusActive,
			Stage: "engaged", Visit: 2, EnteredAt: at.In(time.FixedZone("", 3600)), EntryEvent: "e", Waits: []engine.Wait{}}}},
		{ID: `c4 "quoted" \ and control` + "\n", Instances: []*engine.Instance{}, Traits: map[string]any{}},
		{ID: "c5", Instances: []*engine.Instance{{ID: "c5/x/1", Journey: "x", Seq: -1, Visit: 1 << 40, Status: engine.StatusActive}}},
	}
}

// Documents json.Unmarshal accepts or refuses that the engine does not
// write: the fast path must give up on each, or decode it the same.
var oddStates = []string{
	`{}`, ` { "id" : "a" , "instances" : [ ] } `, `{"id":null}`, `{"ID":"a"}`, `{"id":"a","id":"b"}`,
	`{"instances":[null]}`, `{"instances":[{"seq":1e2}]}`, `{"instances":[{"seq":1.0}]}`, `{"instances":[{"seq":01}]}`,
	`{"instances":[{"seq":-}]}`, `{"instances":[{"seq":99999999999999999999}]}`, `{"instances":[{"entered_at":"yesterday"}]}`,
	`{"instances":[{"entered_at":null}]}`, `{"instances":[{"waits":[{"due":"2026-12-06T22:13:01Z","due":"2026-12-06T22:13:01Z"}]}]}`,
	`{"traits":{"a":1},"traits":{"b":2}}`, `{"instances":[{"id":"a","seq":1}],"instances":[{"id":"b"}]}`, `{"traits":[1]}`, `{"traits":{"a":}}`, `{"traits":{"a":"\u00e9\"}"}}`,
	`{"unknown":1}`, `{"id":"a"} x`, `{"id":"a"`, `{"id":"a",}`, `[]`, `null`, ``, `{"id":"\u0041"}`,
	"{\"id\":\"\xff\"}", `{"traits":tru}`, `{"seen":["a"]]}`, `{"traits":{"a":[1,{"b":"]"}]}}`,
}

// TestDecodeStateAgrees holds decodeState to json.Unmarshal on a varied
// population, and checks that states the engine writes take the fast path
// (all but those with strings json escapes).
func TestDecodeStateAgrees(t *testing.T) {
	for i, c := range states() {
		raw, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint("state", i), func(t *testing.T) {
			sameAsJSON(t, raw)
			// json escapes what needs it: only such strings are left to it
			if _, ok := fastState(raw); !ok && !bytes.ContainsRune(raw, '\\') {
				t.Errorf("a state the engine writes took the slow path: %s", raw)
			}
			indented, _ := json.MarshalIndent(c, "", "  ")
			sameAsJSON(t, indented)
		})
	}
	for _, s := range oddStates {
		t.Run(s, func(t *testing.T) { sameAsJSON(t, []byte(s)) })
	}
}

func sameAsJSON(t *testing.T, raw []byte) {
	t.Helper()
	want := new(engine.Customer)
	wantErr := json.Unmarshal(raw, want)
	got, err := decodeState(raw)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeState(%s): error %v, json.Unmarshal: %v", raw, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeState(%s):\n got %#v\nwant %#v", raw, got, want)
	}
}

func FuzzDecodeState(f *testing.F) {
	for _, c := range states() {
		raw, _ := json.Marshal(c)
		f.Add(raw)
	}
	for _, s := range oddStates {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { sameAsJSON(t, raw) })
}

// BenchmarkDecodeState compares decodeState with json.Unmarshal on a
// state of the plan benchmark's shape.
func BenchmarkDecodeState(b *testing.B) {
	raw, _ := json.Marshal(states()[2])
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := decodeState(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := json.Unmarshal(raw, new(engine.Customer)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
