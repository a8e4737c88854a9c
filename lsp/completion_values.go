package lsp

import (
	"strings"

	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// Completion inside expressions: the references, variables, functions,
// properties and traits a value may use, the strings some attributes take,
// and the keys of some objects. Which variables are in scope follows the
// compiler (compiler/types.go).

// attrSchema is the schema of the attribute the cursor is in the value of.
func (k *completer) attrSchema() (frame, *lang.AttrSchema) {
	f := k.c.inner(k.root)
	if f.schema == nil {
		return f, nil
	}
	if a := f.schema.Attr(k.c.attr); a != nil {
		return f, a
	}
	return f, f.schema.OpenAttrs
}

// scope is what an expression at the cursor may use, as the compiler
// decides it (compiler/types.go).
type scope struct {
	customer, event, entry, now bool
	env, template               bool
	eventName                   string // the event being handled
	journey                     *frame
}

func (k *completer) scope() scope {
	var sc scope
	if k.doc.kind() == lang.TestFile {
		return sc
	}
	if k.c.find("channel") != nil {
		sc.env = true
		return sc
	}
	sc.journey = k.c.find("journey")
	if sc.journey == nil {
		return sc
	}
	sc.template = true
	if t := k.c.find("entry", "goal", "exit", "on"); t != nil {
		sc.customer, sc.event, sc.now = true, true, true
		sc.entry = t.typ != "entry"
		if len(t.labels) > 0 {
			sc.eventName = t.labels[0]
		}
	} else if k.c.find("stage") != nil {
		sc.customer, sc.entry, sc.now = true, true, true
	}
	return sc
}

// value offers what an expression may start with: for a reference
// attribute, the references it takes; otherwise variables and functions.
func (k *completer) value() {
	_, as := k.attrSchema()
	if as == nil {
		return
	}
	sc := k.scope()
	if sc.journey == nil {
		sc.journey = k.c.find("journey") // a moved block's stages
	}
	switch as.Kind {
	case lang.KindGoneStage, lang.KindGoneJourney:
		k.goneNames(as, sc, true)
		return
	case lang.KindJourneyRef:
		for _, j := range k.decls.journeys {
			k.add(item{label: "journey." + j.Name.Value, kind: protocol.CompletionItemKindClass, detail: "journey", doc: k.snap.describeJourney(j)})
		}
		return
	case lang.KindStageTarget, lang.KindStageRef:
		if as.Kind == lang.KindStageTarget {
			k.add(item{label: "end", kind: protocol.CompletionItemKindKeyword, detail: "goto target", doc: "Finish the journey with status `completed`."})
		}
		for _, st := range k.stages(sc) {
			k.add(item{label: "stage." + st, kind: protocol.CompletionItemKindEnumMember, detail: "stage", doc: k.stageDoc(sc, st)})
		}
		return
	case lang.KindChannelRef:
		for _, ch := range k.decls.channels {
			k.add(item{label: "channel." + ch.Name.Value, kind: protocol.CompletionItemKindInterface, detail: "channel", doc: k.snap.describeChannel(ch)})
		}
		return
	case lang.KindPolicyRef:
		for _, p := range k.decls.policies {
			k.add(item{label: "policy." + p.Name.Value, kind: protocol.CompletionItemKindStruct, detail: "policy", doc: k.snap.describePolicy(p)})
		}
		return
	case lang.KindTopicRef:
		for _, t := range k.decls.topics {
			k.add(item{label: "topic." + t.Name.Value, kind: protocol.CompletionItemKindEnum, detail: "topic", doc: k.snap.describeTopic(t)})
		}
		return
	case lang.KindJourneyList:
		for _, j := range k.decls.journeys {
			k.add(item{label: "journey." + j.Name.Value, kind: protocol.CompletionItemKindClass, detail: "journey", doc: k.snap.describeJourney(j)})
		}
		return
	case lang.KindType:
		for _, t := range []string{"string", "number", "bool", "list(string)", "map(string)", "object({})", "any"} {
			k.add(item{label: t, kind: protocol.CompletionItemKindTypeParameter, detail: "type"})
		}
		return
	}
	for _, v := range lang.Variables {
		ok := map[string]bool{"customer": sc.customer, "event": sc.event, "entry": sc.entry, "now": sc.now}[v.Name]
		if ok {
			k.add(item{label: v.Name, kind: protocol.CompletionItemKindVariable, detail: "variable", doc: v.Doc})
		}
	}
	for _, f := range functions() {
		if (f.name == "env" && !sc.env) || (f.name == "template" && !sc.template) {
			continue
		}
		k.add(item{label: f.name, kind: protocol.CompletionItemKindFunction, detail: f.signature, doc: f.doc,
			text: f.name + "(", snippet: f.name + "(${1})"})
	}
}

// stages lists the stage names of the journey around the cursor, from the
// outline of the text being edited, so a stage typed a moment ago is there.
func (k *completer) stages(sc scope) []string {
	if sc.journey == nil || sc.journey.block == nil {
		return nil
	}
	var names []string
	for _, b := range sc.journey.block.blocks {
		if b.typ == "stage" && len(b.labels) > 0 {
			names = append(names, b.labels[0].value)
		}
	}
	return names
}

func (k *completer) stageDoc(sc scope, name string) string {
	if sc.journey == nil || len(sc.journey.labels) == 0 {
		return ""
	}
	if j := k.decls.journey(sc.journey.labels[0]); j != nil {
		if st := j.Stage(name); st != nil {
			return k.snap.describeStage(j.Name.Value, st)
		}
	}
	return ""
}

// traversal offers the names after a dot.
func (k *completer) traversal() {
	sc := k.scope()
	if sc.journey == nil {
		sc.journey = k.c.find("journey")
	}
	if _, as := k.attrSchema(); as != nil && (as.Kind == lang.KindGoneStage || as.Kind == lang.KindGoneJourney) {
		k.goneNames(as, sc, false)
		return
	}
	switch k.c.root {
	case "stage":
		for _, st := range k.stages(sc) {
			k.add(item{label: st, kind: protocol.CompletionItemKindEnumMember, detail: "stage", doc: k.stageDoc(sc, st)})
		}
	case "channel":
		for _, ch := range k.decls.channels {
			k.add(item{label: ch.Name.Value, kind: protocol.CompletionItemKindInterface, detail: "channel (" + attrString(ch.Type) + ")", doc: k.snap.describeChannel(ch)})
		}
	case "policy":
		for _, p := range k.decls.policies {
			k.add(item{label: p.Name.Value, kind: protocol.CompletionItemKindStruct, detail: "policy", doc: k.snap.describePolicy(p)})
		}
	case "journey":
		for _, j := range k.decls.journeys {
			k.add(item{label: j.Name.Value, kind: protocol.CompletionItemKindClass, detail: "journey", doc: k.snap.describeJourney(j)})
		}
	case "customer":
		if !sc.customer {
			return
		}
		k.traits()
	case "event":
		if !sc.event {
			return
		}
		if e := k.decls.event(sc.eventName); e != nil {
			k.properties([]*lang.Event{e})
		}
	case "entry":
		if !sc.entry || sc.journey == nil || sc.journey.block == nil {
			return
		}
		var events []*lang.Event
		for _, b := range sc.journey.block.blocks {
			if b.typ == "entry" && len(b.labels) > 0 {
				if e := k.decls.event(b.labels[0].value); e != nil {
					events = append(events, e)
				}
			}
		}
		k.properties(events)
	}
}

func (k *completer) traits() {
	k.add(item{label: "id", kind: protocol.CompletionItemKindProperty, detail: "trait: string", doc: "The customer's identifier, always there."})
	for _, t := range k.decls.traits {
		k.add(item{label: t.Name.Value, kind: protocol.CompletionItemKindProperty, detail: "trait: " + k.snap.typeText(t),
			doc: k.snap.describeField("trait", "customer", t)})
	}
}

// properties offers the properties of events, each name once.
func (k *completer) properties(events []*lang.Event) {
	seen := map[string]bool{}
	for _, e := range events {
		for _, p := range e.Properties {
			if seen[p.Name.Value] {
				continue
			}
			seen[p.Name.Value] = true
			k.add(item{label: p.Name.Value, kind: protocol.CompletionItemKindProperty, detail: "property of " + e.Name.Value + ": " + k.snap.typeText(p),
				doc: k.snap.describeField("property", "event "+code(e.Name.Value), p)})
		}
	}
}

// str offers the strings an attribute takes: channel types, statuses, and in
// a test's expect the journey, stage and send names.
func (k *completer) str() {
	f, as := k.attrSchema()
	if as == nil {
		return
	}
	quoted := func(values []string, kind protocol.CompletionItemKind, detail string) {
		for _, v := range values {
			k.add(item{label: v, kind: kind, detail: detail, text: k.closeQuote(v)})
		}
	}
	switch {
	case f.typ == "channel" && as.Name == "type":
		for _, t := range lang.ChannelTypes {
			k.add(item{label: t, kind: protocol.CompletionItemKindEnumMember, detail: "channel type", doc: channelTypeDoc(t), text: k.closeQuote(t)})
		}
	case as.Kind == lang.KindStatus:
		quoted(lang.Statuses, protocol.CompletionItemKindEnumMember, "status")
	case as.Kind == lang.KindInFlight:
		quoted(lang.InFlightRules, protocol.CompletionItemKindEnumMember, "in-flight rule")
	case as.Kind == lang.KindSubscription:
		quoted(lang.SubscriptionStatuses, protocol.CompletionItemKindEnumMember, "subscription status")
	case f.typ == "subscription" && as.Name == "topic":
		for _, t := range k.decls.topics {
			k.add(item{label: t.Name.Value, kind: protocol.CompletionItemKindEnum, detail: "topic", doc: k.snap.describeTopic(t), text: k.closeQuote(t.Name.Value)})
		}
	case f.typ == "expect" && as.Name == "journey":
		for _, j := range k.decls.journeys {
			k.add(item{label: j.Name.Value, kind: protocol.CompletionItemKindClass, detail: "journey", doc: k.snap.describeJourney(j), text: k.closeQuote(j.Name.Value)})
		}
	case f.typ == "expect" && as.Name == "stage":
		if j := k.expectJourney(f); j != nil {
			for _, st := range j.Stages {
				k.add(item{label: st.Name.Value, kind: protocol.CompletionItemKindEnumMember, detail: "stage of " + j.Name.Value,
					doc: k.snap.describeStage(j.Name.Value, st), text: k.closeQuote(st.Name.Value)})
			}
		}
	case f.typ == "expect" && (as.Name == "sent" || as.Name == "not_sent"):
		journeys := k.decls.journeys
		if j := k.expectJourney(f); j != nil {
			journeys = []*lang.Journey{j}
		}
		seen := map[string]bool{}
		for _, j := range journeys {
			for _, st := range j.Stages {
				for _, a := range st.Actions {
					if send, ok := a.(*lang.Send); ok && !seen[send.Name.Value] {
						seen[send.Name.Value] = true
						k.add(item{label: send.Name.Value, kind: protocol.CompletionItemKindMethod, detail: "send in " + j.Name.Value,
							doc: k.snap.describeSend(j.Name.Value, send), text: k.closeQuote(send.Name.Value)})
					}
				}
			}
		}
	}
}

// expectJourney is the journey an expect step names, if it names one.
func (k *completer) expectJourney(f frame) *lang.Journey {
	if f.block == nil {
		return nil
	}
	for _, a := range f.block.attrs {
		if a.name == "journey" {
			return k.decls.journey(strings.Trim(strings.TrimSpace(string(k.doc.src[a.exprStart:a.exprEnd])), `"`))
		}
	}
	return nil
}

// key offers the keys of an object value: an emitted event's properties, a
// test customer's traits.
func (k *completer) key() {
	f, as := k.attrSchema()
	if as == nil {
		return
	}
	switch {
	case f.typ == "emit" && as.Name == "properties" && len(f.labels) > 0:
		if e := k.decls.event(f.labels[0]); e != nil {
			for _, p := range e.Properties {
				k.add(item{label: p.Name.Value, kind: protocol.CompletionItemKindProperty, detail: "property: " + k.snap.typeText(p),
					doc: k.snap.describeField("property", "event "+code(e.Name.Value), p), text: p.Name.Value + " = "})
			}
		}
	case f.typ == "test" && as.Name == "customer":
		k.add(item{label: "id", kind: protocol.CompletionItemKindProperty, detail: "trait: string", doc: "The customer's identifier.", text: "id = "})
		for _, t := range k.decls.traits {
			k.add(item{label: t.Name.Value, kind: protocol.CompletionItemKindProperty, detail: "trait: " + k.snap.typeText(t),
				doc: k.snap.describeField("trait", "customer", t), text: t.Name.Value + " = "})
		}
	}
}
