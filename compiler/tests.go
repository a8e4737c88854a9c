package compiler

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/suggest"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// tests checks scenario tests against the workspace: every journey, stage,
// send, event, property and trait they name must exist.
func (c *checker) tests() {
	for _, t := range c.ws.Tests {
		if t.Start != nil {
			if v, ok := c.staticString(t.Start, "an RFC 3339 time such as \"2026-03-02T10:00:00+08:00\""); ok {
				if _, err := time.Parse(time.RFC3339, v); err != nil {
					c.errorf(t.Start.Expr.Range(), "Invalid start time",
						"%q is not an RFC 3339 time; write it like \"2026-03-02T10:00:00+08:00\" or \"2026-03-02T02:00:00Z\".", v)
				}
			}
		}
		if t.Customer != nil {
			c.testCustomer(t.Customer)
		}
		for _, st := range t.Steps {
			switch st := st.(type) {
			case *lang.EventStep:
				ev := c.eventLabel(st.Event, "event")
				for _, p := range st.Properties {
					c.testValue(p, ev, "property")
				}
			case *lang.IdentifyStep:
				for _, a := range st.Traits {
					c.testTrait(a)
				}
			case *lang.WaitStep:
				if _, err := timespec.ParseDuration(st.Duration.Value); err != nil {
					c.timeError(st.Duration.Range, st.Duration.Value, "Invalid duration", err)
				}
			case *lang.ExpectStep:
				c.testExpect(st)
			case *lang.SubscriptionStep:
				c.testSubscription(st)
			}
		}
	}
}

func (c *checker) testCustomer(a *lang.Attr) {
	obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		c.errorf(a.Expr.Range(), "Customer must be an object", "Write the profile as `customer = { id = \"c-1\", email = \"...\" }`.")
		return
	}
	hasID := false
	for _, item := range obj.Items {
		key, ok := objectKey(item.KeyExpr)
		if !ok {
			continue
		}
		attr := &lang.Attr{Name: key, Expr: item.ValueExpr, NameRange: item.KeyExpr.Range(), Range: hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())}
		if key == "id" {
			hasID = true
			c.testLiteral(attr)
			continue
		}
		c.testTrait(attr)
	}
	if !hasID {
		c.errorf(a.Expr.Range(), "Customer without id", "Every test customer needs an `id`, e.g. `customer = { id = \"c-1\" }`.")
	}
}

// testTrait checks a trait set by a test (in customer or identify).
func (c *checker) testTrait(a *lang.Attr) {
	v := c.testLiteral(a)
	if a.Name == "timezone" && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		if _, err := timespec.LoadZone(v.AsString()); err != nil {
			c.errorf(a.Expr.Range(), "Unknown time zone", "%s", sentence(err.Error()))
		}
	}
	if !c.customerDeclared {
		return
	}
	f := c.traits[a.Name]
	if f == nil {
		c.errorf(a.NameRange, "Unknown trait", "The customer schema declares no trait named %q.%s",
			a.Name, suggest.Hint(a.Name, c.traitNames(), "Traits declared: "))
		return
	}
	c.ref(f.sym, a.NameRange, false)
	c.expectType(a.Expr, v.Type(), f.typ, fmt.Sprintf("trait %q", a.Name))
}

// testValue checks a test event's property against the event's schema.
func (c *checker) testValue(a *lang.Attr, ev *event, what string) {
	v := c.testLiteral(a)
	if ev == nil || len(ev.props) == 0 {
		return
	}
	p := ev.props[a.Name]
	if p == nil {
		c.errorf(a.NameRange, "Unknown event property", "Event %q declares no %s %q.%s",
			ev.decl.Name.Value, what, a.Name, suggest.Hint(a.Name, fieldNames(ev.order), "Its properties: "))
		return
	}
	c.ref(p.sym, a.NameRange, false)
	c.expectType(a.Expr, v.Type(), p.typ, fmt.Sprintf("property %q", a.Name))
}

// testLiteral evaluates a test value: data, with functions but no variables.
func (c *checker) testLiteral(a *lang.Attr) cty.Value {
	v, diags := a.Expr.Value(&hcl.EvalContext{Functions: c.funcs})
	c.addDiags(diags)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return v
}

