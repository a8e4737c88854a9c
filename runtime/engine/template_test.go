package engine

import (
	"strings"
	"testing"
)

func TestTemplates(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "s" {
    send "wrapped" {
      channel = channel.log
      data    = "[${upper(template("t/name.txt"))}]"
    }
    send "nested" {
      channel = channel.log
      data    = template("t/outer.txt")
    }
    send "null" {
      channel = channel.log
      data    = template("t/last.txt")
    }
  }
}`,
		"t/name.txt", `${customer.first_name} (${entry.order_id})`,
		"t/outer.txt", `<${template("t/name.txt")}>`,
		"t/last.txt", `Dear ${customer.plan}`,
	)
	e := newEngine(t, p, Options{})
	s := newSim(t, e, "c-1", map[string]any{"first_name": "Li"})
	r := s.event("go", map[string]any{"order_id": "o-9"})
	if got := findSend(t, "wrapped", r).Fields["data"]; got != "[LI (O-9)]" {
		t.Errorf("template inside an expression: %q", got)
	}
	if got := findSend(t, "nested", r).Fields["data"]; got != "<Li (o-9)>" {
		t.Errorf("a template rendering a template: %q", got)
	}
	// plan is null: the interpolation fails; the error names the template
	// file, and the send fails.
	f := findSend(t, "null", r)
	if f.Fate != FateFailed || !strings.Contains(f.Reason, "null") || !strings.Contains(f.Reason, "t/last.txt:1:8") {
		t.Errorf("null in a template: %+v", f)
	}
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Error(), "test.journey.hcl:15:") {
		t.Errorf("errors: %v", r.Errors)
	}
}

func TestTemplateRecursionIsBounded(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "s" {
    send "loop" {
      channel = channel.log
      data    = template("t/loop.txt")
    }
  }
}`, "t/loop.txt", `x`)
	// The compiler refuses a template that includes itself; a hand-edited
	// IR file might still hold one.
	p.Templates["t/loop.txt"] = `x${template("t/loop.txt")}`
	e, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, e, "c-1", nil)
	if f := findSend(t, "loop", s.event("go", nil)); f.Fate != FateFailed || !strings.Contains(f.Reason, "nest too deeply") {
		t.Errorf("%+v", f)
	}
}

func TestEmitCountBound(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "s" {
    emit "a" {}
    emit "b" {}
    emit "c" {}
    emit "d" {}
  }
}`)
	s := newSim(t, newEngine(t, p, Options{MaxSteps: 2}), "c-1", nil)
	r := s.event("go", nil)
	var dropped []string
	for _, em := range r.Emitted {
		if em.Dropped != "" {
			dropped = append(dropped, em.Event)
		}
	}
	eq(t, "dropped", dropped, []string{"c", "d"})
	if !hasError([]Result{r}, "emit c") {
		t.Errorf("errors: %+v", r.Errors)
	}
}
