package diff

import "github.com/waymark-dev/waymark/compiler/ir"

// The author's instructions for the customers in flight: `moved` and
// `removed` blocks and `in_flight`, read from the new program.

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

// journeyMoves maps each journey renamed by a `moved` block to its old name.
func journeyMoves(p *ir.Program) map[string]string {
	return map[string]string{}
}

// journeyMoveRange is the `moved` block that renamed the journey to.
func journeyMoveRange(p *ir.Program, to string) *ir.Range {
	return nil
}

// stageMoves maps each stage renamed by a `moved` block to its old name.
func stageMoves(j *ir.Journey) map[string]string {
	return map[string]string{}
}

func stageMoveOf(j *ir.Journey, to string) *stageMove {
	return nil
}

// stageRemovals maps each stage named by a `removed` block to it.
func stageRemovals(j *ir.Journey) map[string]stageRemoval {
	return map[string]stageRemoval{}
}

// inFlight describes what happens to a journey's customers in flight when
// it changes: "migrate" (by stage name) or "pin".
func inFlight(j *ir.Journey) string {
	return "migrate"
}