func (c *checker) testExpect(st *lang.ExpectStep) {
	var jr *journey
	if st.Journey != nil {
		if name, ok := c.staticString(st.Journey, "a journey name"); ok {
			jr = c.journeys[name]
			if jr == nil {
				c.errorf(st.Journey.Expr.Range(), "Unknown journey", "No journey named %q is declared.%s",
					name, suggest.Hint(name, sortedKeys(c.journeys), "Journeys declared: "))
			} else {
				c.ref(jr.sym, st.Journey.Expr.Range(), true)
			}
		}
	}
	if st.Stage != nil {
		if st.Journey == nil {
			c.errorf(st.Stage.NameRange, "Stage without journey", "`stage` is checked against one journey: set `journey = \"NAME\"` in this expect.")
		} else if name, ok := c.staticString(st.Stage, "a stage name"); ok && jr != nil {
			if sym := jr.syms[name]; sym != nil {
				c.ref(sym, st.Stage.Expr.Range(), true)
			} else {
				c.errorf(st.Stage.Expr.Range(), "Unknown stage", "Journey %q has no stage named %q.%s",
					jr.decl.Name.Value, name, suggest.Hint(name, stageNames(jr.decl), "Its stages: "))
			}
		}
	}
	if st.Status != nil {
		if st.Journey == nil {
			c.errorf(st.Status.NameRange, "Status without journey", "`status` is the status of one journey's latest instance: set `journey = \"NAME\"` in this expect.")
		}
		if v, ok := c.staticString(st.Status, "a status"); ok && !contains(lang.Statuses, v) {
			c.errorf(st.Status.Expr.Range(), "Unknown status", "%q is not a status.%s", v, suggest.Hint(v, lang.Statuses, "Statuses: "))
		}
	}
	for _, a := range []*lang.Attr{st.Sent, st.NotSent, st.Unsubscribed} {
		if a != nil {
			c.testSends(a, jr, st.Journey != nil)
		}
	}
}

// testSubscription checks a subscription step: a declared topic and a status.
func (c *checker) testSubscription(st *lang.SubscriptionStep) {
	if st.Topic != nil {
		if name, ok := c.staticString(st.Topic, "a topic name"); ok {
			if t := c.topics[name]; t != nil {
				c.ref(t.sym, st.Topic.Expr.Range(), true)
			} else {
				c.errorf(st.Topic.Expr.Range(), "Unknown topic", "No topic named %q is declared.%s",
					name, suggest.Hint(name, sortedKeys(c.topics), "Topics declared: "))
			}
		}
	}
	if st.Status != nil {
		if v, ok := c.staticString(st.Status, "a subscription status"); ok && !contains(lang.SubscriptionStatuses, v) {
			c.errorf(st.Status.Expr.Range(), "Invalid subscription status", "%q is not a subscription status: write \"subscribed\" or \"unsubscribed\".%s",
				v, suggest.Hint(v, lang.SubscriptionStatuses, ""))
		}
	}
}

// testSends checks a list of send names: in the expect's journey when it
// names one, else in any journey.
func (c *checker) testSends(a *lang.Attr, jr *journey, scoped bool) {
	tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		c.errorf(a.Expr.Range(), "Expected a list of send names", "Write `%s = [\"send_name\", ...]`.", a.Name)
		return
	}
	for _, e := range tuple.Exprs {
		name, ok := lang.StaticString(e)
		if !ok {
			c.errorf(e.Range(), "Expected a send name", "Each item is a send's name as a string literal.")
			continue
		}
		if scoped {
			if jr == nil {
				continue // the unknown journey is already reported
			}
			if sym := jr.sendSym[name]; sym != nil {
				c.ref(sym, e.Range(), true)
				continue
			}
			c.errorf(e.Range(), "Unknown send", "Journey %q has no send named %q.%s",
				jr.decl.Name.Value, name, suggest.Hint(name, sortedKeys(jr.sends), "Its sends: "))
			continue
		}
		var found *Symbol
		var all []string
		for _, jn := range sortedKeys(c.journeys) {
			j := c.journeys[jn]
			if sym := j.sendSym[name]; sym != nil && found == nil {
				found = sym
			}
			all = append(all, sortedKeys(j.sends)...)
		}
		if found == nil {
			c.errorf(e.Range(), "Unknown send", "No journey has a send named %q.%s", name, suggest.Hint(name, all, ""))
			continue
		}
		c.ref(found, e.Range(), true)
	}
}
