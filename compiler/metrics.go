package compiler

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/suggest"
)

// resolveMetrics checks the top-level metric blocks (CX scores) and keeps
// them for lowering: a unique name, a known kind, a declared event when the
// workspace declares events, and a value that is a number over that
// event's properties. Only a metric with no error reaches the IR.
func (c *checker) resolveMetrics() {
	seen := map[string]*Symbol{}
	for _, m := range c.ws.Metrics {
		if c.declare(SymMetric, "", m.Name, &m.Node, m, seen) == nil {
			continue
		}
		ok := m.Kind != nil && m.Event != nil && m.Value != nil // a missing one was reported by the loader
		out := ir.Metric{Name: m.Name.Value, Range: c.rng(m.Range)}
		if m.Kind != nil {
			if k, lit := c.staticString(m.Kind, "a metric kind"); !lit {
				ok = false
			} else if !contains(lang.MetricKinds, k) {
				c.errorf(m.Kind.Expr.Range(), "Unknown metric kind", "%q is not a metric kind: nps, csat, ces or mean.%s",
					k, suggest.Hint(k, lang.MetricKinds, ""))
				ok = false
			} else {
				out.Kind = k
			}
		}
		var ev *event
		if m.Event != nil {
			if name, lit := c.staticString(m.Event, "an event name"); !lit {
				ok = false
			} else {
				ev = c.eventLabel(lang.Label{Value: name, Range: m.Event.Expr.Range()}, "event")
				if ev == nil && c.eventsDeclared {
					ok = false
				}
				out.Event = name
			}
		}
		if m.Value != nil {
			sc := &scope{where: "a metric's value", event: true, eventOf: ev}
			t := c.checkExpr(m.Value.Expr, sc)
			if t != cty.DynamicPseudoType && t != cty.Number {
				c.errorf(m.Value.Expr.Range(), "Metric value is not a number",
					"`value` is one response, a number, but this is a %s. Use a number property, e.g. `event.score`.", typeName(t))
				ok = false
			}
			if ok && !readsEvent(m.Value.Expr) {
				c.warnf(m.Value.Expr.Range(), "Metric value does not read the event",
					"`value` is the same for every response: it reads nothing of the %q event, so every answer scores alike and the metric counts answers, nothing more. Take the answer from the event's properties, e.g. `value = event.score`.",
					out.Event)
			}
			out.Value = c.expr(m.Value)
		}
		if ok {
			c.metrics = append(c.metrics, out)
		}
	}
}

// readsEvent reports whether an expression reads the event (a traversal
// from `event`): a metric's value that does not is a constant, almost
// surely a mistake.
func readsEvent(e hcl.Expression) bool {
	for _, t := range e.Variables() {
		if t.RootName() == "event" {
			return true
		}
	}
	return false
}
