package lsp

import (
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/lang"
)

// signature is what a file declares for the others to use, and which of the
// others' declarations it uses. Two files' diagnostics depend on each other
// only through these, so a change that leaves a file's declarations alone
// needs only that file re-checked, and one that changes them needs only the
// files that use what changed (see analysis.go).
type signature struct {
	// decls holds each schema declaration by key ("event\x00NAME", "trait\x00NAME",
	// "channel\x00NAME", "policy\x00NAME") with what others see of it: an
	// event's properties and their types, a trait's type, a channel's type.
	decls map[string]string
	// flags tells whether the file has a customer block and event blocks:
	// having one anywhere turns on the checks of trait and event names
	// everywhere.
	flags string
	// uses holds the keys of the schema declarations the file refers to, its
	// own declarations (another file's of the same name makes a duplicate),
	// and "trait" when it uses any trait.
	uses map[string]bool

	// journeys: journey names with their policy, stage and send names; test
	// names. Policies (suppressed_by, and the lint that reads a journey's
	// policy), tests, and journeys of the same name use them.
	journeys     string
	journeyNames []string
	testNames    []string
	policies     bool // declares a policy or a top-level moved block: it names journeys
	tests        bool // a test file: it names journeys, stages and sends
}

// names lists the keys of every name the file declares at the top level. A
// name declared twice is an error at the second declaration, whose message
// says where the first is: a file that declares a name another file also
// declares is re-checked when that file changes, wherever the change is.
func (sig signature) names() []string {
	var out []string
	for k := range sig.decls {
		out = append(out, k)
	}
	for _, n := range sig.journeyNames {
		out = append(out, key("journey", n))
	}
	for _, n := range sig.testNames {
		out = append(out, key("test", n))
	}
	return out
}

// traitUse is the use key of a file that uses any trait: a trait's type
// decides the type of every expression that reads it.
const traitUse = "trait"

func key(kind, name string) string { return kind + "\x00" + name }

// kindOf is the kind of a declaration key.
func kindOf(k string) string {
	kind, _, _ := strings.Cut(k, "\x00")
	return kind
}

func signatureOf(d *document) signature {
	ws, _ := d.parse()
	src := d.src
	text := func(a *lang.Attr) string {
		if a == nil {
			return "-"
		}
		r := a.Expr.Range()
		if !r.CanSliceBytes(src) {
			return "?"
		}
		return strings.Join(strings.Fields(string(r.SliceBytes(src))), " ")
	}
	sig := signature{decls: map[string]string{}, uses: map[string]bool{}, policies: len(ws.Policies)+len(ws.Moved) > 0, tests: d.kind() == lang.TestFile}
	declare := func(k, what string) {
		sig.decls[k] += what + ";" // twice in one file: both count
		sig.uses[k] = true
	}
	for _, c := range ws.Customers {
		sig.flags += "customer;"
		for _, t := range c.Traits {
			declare(key("trait", t.Name.Value), text(t.Type))
		}
	}
	for _, e := range ws.Events {
		sig.flags += "event;"
		var props strings.Builder
		for _, p := range e.Properties {
			props.WriteString(q(p.Name.Value) + ":" + text(p.Type) + ",")
		}
		declare(key("event", e.Name.Value), props.String())
	}
	for _, c := range ws.Channels {
		declare(key("channel", c.Name.Value), text(c.Type))
	}
	for _, p := range ws.Policies {
		declare(key("policy", p.Name.Value), "")
	}
	for _, t := range ws.Topics {
		declare(key("topic", t.Name.Value), text(t.Default))
	}
	for _, m := range ws.Metrics {
		declare(key("metric", m.Name.Value), "")
	}

	var journeys strings.Builder
	for _, j := range ws.Journeys {
		sig.journeyNames = append(sig.journeyNames, j.Name.Value)
		journeys.WriteString("journey " + q(j.Name.Value) + " policy=" + text(j.Policy) + "{")
		for _, s := range j.Stages {
			journeys.WriteString("stage " + q(s.Name.Value) + "{")
			for _, a := range s.Actions {
				if send, ok := a.(*lang.Send); ok {
					journeys.WriteString("send " + q(send.Name.Value) + ";")
				}
			}
			journeys.WriteString("}")
		}
		journeys.WriteString("}")
	}
	for _, t := range ws.Tests {
		sig.testNames = append(sig.testNames, t.Name.Value)
		journeys.WriteString("test " + q(t.Name.Value) + ";")
	}
	sig.journeys = journeys.String()
	usesOf(ws, &sig)
	return sig
}

// usesOf records what a file refers to: events by the labels that name
// them, channels and policies by reference, traits by any use.
func usesOf(ws *lang.Workspace, sig *signature) {
	event := func(l lang.Label) { sig.uses[key("event", l.Value)] = true }
	for _, j := range ws.Journeys {
		for _, group := range [][]*lang.Trigger{j.Entries, j.Goals, j.Exits} {
			for _, t := range group {
				event(t.Event)
			}
		}
		for _, s := range j.Stages {
			for _, on := range s.Ons {
				event(on.Event)
			}
			for _, a := range s.Actions {
				switch a := a.(type) {
				case *lang.Emit:
					event(a.Event)
				case *lang.Update:
					sig.uses[traitUse] = true
				}
			}
		}
	}
	for _, m := range ws.Metrics {
		if m.Event != nil {
			if name, ok := lang.StaticString(m.Event.Expr); ok {
				event(lang.Label{Value: name})
			}
		}
	}
	for _, t := range ws.Tests {
		if t.Customer != nil {
			sig.uses[traitUse] = true
		}
		for _, st := range t.Steps {
			switch st := st.(type) {
			case *lang.EventStep:
				event(st.Event)
			case *lang.IdentifyStep:
				sig.uses[traitUse] = true
			}
		}
	}
	for _, f := range ws.Files {
		visitAttrs(f.Body, func(a *hclsyntax.Attribute) {
			for _, tr := range a.Expr.Variables() {
				switch root := tr.RootName(); root {
				case "customer":
					sig.uses[traitUse] = true
				case "channel", "policy", "topic":
					if len(tr) > 1 {
						if step, ok := tr[1].(hcl.TraverseAttr); ok {
							sig.uses[key(root, step.Name)] = true
						}
					}
				}
			}
			// A template's expressions are checked in the scope of the
			// call: it may read any trait.
			hclsyntax.VisitAll(a.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
				if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "template" {
					sig.uses[traitUse] = true
				}
				return nil
			})
		})
	}
}

// visitAttrs calls f for every attribute in body and the blocks in it.
func visitAttrs(body *hclsyntax.Body, f func(*hclsyntax.Attribute)) {
	for _, a := range body.Attributes {
		f(a)
	}
	for _, b := range body.Blocks {
		visitAttrs(b.Body, f)
	}
}

// q quotes a name, so that no name can pass for punctuation of the signature.
func q(s string) string { return strconv.Quote(s) }
