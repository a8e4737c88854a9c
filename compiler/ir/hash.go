package ir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Hash returns the journey's content hash: SHA-256 over its JSON with every
// source range and the version itself left out, as "sha256:" and the first
// 16 hex digits. Moving a journey within its file keeps its version; changing
// what it does changes it. in_flight, moved and removed are part of what it
// does (they say how customers of the previous version continue), so they
// change the version too; the journey's name is hashed as well, so a
// renamed journey always has a new version.
func Hash(j *Journey) string {
	c := j.withoutRanges()
	data, err := json.Marshal(c)
	if err != nil {
		return "sha256:unhashable" // plain data types always marshal
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// withoutRanges copies j with every Range zeroed and no version.
func (j *Journey) withoutRanges() Journey {
	c := *j
	c.Version, c.Range = "", Range{}
	c.Entries, c.Goals, c.Exits = triggersWithoutRanges(j.Entries), triggersWithoutRanges(j.Goals), triggersWithoutRanges(j.Exits)
	c.Moved = append([]StageMove(nil), j.Moved...)
	for k := range c.Moved {
		c.Moved[k].Range = Range{}
	}
	c.Removed = append([]StageRemoval(nil), j.Removed...)
	for k := range c.Removed {
		c.Removed[k].Range = Range{}
	}
	c.Stages = make([]Stage, len(j.Stages))
	for i, s := range j.Stages {
		s.Range = Range{}
		s.Actions = make([]Action, len(j.Stages[i].Actions))
		for k, a := range j.Stages[i].Actions {
			a.Range = Range{}
			a.Fields, a.Traits = settingsWithoutRanges(a.Fields), settingsWithoutRanges(a.Traits)
			a.Properties = exprWithoutRange(a.Properties)
			s.Actions[k] = a
		}
		t := &s.Transition
		t.Range = Range{}
		t.Branches = append([]Branch(nil), t.Branches...)
		for k := range t.Branches {
			t.Branches[k].Range, t.Branches[k].When = Range{}, exprWithoutRange(t.Branches[k].When)
		}
		t.Variants = append([]Variant(nil), t.Variants...)
		for k := range t.Variants {
			t.Variants[k].Range = Range{}
		}
		t.Ons = append([]On(nil), t.Ons...)
		for k := range t.Ons {
			t.Ons[k].Range, t.Ons[k].When = Range{}, exprWithoutRange(t.Ons[k].When)
		}
		t.Afters = append([]After(nil), t.Afters...)
		for k := range t.Afters {
			t.Afters[k].Range = Range{}
		}
		t.Ats = append([]At(nil), t.Ats...)
		for k := range t.Ats {
			t.Ats[k].Range, t.Ats[k].Time.Range = Range{}, Range{}
		}
		c.Stages[i] = s
	}
	return c
}

func triggersWithoutRanges(ts []Trigger) []Trigger {
	out := make([]Trigger, len(ts))
	for i, t := range ts {
		t.Range, t.When = Range{}, exprWithoutRange(t.When)
		out[i] = t
	}
	return out
}

func settingsWithoutRanges(ss []Setting) []Setting {
	if ss == nil {
		return nil
	}
	out := make([]Setting, len(ss))
	for i, s := range ss {
		s.Expr.Range = Range{}
		out[i] = s
	}
	return out
}

func exprWithoutRange(e *Expr) *Expr {
	if e == nil {
		return nil
	}
	c := *e
	c.Range = Range{}
	return &c
}
