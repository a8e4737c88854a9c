package compiler

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/suggest"
)

// The blocks that say how customers of the running version continue in this
// one: in_flight, moved and removed in a journey, moved at the top level.
// They are checked like Terraform's moved blocks: `from` names something
// that is gone (so it is never resolved against the declarations, and an
// undeclared name there is no error), the end of every chain exists, one
// destination per source and one source per destination, no cycles.

// move is one moved block as written: from and to by name.
type move struct {
	block    *lang.Moved
	from, to string
	toRange  hcl.Range
}

// resolveInFlight reads a journey's in_flight rule.
func (c *checker) resolveInFlight(jr *journey) {
	a := jr.decl.InFlight
	if a == nil {
		return
	}
	v, ok := c.staticString(a, "an in-flight rule: \"migrate\" or \"pin\"")
	if !ok {
		return
	}
	if !contains(lang.InFlightRules, v) {
		c.errorf(a.Expr.Range(), "Unknown in_flight rule", "%q is not an in-flight rule: \"migrate\" (the default) moves the customers inside to this version by stage name, \"pin\" lets them finish on the version they entered.%s",
			v, suggest.Hint(v, lang.InFlightRules, "Rules: "))
		return
	}
	if v == lang.InFlightPin {
		jr.inFlight = ir.InFlightPin
	}
}

// resolveStageMigrations checks a journey's moved and removed blocks and
// keeps them, chains resolved, for lowering.
func (c *checker) resolveStageMigrations(jr *journey) {
	what := migrationKind{kind: "stage", in: "journey " + quote(jr.decl.Name.Value),
		exists: func(name string) *Symbol { return jr.syms[name] },
		names:  func() []string { return stageNames(jr.decl) }}
	moves, resolved := c.moves(jr.decl.Moved, what)
	for _, mv := range resolved {
		jr.moved = append(jr.moved, ir.StageMove{From: mv.from, To: mv.to, Range: c.rng(mv.block.Range)})
	}
	sources := map[string]hcl.Range{}
	for _, mv := range moves {
		if _, dup := sources[mv.from]; !dup {
			sources[mv.from] = mv.block.DefRange
		}
	}
	for _, rm := range jr.decl.Removed {
		if rm.From == nil {
			continue // the loader reported the missing attribute
		}
		from, ok := c.goneName(rm.From, what, rm.DefRange, "removed")
		if !ok {
			continue
		}
		if prev, dup := sources[from]; dup {
			c.errorf(rm.DefRange, "Stage moved and removed", "Stage %q is already named by the moved or removed block at %s: a stage that is gone goes to one place. Keep one block.", from, rangeString(prev))
			continue
		}
		sources[from] = rm.DefRange
		out := ir.StageRemoval{From: from, Range: c.rng(rm.Range)}
		if rm.Goto != nil {
			c.target(jr, rm.Goto)
			out.Goto = c.targets[rm.Goto]
		}
		jr.removed = append(jr.removed, out)
	}
}

// resolveJourneyMoves checks the top-level moved blocks.
func (c *checker) resolveJourneyMoves() {
	what := migrationKind{kind: "journey", in: "this workspace",
		exists: func(name string) *Symbol {
			if j := c.journeys[name]; j != nil {
				return j.sym
			}
			return nil
		},
		names: func() []string { return sortedKeys(c.journeys) }}
	_, resolved := c.moves(c.ws.Moved, what)
	for _, mv := range resolved {
		c.journeyMoves = append(c.journeyMoves, ir.JourneyMove{From: mv.from, To: mv.to, Range: c.rng(mv.block.Range)})
	}
}

// moves reads moved blocks: those that read well, and the same with their
// chains resolved (without those the chain checks refuse).
func (c *checker) moves(blocks []*lang.Moved, what migrationKind) (read, resolved []move) {
	for _, m := range blocks {
		if mv, ok := c.moveBlock(m, what); ok {
			read = append(read, mv)
		}
	}
	return read, c.resolveChains(read, what)
}

// migrationKind says what moved blocks rename: stages of a journey, or
// journeys of the workspace.
type migrationKind struct {
	kind   string // "stage" or "journey"
	in     string // where they are declared, for messages
	exists func(name string) *Symbol
	names  func() []string
}

