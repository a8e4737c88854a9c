package compiler

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/lang"
)

// Limits on what a workspace may declare. A workspace is untrusted input
// (a pull request), and the checks and the engine cost time and memory in
// proportion to what it declares: a 59 MB file with 200,000 sends ran the
// compiler past 120 s and 4.9 GB; 8 MiB with 32,000 sends took 12.6 s and
// 633 MB here (a loaded machine), and is now refused after parsing, 7.4 s
// and 528 MB. The limits are far above real use (the benchmarks' thousand
// generated journeys have 12,000 stages and 5,000 sends) and are
// documented in docs/operations.md. Past one, the workspace
// is reported at the first block over the limit and not checked further.
const (
	MaxJourneys    = 5_000
	MaxStages      = 20_000  // in all journeys
	MaxActions     = 20_000  // sends, updates and emits, in all journeys
	MaxTransitions = 100_000 // goto, branch, split variants, on, after, at
	MaxTestSteps   = 100_000 // in all scenario tests
)

// overLimits reports every count of the workspace that passes its limit.
func (c *checker) overLimits() bool {
	type count struct {
		what  string
		limit int
		n     int
		first *lang.Node // the first block past the limit
	}
	counts := []*count{
		{what: "journeys", limit: MaxJourneys},
		{what: "stages", limit: MaxStages},
		{what: "sends, updates and emits", limit: MaxActions},
		{what: "transitions", limit: MaxTransitions},
		{what: "scenario test steps", limit: MaxTestSteps},
	}
	add := func(c *count, n int, at *lang.Node) {
		if c.n <= c.limit && c.n+n > c.limit {
			c.first = at
		}
		c.n += n
	}
	journeys, stages, actions, transitions, steps := counts[0], counts[1], counts[2], counts[3], counts[4]
	for _, j := range c.ws.Journeys {
		add(journeys, 1, &j.Node)
		for _, s := range j.Stages {
			add(stages, 1, &s.Node)
			add(actions, len(s.Actions), &s.Node)
			n := len(s.Branches) + len(s.Ons) + len(s.Afters) + len(s.Ats)
			if s.Goto != nil {
				n++
			}
			for _, sp := range s.Splits {
				n += len(sp.Variants)
			}
			add(transitions, n, &s.Node)
		}
	}
	for _, t := range c.ws.Tests {
		add(steps, len(t.Steps), &t.Node)
	}
	over := false
	for _, k := range counts {
		if k.n <= k.limit {
			continue
		}
		over = true
		c.diags = append(c.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Workspace declares too much",
			Detail: fmt.Sprintf("The workspace declares %d %s; the limit is %d, passed here. Split it into several workspaces. The workspace was not checked further.",
				k.n, k.what, k.limit),
			Subject: k.first.DefRange.Ptr(),
		})
	}
	return over
}
