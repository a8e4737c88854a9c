package diff

import (
	"github.com/waymark-dev/waymark/compiler/ir"
)

// DiffFormat names the diff document.
const DiffFormat = "waymark.diff/v1"

// Change kinds, for journeys, stages and every detail.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
	Moved   = "moved" // renamed by a `moved` block: compared with the old name
)

// Diff is a semantic diff of two programs (waymark.diff/v1). Empty lists
// are written as [], never null.
type Diff struct {
	Format string `json:"format"`
	// Journeys lists the journeys that changed, in the new program's
	// order, then the removed ones in the old program's order.
	Journeys  []JourneyDiff `json:"journeys"`
	Channels  []Change      `json:"channels"`
	Policies  []Change      `json:"policies"`
	Schemas   []Change      `json:"schemas"` // the customer's traits and the events
	Templates []Change      `json:"templates"`
}

// JourneyDiff is what changed in one journey.
type JourneyDiff struct {
	Name   string `json:"name"`   // its name in the new program (the old one when removed)
	Change string `json:"change"` // added | removed | changed | moved
	From   string `json:"from,omitempty"`
	// Range is the journey in the new program (for a removed journey, the
	// block that removed it, when there is one).
	Range *ir.Range `json:"range,omitempty"`
	// Changes are the journey-level details: description, policy,
	// re-entry, start, entries, goals, exits, in_flight.
	Changes []Change `json:"changes"`
	// Stages lists the stages that changed: the new program's order, then
	// the removed ones in the old order.
	Stages []StageDiff `json:"stages"`
}

// StageDiff is what changed in one stage.
type StageDiff struct {
	Name   string `json:"name"`           // its name in the new journey (the old one when removed)
	Change string `json:"change"`         // added | removed | moved | changed
	From   string `json:"from,omitempty"` // moved: the old name
	// Goto is where a `removed` block sends the customers in a removed
	// stage: a stage, "end", or "" (they exit, cause stage_removed).
	Goto    string    `json:"goto,omitempty"`
	Range   *ir.Range `json:"range,omitempty"`
	Changes []Change  `json:"changes"`
}

// Change is one detail: What names it ("send welcome", "send welcome
// subject", "after #1", "entry signed_up"); Old and New describe it in
// words or source text (Old empty when added, New when removed).
type Change struct {
	Kind  string    `json:"kind"` // added | removed | changed
	What  string    `json:"what"`
	Old   string    `json:"old,omitempty"`
	New   string    `json:"new,omitempty"`
	Range *ir.Range `json:"range,omitempty"` // in the new program: the item, or what held it when removed
}

// Empty reports whether the diff holds no change at all.
func (d *Diff) Empty() bool {
	return len(d.Journeys) == 0 && len(d.Channels) == 0 && len(d.Policies) == 0 &&
		len(d.Schemas) == 0 && len(d.Templates) == 0
}

// Journey returns the diff of the journey named name in the new program
// (or the removed one of that name), or nil when it did not change.
func (d *Diff) Journey(name string) *JourneyDiff {
	for i := range d.Journeys {
		if d.Journeys[i].Name == name {
			return &d.Journeys[i]
		}
	}
	return nil
}

// NewName returns the name in the new program of the journey named journey
// in the old one: its new name when a moved block renamed it, else itself.
func (d *Diff) NewName(journey string) string {
	for i := range d.Journeys {
		if d.Journeys[i].Change == Moved && d.Journeys[i].From == journey {
			return d.Journeys[i].Name
		}
	}
	return journey
}

// Stage returns the diff of the stage named name (new name, or the old
// one of a removed stage), or nil.
func (j *JourneyDiff) Stage(name string) *StageDiff {
	for i := range j.Stages {
		if j.Stages[i].Name == name {
			return &j.Stages[i]
		}
	}
	return nil
}

