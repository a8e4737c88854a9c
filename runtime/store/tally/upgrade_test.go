package tally

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/runtime/engine"
)

func TestFillProgress(t *testing.T) {
	progress := func(journey, instance string) ([]string, map[string]string, bool) {
		switch journey + " " + instance {
		case "j c/j/1":
			return []string{"s", "split"}, map[string]string{"split": "b"}, true
		case "k c/k/1":
			return []string{"s"}, nil, true
		}
		return nil, nil, false
	}
	for _, tc := range []struct {
		name, state string
		changed     bool
		want        map[string][]string // instance -> visited after
		splits      map[string]map[string]string
	}{
		{name: "no instances", state: `{"id":"c"}`},
		{name: "active, filled", changed: true,
			state: `{"id":"c","traits":{"n":12345678901234567890},"instances":[{"id":"c/j/1","journey":"j","status":"active","stage":"split","entry":{"x":"<b>"}}]}`,
			want:  map[string][]string{"c/j/1": {"s", "split"}}, splits: map[string]map[string]string{"c/j/1": {"split": "b"}}},
		{name: "ended and already filled kept", changed: true,
			state: `{"id":"c","instances":[null,{"id":"c/j/1","journey":"j","status":"completed"},{"id":"c/k/1","journey":"k","status":"active"},{"id":"c/m/1","journey":"m","status":"active","visited":["x"]}]}`,
			want:  map[string][]string{"c/j/1": nil, "c/k/1": {"s"}, "c/m/1": {"x"}}},
		{name: "unknown to the replay", state: `{"id":"c","instances":[{"id":"c/z/1","journey":"z","status":"active"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, changed, err := FillProgress([]byte(tc.state), progress)
			if err != nil || changed != tc.changed {
				t.Fatalf("changed %v, err %v; want changed %v", changed, err, tc.changed)
			}
			if !changed {
				if out != nil {
					t.Fatalf("unchanged, yet a new state: %s", out)
				}
				return
			}
			var c engine.Customer
			if err := json.Unmarshal(out, &c); err != nil {
				t.Fatalf("the filled state does not decode: %v\n%s", err, out)
			}
			for _, in := range c.Instances {
				if in == nil {
					continue
				}
				if !reflect.DeepEqual(in.Visited, tc.want[in.ID]) {
					t.Errorf("%s visited %q, want %q", in.ID, in.Visited, tc.want[in.ID])
				}
				if !reflect.DeepEqual(in.Splits, tc.splits[in.ID]) {
					t.Errorf("%s splits %v, want %v", in.ID, in.Splits, tc.splits[in.ID])
				}
			}
			// Every other byte of meaning is kept: the state without the
			// fields filled is the state given.
			var before, after map[string]any
			d := json.NewDecoder(strings.NewReader(tc.state))
			d.UseNumber()
			if err := d.Decode(&before); err != nil {
				t.Fatal(err)
			}
			d = json.NewDecoder(strings.NewReader(string(out)))
			d.UseNumber()
			if err := d.Decode(&after); err != nil {
				t.Fatal(err)
			}
			for _, in := range after["instances"].([]any) {
				if m, ok := in.(map[string]any); ok && m["status"] == "active" && m["id"] != "c/m/1" {
					delete(m, "visited")
					delete(m, "splits")
				}
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("the state changed beyond the instances' progress:\n%v\n%v", before, after)
			}
		})
	}
}

func TestFillProgressBadState(t *testing.T) {
	none := func(string, string) ([]string, map[string]string, bool) { return nil, nil, false }
	for _, s := range []string{``, `[]`, `{"instances":{}}`, `{"instances":[{"id":1}]}`, `{"instances":[{"visited":"s"}]}`} {
		if _, _, err := FillProgress([]byte(s), none); err == nil {
			t.Errorf("FillProgress(%s): no error", s)
		}
	}
}

func FuzzFillProgress(f *testing.F) {
	f.Add([]byte(`{"id":"c","instances":[{"id":"c/j/1","journey":"j","status":"active"}]}`))
	f.Fuzz(func(t *testing.T, state []byte) {
		out, changed, err := FillProgress(state, func(string, string) ([]string, map[string]string, bool) {
			return []string{"s"}, map[string]string{"s": "a"}, true
		})
		if err == nil && changed && !json.Valid(out) {
			t.Fatalf("FillProgress(%s) = %s: not JSON", state, out)
		}
	})
}
