package engine

import (
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// TestNewRefusesInconsistentPrograms edits a compiled program the way a
// hand-edited IR file could be broken, and expects New to say what is wrong.
func TestNewRefusesInconsistentPrograms(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *ir.Program)
		want string
	}{
		{"unknown stage", func(p *ir.Program) { stageOf(p, "phone_activation", "check").Transition.Afters[0].Goto = "nowhere" }, `stage "nowhere", which does not exist`},
		{"unknown channel", func(p *ir.Program) { stageOf(p, "phone_activation", "guide").Actions[0].Channel = "pigeon" }, `channel "pigeon"`},
		{"unknown policy", func(p *ir.Program) { p.Journey("phone_activation").Policy = "nope" }, `policy "nope" does not exist`},
		{"env in a journey", func(p *ir.Program) {
			stageOf(p, "phone_activation", "guide").Actions[0].Fields[0].Expr.Src = `env("HOME")`
		}, "env() is allowed only in channel settings"},
		{"unknown variable", func(p *ir.Program) { p.Journey("phone_activation").Entries[0].When.Src = `stage.x == 1` }, `unknown variable "stage"`},
		{"syntax error", func(p *ir.Program) { p.Journey("phone_activation").Entries[0].When.Src = `event.category ==` }, "entry order_completed"},
		{"unknown function", func(p *ir.Program) { p.Journey("phone_activation").Entries[0].When.Src = `frob(event.category)` }, "unknown function frob()"},
		{"missing template", func(p *ir.Program) { delete(p.Templates, "templates/activation_guide.html") }, `template "templates/activation_guide.html" is not in the program`},
		{"bad window", func(p *ir.Program) { p.Policies[0].QuietHours = "25:00-08:00" }, "quiet_hours"},
		{"bad weight", func(p *ir.Program) { stageOf(p, "phone_activation", "nudge").Transition.Variants[0].Weight = 0 }, "weights must be positive"},
		{"branch without default", func(p *ir.Program) {
			br := stageOf(p, "phone_activation", "route").Transition.Branches
			br[len(br)-1].When = br[0].When
		}, "must end with a branch without when"},
		{"wrong format", func(p *ir.Program) { p.Format = "waymark.ir/v0" }, "format"},
		{"suppressed by a missing journey", func(p *ir.Program) { p.Policies[0].SuppressedBy = []string{"ghost"} }, `journey "ghost"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := clone(t, phoneProgram(t))
			tc.edit(p)
			_, err := New(p, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(phoneProgram(t), Options{}); err != nil {
		t.Fatalf("the unedited program: %v", err)
	}
}

func clone(t *testing.T, p *ir.Program) *ir.Program {
	t.Helper()
	b, err := ir.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ir.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func stageOf(p *ir.Program, journey, stage string) *ir.Stage {
	return p.Journey(journey).Stage(stage)
}

// TestNoPanicOnOddData feeds values no schema promised: the engine records
// problems and goes on.
func TestNoPanicOnOddData(t *testing.T) {
	e := newEngine(t, phoneProgram(t), Options{})
	// A value that does not fit a declared type reads as null, recorded.
	c := &Customer{ID: "c", Traits: map[string]any{"email": []any{1, "a"}}}
	r := e.Step(c, Input{Kind: KindEvent, Event: "order_completed", Properties: map[string]any{"category": "phone"}}, shanghaiMorning)
	if !hasError([]Result{r}, "convert customer trait email") || findSend(t, "activation_guide", r).Fate != FateFailed {
		t.Errorf("a list where a string was declared: %+v", r)
	}
	odd := []any{nil, 1.5, "x", true, []any{1, "a"}, map[string]any{"k": []any{}}, []string{"a"}, map[string]string{"a": "b"},
		int8(1), uint16(2), float32(0.5), struct{ A int }{1}}
	for i, v := range odd {
		c := &Customer{ID: "c" + itoa(i), Traits: map[string]any{"email": v, "plan": v, "timezone": v, "ltv": v, "needs_call": v}}
		for _, ev := range []string{"order_completed", "support_ticket_opened", "device_activated", "unknown_event"} {
			e.Step(c, Input{Kind: KindEvent, Event: ev, Properties: map[string]any{"category": v, "order_id": v, "amount": v, "ticket_id": v}}, shanghaiMorning)
		}
		e.Step(c, Input{Kind: KindWake}, shanghaiMorning.Add(30*day))
		e.Step(c, Input{Kind: "bogus"}, shanghaiMorning.Add(30*day))
		e.Step(c, Input{Kind: KindEvent}, shanghaiMorning.Add(30*day))
	}
}
