package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
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
		x := &expr{x: t.expr, uses: useAll, calls: t.calls, fast: t.fast}
		if t.text != nil {
			x.str = t.text.str
		}
		out["template "+path] = x
	}
	return out
}

// sampleValue is a plausible value of a declared type, or a wrong one.
func sampleValue(ty cty.Type, wrong bool, name string) any {
	return sampleVariant(ty, map[bool]string{true: "wrong"}[wrong], name)
}

// unicodeText is a string whose NFC form differs from it: it starts with
// more combining marks than NFC allows in a row (x/text inserts a grapheme
// joiner after 30) and ends with a few, so that two of them in a row, or
// one after a normalised string that ends in marks, normalise differently
// from their concatenation. The text forms must normalise exactly where
// cty does, and no more.
func unicodeText(name string) string {
	return strings.Repeat("\u0301", 35) + name + "e\u0301" + strings.Repeat("\u0308", 12)
}

// sampleVariant is sampleValue for a test variant: "wrong" gives values of
// the wrong type, "unicode" strings that NFC changes.
func sampleVariant(ty cty.Type, variant, name string) any {
	wrong := variant == "wrong"
	switch {
	case variant == "unicode" && ty == cty.String && name == "email":
		// Marks only: a template that puts it before another of these
		// normalises differently from its enclosing template.
		return strings.Repeat("\u0308", 20)
	case variant == "unicode" && ty == cty.String && name != "category" && name != "topic" && name != "plan":
		return unicodeText(name)
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
        same_text = entry.category == "${entry.category}"
        not_text = "${customer.first_name}" != entry.category
        paren = (customer.plan)
        raw = entry
        fn = upper(entry.category)
      }
    }
    send "d" {
      channel = channel.hook
      data = {
        "k-${entry.category}" = entry.n
        "caf\u00e9" = "e\u0301"
        (customer.first_name) = customer.score
        plain = customer.plan
        num = 1.5
        big = 12345678901234567890
        int = 3
        flag = true
        none = null
        list = [1, "b", customer.id, now]
        nested = { deep = entry.category, more = { n = entry.amount, f = entry.flag, e = {} } }
        text = "${customer.first_name} in ${entry.category}"
        wrapped = "${entry.n}"
        paren = ({ a = entry.category })
      }
    }
    send "b" {
      channel  = channel.email
      to       = customer.email
      reply_to = "r\u00e9ply@example.com"
      subject  = "e${customer.first_name}${customer.first_name} ${customer.id} at ${now} ${entry.category}"
      body     = template("t.txt")
    }
    send "c" {
      channel = channel.email
      to      = "${customer.id}"
      subject = entry.flag ? "yes e${customer.first_name}" : "no ${entry.category}"
      body    = template("a_wrap.txt")
    }
    update { plan = customer.plan == "premium" ? "gold" : customer.plan }
    update { first_name = "e${customer.first_name}" }
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
}`, "t.txt", "Hi ${customer.first_name}%{ if entry.category == \"phone\" }${customer.email}${customer.email}${customer.first_name}${template(\"a_wrap.txt\")}%{ else }no\u0301 ${entry.category}%{ endif }bye",
		"a_wrap.txt", "${entry.category}")
	tested, fastHits, strHits, objHits := 0, 0, 0, 0
	for name, p := range programs {
		e := newEngine(t, p, Options{})
		exprs := allExprs(e)
		var events []string
		for ev := range e.events {
			events = append(events, ev)
		}
		events = append(events, "go", "undeclared")
		for _, variant := range []string{"full", "empty", "wrong", "unicode"} {
			traits := map[string]any{}
			if variant != "empty" {
				for _, f := range e.traits {
					traits[f.name] = sampleVariant(f.ty, variant, f.name)
				}
				if e.traits == nil || name == "shapes" {
					traits["first_name"], traits["plan"], traits["needs_call"], traits["score"] = "Li", "premium", false, 3
					if variant == "unicode" {
						traits["first_name"] = unicodeText("first_name")
					}
				}
			}
			for _, evName := range events {
				props := map[string]any{}
				if variant != "empty" {
					for _, f := range e.events[evName] {
						props[f.name] = sampleVariant(f.ty, variant, f.name)
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
						var str any
						strOK := false
						if x.str != nil {
							str, strOK = x.str(r, sc)
						}
						var obj any
						objOK := false
						if x.obj != nil {
							obj, objOK = x.obj(r, sc)
						}
						r.slow = true
						sv, err := r.eval(x, sc)
						e.putRun(r)
						if strOK {
							// The text form must give the string fromCty would.
							strHits++
							if err != nil {
								t.Errorf("%s %s (%s, event %s): the text form gave %q, HCL failed: %v", name, where, variant, evName, str, err)
							} else if g, gerr := fromCty(sv); gerr != nil || g != str {
								t.Errorf("%s %s (%s, event %s):\n text %q\n hcl  %#v", name, where, variant, evName, str, sv)
							}
						}
						if objOK {
							// The object form must give the map fromCty
							// would: the same Go types, nested.
							objHits++
							if err != nil {
								t.Errorf("%s %s (%s, event %s): the object form gave %#v, HCL failed: %v", name, where, variant, evName, obj, err)
							} else if g, gerr := fromCty(sv); gerr != nil || !reflect.DeepEqual(g, obj) {
								t.Errorf("%s %s (%s, event %s):\n object %#v\n hcl    %#v", name, where, variant, evName, obj, g)
							}
						}
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
	t.Logf("%d evaluations compared, %d on the fast path, %d on the text form, %d on the object form", tested, fastHits, strHits, objHits)
	if objHits == 0 {
		t.Error("no evaluation took the object form")
	}
	if strHits < tested/10 {
		t.Errorf("only %d of %d evaluations took the text form", strHits, tested)
	}
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
		if _, isObj := x.x.(*hclsyntax.ObjectConsExpr); isObj && x.obj == nil {
			t.Errorf("phone_activation %s has no object form", where)
		}
	}
}
