package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
)

// prelude is the schema and channels every test workspace shares. Events are
// left undeclared so that each test may raise whatever it needs.
const prelude = `
customer {
  trait "email"      { type = string }
  trait "first_name" { type = string }
  trait "plan"       { type = string }
  trait "timezone"   { type = string }
  trait "needs_call" { type = bool }
  trait "score"      { type = number }
}
channel "email" {
  type = "smtp"
  from = "Test <test@example.com>"
}
channel "hook" {
  type   = "webhook"
  url    = env("HOOK_URL")
  secret = env("HOOK_SECRET")
}
channel "log" {
  type = "log"
}
`

// compile checks a workspace made of the prelude and src with the real
// compiler and fails the test on any error. Extra files are templates.
func compile(t testing.TB, src string, templates ...string) *ir.Program {
	t.Helper()
	files := []lang.SourceFile{
		{Path: "prelude.journey.hcl", Src: []byte(prelude)},
		{Path: "test.journey.hcl", Src: []byte(src)},
	}
	tmpl := map[string][]byte{}
	for i := 0; i+1 < len(templates); i += 2 {
		tmpl[templates[i]] = []byte(templates[i+1])
	}
	ws, diags := lang.Parse(".", files)
	res, more := compiler.Check(ws, compiler.Options{ReadFile: func(p string) ([]byte, error) {
		if b, ok := tmpl[p]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}})
	diags = append(diags, more...)
	if diags.HasErrors() || res.Program == nil {
		var b strings.Builder
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				fmt.Fprintf(&b, "\n  %s", d.Error())
			}
		}
		t.Fatalf("the test workspace does not compile:%s", b.String())
	}
	return res.Program
}

func newEngine(t testing.TB, p *ir.Program, opts Options) *Engine {
	t.Helper()
	e, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// t0 is a Monday, 10:00 UTC.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// sim drives one customer the way a shell does: each Step's state goes
// through JSON, as it does through the store, and every result is kept.
type sim struct {
	t       testing.TB
	e       *Engine
	c       *Customer
	now     time.Time
	results []Result
}

func newSim(t testing.TB, e *Engine, id string, traits map[string]any) *sim {
	return &sim{t: t, e: e, c: &Customer{ID: id, Traits: traits}, now: t0}
}

func (s *sim) step(in Input) Result {
	s.t.Helper()
	res := s.e.Step(s.c, in, s.now)
	s.results = append(s.results, res)
	s.c = roundTrip(s.t, s.c)
	return res
}

func (s *sim) event(name string, props map[string]any) Result {
	s.t.Helper()
	return s.step(Input{Kind: KindEvent, Event: name, Properties: props})
}

func (s *sim) identify(traits map[string]any) Result {
	s.t.Helper()
	return s.step(Input{Kind: KindIdentify, Traits: traits})
}

// advance moves the clock by d and wakes the customer once at the new time:
// everything due in between happens in time order inside that one Step.
func (s *sim) advance(d time.Duration) Result {
	s.t.Helper()
	s.now = s.now.Add(d)
	return s.step(Input{Kind: KindWake})
}

// advanceByWakes moves the clock by d the other way a shell may: a Wake at
// each NextWake up to the target, then one at the target.
func (s *sim) advanceByWakes(d time.Duration) {
	s.t.Helper()
	target := s.now.Add(d)
	for {
		next := s.c.NextWake()
		if next.IsZero() || next.After(target) {
			break
		}
		s.now = next
		s.step(Input{Kind: KindWake})
	}
	s.now = target
	s.step(Input{Kind: KindWake})
}

func (s *sim) inst(journey string) *Instance {
	s.t.Helper()
	in := s.c.Instance(journey)
	if in == nil {
		s.t.Fatalf("no instance of %s", journey)
	}
	return in
}

func (s *sim) noErrors() {
	s.t.Helper()
	for _, r := range s.results {
		for _, e := range r.Errors {
			s.t.Errorf("unexpected error: %v", e)
		}
	}
}

func roundTrip(t testing.TB, c *Customer) *Customer {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("the customer state does not marshal: %v", err)
	}
	var out Customer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("the customer state does not unmarshal: %v", err)
	}
	return &out
}

// sent lists "name" of every send with the given fate across results.
func sent(fate string, rs ...Result) []string {
	var out []string
	for _, r := range rs {
		for _, s := range r.Sends {
			if s.Fate == fate {
				out = append(out, s.Name)
			}
		}
	}
	return out
}

func (s *sim) sent(fate string) []string { return sent(fate, s.results...) }

// path lists transitions as "from>to(cause)" for one journey.
func path(journey string, rs ...Result) []string {
	var out []string
	for _, r := range rs {
		for _, tr := range r.Transitions {
			if journey == "" || tr.Journey == journey {
				from := tr.From
				if from == "" {
					from = "-"
				}
				out = append(out, from+">"+tr.To+"("+tr.Cause+")")
			}
		}
	}
	return out
}

func (s *sim) path(journey string) []string { return path(journey, s.results...) }

func eq[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s:\n got  %v\n want %v", what, got, want)
			return
		}
	}
}

func findSend(t testing.TB, name string, rs ...Result) Send {
	t.Helper()
	var found []Send
	for _, r := range rs {
		for _, s := range r.Sends {
			if s.Name == name {
				found = append(found, s)
			}
		}
	}
	if len(found) == 0 {
		t.Fatalf("no send named %s", name)
	}
	return found[len(found)-1]
}

func hasError(rs []Result, where string) bool {
	for _, r := range rs {
		for _, e := range r.Errors {
			if strings.Contains(e.Where, where) {
				return true
			}
		}
	}
	return false
}