// Compute returns the semantic diff from old to new. Either may be nil
// (an empty program).
func Compute(old, new *ir.Program) *Diff {
	if old == nil {
		old = &ir.Program{}
	}
	if new == nil {
		new = &ir.Program{}
	}
	d := &Diff{Format: DiffFormat, Journeys: []JourneyDiff{}}
	d.Channels = compareItems(channelItems(old), channelItems(new), nil)
	d.Policies = compareItems(policyItems(old), policyItems(new), nil)
	d.Schemas = compareItems(schemaItems(old), schemaItems(new), nil)
	d.Templates = compareItems(templateItems(old), templateItems(new), nil)

	movedFrom := journeyMoves(new) // new name -> old name
	taken := map[string]bool{}     // old journeys compared with a new one
	for i := range new.Journeys {
		nj := &new.Journeys[i]
		from, moved := movedFrom[nj.Name]
		if !moved {
			from = nj.Name
		}
		oj := old.Journey(from)
		if oj == nil && moved {
			// The old name is gone from the base already (the block
			// outlived its change): compare by the new name.
			from, moved = nj.Name, false
			oj = old.Journey(from)
		}
		if oj == nil {
			d.Journeys = append(d.Journeys, JourneyDiff{
				Name: nj.Name, Change: Added, Range: rangeOf(nj.Range),
				Changes: []Change{}, Stages: addedStages(nj),
			})
			continue
		}
		taken[oj.Name] = true
		jd := compareJourney(oj, nj)
		if moved {
			jd.Change, jd.From = Moved, oj.Name
			if r := journeyMoveRange(new, nj.Name); r != nil {
				jd.Range = r
			}
		}
		if jd.Change != "" {
			d.Journeys = append(d.Journeys, jd)
		}
	}
	for i := range old.Journeys {
		oj := &old.Journeys[i]
		if taken[oj.Name] || new.Journey(oj.Name) != nil {
			continue
		}
		d.Journeys = append(d.Journeys, JourneyDiff{Name: oj.Name, Change: Removed, Changes: []Change{}, Stages: []StageDiff{}})
	}
	return d
}

// compareJourney diffs two versions of a journey; the result's Change is
// "" when nothing differs.
func compareJourney(oj, nj *ir.Journey) JourneyDiff {
	jd := JourneyDiff{Name: nj.Name, Range: rangeOf(nj.Range), Stages: []StageDiff{}}
	jd.Changes = compareItems(journeyItems(oj), journeyItems(nj), rangeOf(nj.Range))

	movedFrom := stageMoves(nj)  // new name -> old name
	removed := stageRemovals(nj) // old name -> the removal
	taken := map[string]bool{}   // old stages compared with a new one
	for i := range nj.Stages {
		ns := &nj.Stages[i]
		from, moved := movedFrom[ns.Name]
		if !moved {
			from = ns.Name
		}
		os := oj.Stage(from)
		if os == nil && moved {
			from, moved = ns.Name, false
			os = oj.Stage(from)
		}
		if os == nil {
			jd.Stages = append(jd.Stages, addedStage(ns))
			continue
		}
		taken[os.Name] = true
		changes := compareItems(stageItems(os), stageItems(ns), rangeOf(ns.Range))
		switch {
		case moved:
			sd := StageDiff{Name: ns.Name, Change: Moved, From: os.Name, Range: rangeOf(ns.Range), Changes: changes}
			if m := stageMoveOf(nj, ns.Name); m != nil {
				sd.Range = rangeOf(m.rng)
			}
			jd.Stages = append(jd.Stages, sd)
		case len(changes) > 0:
			jd.Stages = append(jd.Stages, StageDiff{Name: ns.Name, Change: Changed, Range: rangeOf(ns.Range), Changes: changes})
		}
	}
	for i := range oj.Stages {
		os := &oj.Stages[i]
		if taken[os.Name] || nj.Stage(os.Name) != nil {
			continue
		}
		sd := StageDiff{Name: os.Name, Change: Removed, Changes: []Change{}}
		if r, ok := removed[os.Name]; ok {
			sd.Goto, sd.Range = r.to, rangeOf(r.rng)
		}
		jd.Stages = append(jd.Stages, sd)
	}
	if len(jd.Changes) > 0 || len(jd.Stages) > 0 {
		jd.Change = Changed
	}
	return jd
}

func addedStages(j *ir.Journey) []StageDiff {
	out := make([]StageDiff, len(j.Stages))
	for i := range j.Stages {
		out[i] = addedStage(&j.Stages[i])
	}
	return out
}

func addedStage(s *ir.Stage) StageDiff {
	return StageDiff{Name: s.Name, Change: Added, Range: rangeOf(s.Range), Changes: []Change{}}
}

// rangeOf returns a copy of r, or nil for a range that points nowhere (a
// hand-made program).
func rangeOf(r ir.Range) *ir.Range {
	if r.File == "" && r.Start.Line == 0 {
		return nil
	}
	return &r
}
