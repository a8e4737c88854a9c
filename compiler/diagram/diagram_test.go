package diagram

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	goldenfile "github.com/waymark-dev/waymark/compiler/internal/golden"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/internal/testtool"
)

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) { goldenfile.Check(t, name, got) }

func expr(src string) *ir.Expr { return &ir.Expr{Src: src} }

func wait(ons []ir.On, afters []ir.After, ats []ir.At) ir.Transition {
	return ir.Transition{Kind: ir.TransitionWait, Ons: ons, Afters: afters, Ats: ats}
}

func send(name, channel string) ir.Action {
	return ir.Action{Kind: ir.ActionSend, Name: name, Channel: channel}
}

// phoneActivation is the journey of the language reference, lowered by hand.
var phoneActivation = ir.Journey{
	Name:    "phone_activation",
	Entries: []ir.Trigger{{Event: "order_completed", When: expr(`event.category == "phone"`)}},
	Goals:   []ir.Trigger{{Event: "device_activated"}},
	Exits:   []ir.Trigger{{Event: "unsubscribed"}},
	Start:   "guide",
	Stages: []ir.Stage{
		{Name: "guide", Actions: []ir.Action{send("activation_guide", "email")},
			Transition: wait(nil, []ir.After{{Spec: "2d", Seconds: 172800, Goto: "check"}}, nil)},
		{Name: "check", Transition: wait(
			[]ir.On{{Event: "support_ticket_opened", Goto: "in_support"}},
			[]ir.After{{Spec: "1d", Seconds: 86400, Goto: "route"}}, nil)},
		{Name: "route", Transition: ir.Transition{Kind: ir.TransitionBranch, Branches: []ir.Branch{
			{When: expr(`customer.plan == "premium"`), Goto: "call_back"},
			{Goto: "nudge"},
		}}},
		{Name: "nudge", Transition: ir.Transition{Kind: ir.TransitionSplit, Variants: []ir.Variant{
			{Name: "sms", Weight: 45, Goto: "sms_nudge"},
			{Name: "email", Weight: 45, Goto: "email_nudge"},
			{Name: "holdout", Weight: 10, Goto: ir.End},
		}}},
		{Name: "in_support", Transition: wait(
			[]ir.On{{Event: "support_ticket_closed", Goto: "check"}},
			[]ir.After{{Spec: "14d", Seconds: 1209600, Goto: ir.End}}, nil)},
		{Name: "call_back",
			Actions: []ir.Action{
				send("call_request", "crm"),
				{Kind: ir.ActionUpdate, Traits: []ir.Setting{{Name: "needs_call"}}},
				{Kind: ir.ActionEmit, Event: "activation_help_requested"},
			},
			Transition: ir.Transition{Kind: ir.TransitionGoto, Goto: ir.End}},
		{Name: "sms_nudge", Actions: []ir.Action{send("sms_nudge", "sms")},
			Transition: ir.Transition{Kind: ir.TransitionNone}},
		{Name: "email_nudge", Actions: []ir.Action{send("email_nudge", "email")},
			Transition: ir.Transition{Kind: ir.TransitionNone}},
	},
}

// awkward has names and labels that each format must quote or escape, and
// shapes of journeys the reference journey lacks.
var awkward = ir.Journey{
	Name: `win-back "VIP" #1`,
	Entries: []ir.Trigger{
		{Event: "order_completed", When: expr("event.amount > 100 &&\n    contains([\"a;b\", \"c:d\"], event.sku)")},
		{Event: "signed_up"},
	},
	Goals: []ir.Trigger{{Event: "order_completed", When: expr(`event.amount >= 50 || event.note == "100%% {sure} &lt"`)}},
	Start: "default",
	Stages: []ir.Stage{
		{Name: "default", Transition: ir.Transition{Kind: ir.TransitionSplit, Variants: []ir.Variant{
			{Name: "a", Weight: 1, Goto: "state"},
			{Name: "b", Weight: 1, Goto: "state 2"},
			{Name: "c", Weight: 1, Goto: "état"},
		}}},
		{Name: "state", Transition: wait(
			[]ir.On{{Event: "clicked", When: expr("event.url != `x` && event.rank<best"), Goto: "state 2"}},
			[]ir.After{{Spec: "1w 2d", Goto: ir.End}},
			[]ir.At{{Time: ir.Expr{Src: `timeadd(entry.date, "-24h")`}, Goto: "state 2"}})},
		{Name: "state 2", Actions: []ir.Action{send(`a\b`, "log")},
			Transition: ir.Transition{Kind: ir.TransitionGoto, Goto: "état"}},
		{Name: "état", Transition: ir.Transition{Kind: ir.TransitionBranch, Branches: []ir.Branch{
			{When: expr(`customer.lang == "fr" /* direction LR */`), Goto: "default"},
			{Goto: ir.End},
		}}},
	},
}

