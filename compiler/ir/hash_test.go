package ir

import "testing"

func sample() Journey {
	r := Range{File: "a.journey.hcl", Start: Pos{Line: 3, Col: 1, Byte: 20}, End: Pos{Line: 9, Col: 2, Byte: 120}}
	when := &Expr{Src: "event.x == 1", Range: r}
	return Journey{
		Name: "j", Reentry: Reentry{Kind: ReentryNever}, Range: r, Start: "a",
		Entries: []Trigger{{Event: "e", When: when, Range: r}},
		Stages: []Stage{{Name: "a", Range: r,
			Actions:    []Action{{Kind: ActionUpdate, Traits: []Setting{{Name: "t", Expr: Expr{Src: "1", Range: r}}}, Range: r}},
			Transition: Transition{Kind: TransitionWait, Range: r, Afters: []After{{Seconds: 60, Spec: "1m", Goto: End, Range: r}}, Ons: []On{{Event: "e", When: when, Goto: End, Range: r}}},
		}},
	}
}

func TestHashIgnoresRangesOnly(t *testing.T) {
	a, b := sample(), sample()
	// Moved within the file: every range differs, the hash must not.
	moved := Range{File: "b.journey.hcl", Start: Pos{Line: 30, Col: 1, Byte: 400}}
	b.Range, b.Stages[0].Range, b.Entries[0].Range = moved, moved, moved
	b.Entries[0].When = &Expr{Src: "event.x == 1", Range: moved}
	b.Stages[0].Transition.Afters[0].Range = moved
	a.Moved, b.Moved = []StageMove{{From: "x", To: "a", Range: a.Range}}, []StageMove{{From: "x", To: "a", Range: moved}}
	a.Removed, b.Removed = []StageRemoval{{From: "y", Range: a.Range}}, []StageRemoval{{From: "y", Range: moved}}
	if Hash(&a) != Hash(&b) {
		t.Errorf("moving a journey changed its hash")
	}
	if a.Range.File != "a.journey.hcl" || a.Entries[0].When.Range.Start.Line != 3 {
		t.Errorf("Hash modified its argument")
	}
	// Changed behaviour: the hash must change.
	for name, change := range map[string]func(j *Journey){
		"when":      func(j *Journey) { j.Entries[0].When = &Expr{Src: "event.x == 2"} },
		"after":     func(j *Journey) { j.Stages[0].Transition.Afters[0].Seconds = 61 },
		"trait":     func(j *Journey) { j.Stages[0].Actions[0].Traits[0].Expr.Src = "2" },
		"policy":    func(j *Journey) { j.Policy = "p" },
		"in_flight": func(j *Journey) { j.InFlight = InFlightPin },
		"moved":     func(j *Journey) { j.Moved = []StageMove{{From: "x", To: "a"}} },
		"removed":   func(j *Journey) { j.Removed = []StageRemoval{{From: "y", Goto: End}} },
		"name":      func(j *Journey) { j.Name = "k" },
	} {
		c := sample()
		change(&c)
		if Hash(&c) == Hash(&a) {
			t.Errorf("changing %s kept the hash", name)
		}
	}
}