// moveBlock reads one moved block's from and to. The to is checked once the
// chains are known: it may be the from of another block.
func (c *checker) moveBlock(m *lang.Moved, what migrationKind) (move, bool) {
	if m.From == nil || m.To == nil {
		return move{}, false // the loader reported the missing attribute
	}
	from, ok := c.goneName(m.From, what, m.DefRange, "moved")
	if !ok {
		return move{}, false
	}
	ref, ok := lang.AsReference(m.To.Expr)
	if !ok || ref.Kind != what.kind {
		c.errorf(m.To.Expr.Range(), "Expected a "+what.kind+" reference", "`to` takes `%s.NAME`, the %s's new name.", what.kind, what.kind)
		return move{}, false
	}
	return move{block: m, from: from, to: ref.Name, toRange: ref.NameRange}, true
}

// goneName reads the from of a moved or removed block: KIND.NAME of
// something that must not be declared any more.
func (c *checker) goneName(a *lang.Attr, what migrationKind, block hcl.Range, blockType string) (string, bool) {
	ref, ok := lang.AsReference(a.Expr)
	if !ok || ref.Kind != what.kind {
		c.errorf(a.Expr.Range(), "Expected a "+what.kind+" reference", "`from` takes `%s.NAME`, the name of a %s that %s no longer declares.", what.kind, what.kind, what.in)
		return "", false
	}
	if sym := what.exists(ref.Name); sym != nil {
		c.ref(sym, ref.NameRange, false)
		if blockType == "removed" {
			c.errorf(block, "Removed "+what.kind+" still exists", "A `removed` block is for a %s that is gone, but %s declares %s %q at %s. Remove the block, or the %s.",
				what.kind, what.in, what.kind, ref.Name, rangeString(sym.NameRange), what.kind)
		} else {
			c.errorf(block, "Moved from a "+what.kind+" that still exists", "A `moved` block renames a %s, so `from` must name one that is gone, but %s declares %s %q at %s. Remove the block, or rename the %s.",
				what.kind, what.in, what.kind, ref.Name, rangeString(sym.NameRange), what.kind)
		}
		return "", false
	}
	return ref.Name, true
}

// resolveChains checks moves as a whole (one destination per source, one
// source per destination, no cycles, every chain ending at a declared name)
// and returns them with each from taken to the end of its chain.
func (c *checker) resolveChains(moves []move, what migrationKind) []move {
	byFrom := map[string]move{}
	byTo := map[string]move{}
	var ok []move
	for _, mv := range moves {
		if prev, dup := byFrom[mv.from]; dup {
			c.errorf(mv.block.DefRange, "Duplicate moved source", "%s %q is already moved by the block at %s: one %s moves to one place. Keep one block.",
				upperFirst(what.kind), mv.from, rangeString(prev.block.DefRange), what.kind)
			continue
		}
		if prev, dup := byTo[mv.to]; dup {
			c.errorf(mv.block.DefRange, "Duplicate moved destination", "The block at %s already moves %s %q to %q: each %s takes the customers of one old name. Keep one block.",
				rangeString(prev.block.DefRange), what.kind, prev.from, mv.to, what.kind)
			continue
		}
		byFrom[mv.from], byTo[mv.to] = mv, mv
		ok = append(ok, mv)
	}
	var out []move
	for _, mv := range ok {
		end, seen := mv, map[string]bool{mv.from: true}
		cycle := false
		for what.exists(end.to) == nil {
			next, link := byFrom[end.to]
			if !link {
				break
			}
			if seen[next.from] || seen[next.to] {
				cycle = true
				break
			}
			seen[next.from] = true
			end = next
		}
		switch {
		case cycle:
			c.errorf(mv.block.DefRange, "Cycle of moved blocks", "Following `to` from %s %q comes back to where it started: a chain of moved blocks must end at a %s that %s declares.",
				what.kind, mv.from, what.kind, what.in)
		case what.exists(end.to) == nil:
			if end == mv { // reported once, at the block whose to is missing
				c.errorf(mv.toRange, "Unknown "+what.kind, "%s has no %s named %q, so the customers moved here would have nowhere to go.%s",
					upperFirst(what.in), what.kind, mv.to, suggest.Hint(mv.to, what.names(), plural(what.kind)+" declared: "))
			}
		default:
			if end == mv {
				c.ref(what.exists(mv.to), mv.toRange, false)
			}
			out = append(out, move{block: mv.block, from: mv.from, to: end.to, toRange: mv.toRange})
		}
	}
	return out
}

func quote(s string) string { return `"` + s + `"` }
