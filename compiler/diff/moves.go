package diff

import "github.com/waymark-dev/waymark/compiler/ir"

// The author's instructions for the customers in flight, read from the new
// program: `moved` and `removed` blocks and `in_flight`.

// stageMove is a `moved` block of a journey.
type stageMove struct {
	from, to string
	rng      ir.Range
}

// stageRemoval is a `removed` block of a journey.
type stageRemoval struct {
	to  string // a stage, "end", or "" (exit)
	rng ir.Range
}

// journeyMoves maps each journey renamed by a top-level `moved` block to its
// old name.
func journeyMoves(p *ir.Program) map[string]string {
	out := make(map[string]string, len(p.Moved))
	for _, m := range p.Moved {
		out[m.To] = m.From
	}
	return out
}

// journeyMoveRange is the `moved` block that renamed a journey to to.
func journeyMoveRange(p *ir.Program, to string) *ir.Range {
	for _, m := range p.Moved {
		if m.To == to {
			return rangeOf(m.Range)
		}
	}
	return nil
}

// stageMoves maps each stage renamed by a `moved` block to its old name.
func stageMoves(j *ir.Journey) map[string]string {
	out := make(map[string]string, len(j.Moved))
	for _, m := range j.Moved {
		out[m.To] = m.From
	}
	return out
}

func stageMoveOf(j *ir.Journey, to string) *stageMove {
	for _, m := range j.Moved {
		if m.To == to {
			return &stageMove{from: m.From, to: m.To, rng: m.Range}
		}
	}
	return nil
}

// stageRemovals maps each stage named by a `removed` block to it.
func stageRemovals(j *ir.Journey) map[string]stageRemoval {
	out := make(map[string]stageRemoval, len(j.Removed))
	for _, r := range j.Removed {
		out[r.From] = stageRemoval{to: r.Goto, rng: r.Range}
	}
	return out
}

// inFlight describes what happens to a journey's customers in flight when
// it changes: "migrate" (by stage name) or "pin".
func inFlight(j *ir.Journey) string {
	if j.InFlight == "" {
		return ir.InFlightMigrate
	}
	return j.InFlight
}
