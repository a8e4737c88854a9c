package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
)

// allExprs lists every expression of an engine's program, templates too.
func allExprs(e *Engine) map[string]*expr {
	out := map[string]*expr{}
	add := func(where string, x *expr) {
		if x != nil {
			out[where+": "+x.rng.File+":"+itoa(x.rng.Start.Line)+" "+itoa(x.rng.Start.Col)] = x
		}
	}
	for _, gs := range e.entries {
		for _, g := range gs {
			for _, t := range g.triggers {
				add("entry", t.when)
			}
		}
	}
	for _, j := range e.journeys {
		for _, t := range append(append([]trigger{}, j.goals...), j.exits...) {
			add("goal/exit", t.when)
		}
		for _, st := range j.stages {
			for _, a := range st.actions {
				for _, f := range a.fields {
					add("field "+f.name, f.expr)
				}
				add("props", a.props)
			}
			for _, b := range st.branches {
				add("branch", b.when)
			}
			for _, o := range st.ons {
				add("on", o.when)
			}
			for _, a := range st.ats {
				add("at", a.time)
			}
		}
	}
	for path, t := range e.templates {
		out["template "+path] = &expr{x: t.expr, uses: useAll, fast: t.fast}
	}
	return out
}

// sampleValue is a plausible value of a declared type, or a wrong one.
func sampleValue(ty cty.Type, wrong bool, name string) any {
	switch {
	case wrong && ty == cty.String:
		return []any{1}
	case wrong:
		return "not-" + name
	case ty == cty.String:
		switch name {
		case "category":
			return "phone"
		case "topic":
			return "activation"
		case "plan":
			return "premium"
		case "due_at", "appointment", "starts_at":
			return "2026-04-01T09:00:00Z"
		}
		return "v-" + name
	case ty == cty.Number:
		return 4999.5
	case ty == cty.Bool:
		return true
	}
	return map[string]any{"k": "v"}
}

// TestFastPathMatchesHCL evaluates every expression of every example (and a
// set of odd shapes) in many scopes both ways: whenever the fast path gives
// a value, hclsyntax must give the same value without error.
func TestFastPathMatchesHCL(t *testing.T) {
	programs := map[string]*ir.Program{}
	dirs, _ := filepath.Glob("../../examples/*")
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		res, diags := compiler.CompileDir(dir)
		if res == nil || res.Program == nil {
			t.Logf("%s does not compile, skipped: %v", dir, diags)
			continue
		}
		programs[filepath.Base(dir)] = res.Program
	}
	if programs["phone_activation"] == nil {
		t.Fatal("examples/phone_activation is missing")
	}
	programs["shapes"] = compile(t, `
journey "shapes" {
  entry "go" { when = event.amount > 100 && event.category == "phone" || !customer.needs_call }
  goal "g" { when = event.n >= 3 && event.n < 10.5 && event.n <= 7 && event.flag == true }
  exit "x" { when = customer.plan != "premium" || event.flag }
  stage "s" {
    send "a" {
      channel = channel.hook
      data = {
        "k-${entry.category}" = 1
        list = [1, "b", customer.id, null, now]
        nested = { deep = entry.category, same = "${entry.category}" }
        text = "${customer.first_name} has ${entry.n} and ${customer.score}"
        pick = entry.flag ? "yes" : "no"
        tmpl = "%{ if entry.flag }yes ${entry.category}%{ else }no%{ endif }"
        expr = "${entry.category == "phone"}"
        paren = (customer.plan)
        raw = entry
        fn = upper(entry.category)
      }
    }
    update { plan = customer.plan == "premium" ? "gold" : customer.plan }
    on "ping" {
      when = event.category == entry.category
      goto = end
    }
    on "pang" {
      when = entry.category != "phone"
      goto = end
    }
    on "pong" {
      when = true
      goto = end
    }
  }
}`)
	tested, fastHits := 0, 0
	for name, p := range programs {
		e := newEngine(t, p, Options{})
		exprs := allExprs(e)
		var events []string
		for ev := range e.events {
			events = append(events, ev)
		}
		events = append(events, "go", "undeclared")
		for _, variant := range []string{"full", "empty", "wrong"} {
			traits := map[string]any{}
			if variant != "empty" {
				for _, f := range e.traits {
					traits[f.name] = sampleValue(f.ty, variant == "wrong", f.name)
				}
				if e.traits == nil || name == "shapes" {
					traits["first_name"], traits["plan"], traits["needs_call"], traits["score"] = "Li", "premium", false, 3
				}
			}
			for _, evName := range events {
				props := map[string]any{}
				if variant != "empty" {
					for _, f := range e.events[evName] {
						props[f.name] = sampleValue(f.ty, variant == "wrong", f.name)
					}
					if _, declared := e.events[evName]; !declared {
						props["category"], props["amount"], props["n"], props["flag"] = "phone", 150, 5, true
					}
				}
				c := &Customer{ID: "c-1", Traits: traits}
				in := &Instance{ID: "c-1/j/1", Journey: "j", EntryEvent: evName, Entry: props}
				for where, x := range exprs {
					for _, sc := range []scope{{inst: in, ev: &event{name: evName, props: props}}, {inst: in}, {ev: &event{name: evName, props: props}}} {
						tested++
						var res Result
						r := e.getRun(c, &res, t0.Add(time.Second))
						var fv cty.Value
						ok := false
						if x.fast != nil {
							fv, ok = x.fast(r, sc)
						}
						r.slow = true
						sv, err := r.eval(x, sc)
						e.putRun(r)
						if !ok {
							continue
						}
						fastHits++
						if err != nil {
							t.Errorf("%s %s (%s, event %s): the fast path gave %#v, HCL failed: %v", name, where, variant, evName, fv, err)
						} else if !fv.RawEquals(sv) {
							t.Errorf("%s %s (%s, event %s):\n fast %#v\n hcl  %#v", name, where, variant, evName, fv, sv)
						}
					}
				}
			}
		}
	}
	t.Logf("%d evaluations compared, %d on the fast path", tested, fastHits)
	if fastHits < tested/4 {
		t.Errorf("only %d of %d evaluations took the fast path", fastHits, tested)
	}
	// Every expression of the benchmark's workspace has a fast form: a
	// change that loses one shows up here before it shows in the figures.
	e := newEngine(t, programs["phone_activation"], Options{})
	for where, x := range allExprs(e) {
		if x.fast == nil {
			t.Errorf("phone_activation %s has no fast form", where)
		}
	}
}
