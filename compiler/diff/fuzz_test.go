package diff

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// FuzzDiff diffs arbitrary pairs of IR documents (a server's program and a
// candidate come from outside) and writes the diff and a plan over it in
// every format: nothing may panic, and the JSON is valid.
func FuzzDiff(f *testing.F) {
	for _, name := range []string{"trial", "moves"} {
		old, new := compileTxtar(f, name)
		a, _ := ir.Encode(old)
		b, _ := ir.Encode(new)
		f.Add(a, b)
		f.Add(b, a)
	}
	f.Add([]byte(`{"format":"waymark.ir/v1","journeys":[{"name":"x","stages":[{"name":"a","transition":{"kind":"wait"}}],"removed":[{"from":"a"}]}]}`),
		[]byte(`{"format":"waymark.ir/v1","moved":[{"from":"y","to":"x"}],"journeys":[{"name":"x","moved":[{"from":"a","to":"a"}]}]}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		old, err1 := ir.Decode(a)
		new, err2 := ir.Decode(b)
		if err1 != nil || err2 != nil {
			return
		}
		d := Compute(old, new)
		var js bytes.Buffer
		if err := WriteJSON(&js, d); err != nil || !json.Valid(js.Bytes()) {
			t.Fatalf("diff JSON: %v\n%s", err, js.Bytes())
		}
		if err := WriteText(io.Discard, d); err != nil {
			t.Fatal(err)
		}
		if err := WriteMarkdown(io.Discard, d, new); err != nil {
			t.Fatal(err)
		}
		p := &Plan{Format: PlanFormat, Changes: d, Journeys: []JourneyPlan{{Name: "x", Impact: []Impact{{Stage: "a", Customers: 1, Disposition: Stay}}}}}
		if err := WritePlanMarkdown(io.Discard, p, new); err != nil {
			t.Fatal(err)
		}
		if err := WritePlanText(io.Discard, p); err != nil {
			t.Fatal(err)
		}
		for _, jd := range d.Journeys {
			for _, s := range jd.Stages {
				d.HeldChange(old, jd.Name, s.Name, "send")
			}
		}
	})
}