// empty has no stages: an entry ends it at once.
var empty = ir.Journey{
	Name:    "noop",
	Entries: []ir.Trigger{{Event: "ping"}},
	Exits:   []ir.Trigger{{Event: "unsubscribed"}},
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		journeys []ir.Journey
	}{
		{"phone_activation", []ir.Journey{phoneActivation}},
		{"awkward", []ir.Journey{awkward}},
		{"all", []ir.Journey{phoneActivation, awkward, empty}},
	}
	for _, tt := range tests {
		for _, f := range Formats {
			t.Run(tt.name+"."+string(f), func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(&buf, f, tt.journeys); err != nil {
					t.Fatal(err)
				}
				golden(t, tt.name+"."+string(f), buf.Bytes())
				if f == FormatDot {
					// A subtest, so that a skip without Graphviz leaves the golden check standing.
					t.Run("graphviz", func(t *testing.T) { checkDot(t, buf.Bytes()) })
				}
			})
		}
	}
}

// checkDot has Graphviz lay the graph out: a syntax error, or a warning
// about the graph, fails the test. Without Graphviz it is a skip (a
// failure in CI).
func checkDot(t *testing.T, src []byte) {
	t.Helper()
	dot := testtool.Require(t, "dot", "graphviz")
	cmd := exec.Command(dot, "-Tsvg", "-o", os.DevNull)
	cmd.Stdin = bytes.NewReader(src)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("dot rejects the graph: %v\n%s", err, out)
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		weight, total int
		want          string
	}{
		{45, 100, "45%"},
		{1, 3, "33.3%"},
		{2, 3, "66.7%"},
		{1, 8, "12.5%"},
		{1, 1, "100%"},
		{0, 0, "0%"},
	}
	for _, tt := range tests {
		if got := percent(tt.weight, tt.total); got != tt.want {
			t.Errorf("percent(%d, %d) = %q, want %q", tt.weight, tt.total, got, tt.want)
		}
	}
}

func TestIDs(t *testing.T) {
	r := newIDs(mermaidReserved, "journey")
	tests := []struct{ name, want string }{
		{"guide", "guide"},
		{"in support", "in_support"},
		{"in-support", "in_support_2"},
		{"guide", "guide"},
		{"journey", "journey_2"},
		{"Journey", "Journey_3"},
		{"state", "s_state"},
		{"default_path", "s_default_path"},
		{"", "stage"},
		{"名前", "__"},
	}
	for _, tt := range tests {
		if got := r.id(tt.name); got != tt.want {
			t.Errorf("id(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("dot"); err != nil || f != FormatDot {
		t.Errorf("ParseFormat(dot) = %q, %v", f, err)
	}
	if _, err := ParseFormat("svg"); err == nil || err.Error() != `unknown format "svg": use one of mermaid, dot` {
		t.Errorf("ParseFormat(svg) error = %v", err)
	}
}

// A changed journey drawn for a plan: each kind of change has its class,
// removed stages are drawn with an edge to where their customers go.
func TestMermaidMarked(t *testing.T) {
	var buf bytes.Buffer
	err := MermaidMarked(&buf, &phoneActivation, Marks{
		Added:   []string{"in_support"},
		Changed: []string{"guide"},
		Moved:   map[string]string{"nudge": "remind"},
		Removed: map[string]string{"old_check": "check", "survey": "", "bye": ir.End},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "marked.mermaid", buf.Bytes())
}
