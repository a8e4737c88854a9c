package compiler

import (
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
)

// graph checks the shape of each journey's state machine: each stage leaves
// by one kind of transition, every stage is reachable, and no cycle of
// stages runs without waiting.
func (c *checker) graph() {
	for _, j := range c.ws.Journeys {
		jr := c.journeys[j.Name.Value]
		if jr == nil || jr.decl != j {
			continue
		}
		for _, s := range j.Stages {
			c.transitionShape(s)
		}
		c.reachability(jr)
		c.immediateCycles(jr)
	}
}

// transitionShape enforces "exactly one kind of transition".
func (c *checker) transitionShape(s *lang.Stage) {
	var kinds []string
	if s.Goto != nil {
		kinds = append(kinds, "goto")
	}
	if len(s.Branches) > 0 {
		kinds = append(kinds, "branch")
	}
	if len(s.Splits) > 0 {
		kinds = append(kinds, "split")
	}
	if len(kinds) > 1 {
		c.errorf(s.Name.Range, "More than one immediate transition",
			"Stage %q leaves at once by %s; a stage leaves by one of them. Use a `branch` list to choose between targets.", s.Name.Value, strings.Join(kinds, " and "))
	}
	if len(kinds) > 0 && s.Waits() {
		c.errorf(s.Name.Range, "Immediate and waiting transitions mixed",
			"Stage %q leaves at once (%s) and also waits (on/after/at); the wait could never happen. Move the wait to the next stage.", s.Name.Value, strings.Join(kinds, ", "))
	}
	for i, b := range s.Branches {
		last := i == len(s.Branches)-1
		switch {
		case b.When == nil && !last:
			c.errorf(b.DefRange, "Default branch is not last",
				"A branch without `when` always matches, so the %d branch(es) after it could never be taken. Move it to the end.", len(s.Branches)-1-i)
		case b.When != nil && last:
			c.errorf(b.DefRange, "Branch list without a default",
				"When no `when` holds, the customer would have nowhere to go. End the list with a branch that has no `when`, e.g. `branch { goto = end }`.")
		}
	}
}

// edges lists the stage targets of a stage; immediate tells whether they
// are taken without waiting.
func (c *checker) edges(s *lang.Stage) (targets []string, immediate bool) {
	add := func(a *lang.Attr) {
		if a == nil {
			return
		}
		if t, ok := c.targets[a]; ok && t != ir.End {
			targets = append(targets, t)
		}
	}
	add(s.Goto)
	for _, b := range s.Branches {
		add(b.Goto)
	}
	for _, sp := range s.Splits {
		for _, v := range sp.Variants {
			add(v.Goto)
		}
	}
	if !s.Waits() {
		return targets, true
	}
	for _, on := range s.Ons {
		add(on.Goto)
	}
	for _, af := range s.Afters {
		add(af.Goto)
	}
	for _, at := range s.Ats {
		add(at.Goto)
	}
	return targets, false
}

func (c *checker) reachability(jr *journey) {
	j := jr.decl
	if len(j.Stages) == 0 {
		c.errorf(j.DefRange, "Journey without stages", "Journey %q has no stage, so a customer who enters has nothing to do. Add a `stage` block.", j.Name.Value)
		return
	}
	for _, s := range j.Stages {
		if c.hasUnresolvedTarget(s) {
			return // the unknown target is reported; unreachable stages behind it would only be noise
		}
	}
	reached := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if reached[name] {
			return
		}
		reached[name] = true
		if s := jr.stages[name]; s != nil {
			targets, _ := c.edges(s)
			for _, t := range targets {
				visit(t)
			}
		}
	}
	visit(j.Stages[0].Name.Value)
	// Customers of the previous version arrive where moved and removed
	// blocks send them: a stage only they reach is not dead.
	for _, m := range jr.moved {
		visit(m.To)
	}
	for _, rm := range jr.removed {
		if rm.Goto != "" && rm.Goto != ir.End {
			visit(rm.Goto)
		}
	}
	for _, s := range j.Stages {
		if !reached[s.Name.Value] && jr.stages[s.Name.Value] == s {
			c.warnf(s.Name.Range, "Unreachable stage",
				"No path from the first stage (%q) leads to stage %q, so no customer will ever be in it. Point a transition at it, or remove it.",
				j.Stages[0].Name.Value, s.Name.Value)
		}
	}
}

// hasUnresolvedTarget reports whether a goto of s did not resolve.
func (c *checker) hasUnresolvedTarget(s *lang.Stage) bool {
	attrs := []*lang.Attr{s.Goto}
	for _, b := range s.Branches {
		attrs = append(attrs, b.Goto)
	}
	for _, sp := range s.Splits {
		for _, v := range sp.Variants {
			attrs = append(attrs, v.Goto)
		}
	}
	for _, on := range s.Ons {
		attrs = append(attrs, on.Goto)
	}
	for _, af := range s.Afters {
		attrs = append(attrs, af.Goto)
	}
	for _, at := range s.Ats {
		attrs = append(attrs, at.Goto)
	}
	for _, a := range attrs {
		if a == nil {
			continue
		}
		if _, ok := c.targets[a]; !ok {
			return true
		}
	}
	return false
}

// immediateCycles finds cycles made only of immediate transitions: a
// customer caught in one would loop forever without waiting.
func (c *checker) immediateCycles(jr *journey) {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = onPath
		path = append(path, name)
		s := jr.stages[name]
		if targets, immediate := c.edges(s); immediate {
			for _, t := range targets {
				switch state[t] {
				case unvisited:
					visit(t)
				case onPath:
					c.reportCycle(jr, path, t)
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = done
	}
	for _, s := range jr.decl.Stages {
		if jr.stages[s.Name.Value] == s && state[s.Name.Value] == unvisited {
			visit(s.Name.Value)
		}
	}
}

func (c *checker) reportCycle(jr *journey, path []string, back string) {
	start := 0
	for i, n := range path {
		if n == back {
			start = i
		}
	}
	loop := append(append([]string(nil), path[start:]...), back)
	s := jr.stages[back]
	if len(loop) == 2 {
		c.errorf(s.Name.Range, "Loop that never waits",
			"Stage %q leads back to itself without an `on`, `after` or `at`, so a customer would loop forever. Add a wait.", back)
		return
	}
	c.errorf(s.Name.Range, "Loop that never waits",
		"Stages %s lead back to each other without an `on`, `after` or `at`, so a customer would loop forever. Add a wait to one of them.",
		strings.Join(loop, " → "))
}
