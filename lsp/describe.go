package lsp

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// Summaries of what a name refers to, in markdown, for hover and for the
// documentation of completion items. Block and attribute documentation comes
// from lang's schema; these say what this workspace's declarations hold.

// describeSymbol summarises a symbol from its declaring node.
func (s *snapshot) describeSymbol(sym *compiler.Symbol) string {
	switch n := sym.Node.(type) {
	case *lang.Stage:
		return s.describeStage(sym.Parent, n)
	case *lang.Journey:
		return s.describeJourney(n)
	case *lang.Channel:
		return s.describeChannel(n)
	case *lang.Policy:
		return s.describePolicy(n)
	case *lang.Topic:
		return s.describeTopic(n)
	case *lang.Event:
		return s.describeEvent(n)
	case *lang.Field:
		if sym.Kind == compiler.SymTrait {
			return s.describeField("trait", "customer", n)
		}
		return s.describeField("property", "event "+code(sym.Parent), n)
	case *lang.Send:
		return s.describeSend(sym.Parent, n)
	case *lang.Test:
		return fmt.Sprintf("**test** %s", code(n.Name.Value))
	}
	return fmt.Sprintf("**%s** %s", sym.Kind, code(sym.Name))
}

func code(s string) string { return "`" + s + "`" }

// paragraph appends a description, if there is one.
func paragraph(b *strings.Builder, a *lang.Attr) {
	if d := attrString(a); d != "" {
		b.WriteString("\n\n" + d)
	}
}

func (s *snapshot) describeStage(journey string, st *lang.Stage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**stage** %s in journey %s", code(st.Name.Value), code(journey))
	paragraph(&b, st.Description)
	var actions []string
	for _, a := range st.Actions {
		switch a := a.(type) {
		case *lang.Send:
			via := ""
			if a.Channel != nil {
				via = " through " + code(s.exprText(a.Channel.Expr))
			}
			actions = append(actions, "send "+code(a.Name.Value)+via)
		case *lang.Update:
			var names []string
			for _, t := range a.Traits {
				names = append(names, code(t.Name))
			}
			actions = append(actions, "update "+strings.Join(names, ", "))
		case *lang.Emit:
			actions = append(actions, "emit "+code(a.Event.Value))
		}
	}
	if len(actions) > 0 {
		b.WriteString("\n\nActions, in order:\n")
		for _, a := range actions {
			b.WriteString("- " + a + "\n")
		}
	}
	var moves []string
	target := func(a *lang.Attr) string {
		if a == nil {
			return "?"
		}
		return code(s.exprText(a.Expr))
	}
	if st.Goto != nil {
		moves = append(moves, "goto "+target(st.Goto))
	}
	for _, br := range st.Branches {
		if br.When != nil {
			moves = append(moves, fmt.Sprintf("branch when %s → %s", code(s.exprText(br.When.Expr)), target(br.Goto)))
		} else {
			moves = append(moves, "otherwise → "+target(br.Goto))
		}
	}
	for _, sp := range st.Splits {
		for _, v := range sp.Variants {
			w := "?"
			if v.Weight != nil {
				w = s.exprText(v.Weight.Expr)
			}
			moves = append(moves, fmt.Sprintf("split %s (weight %s) → %s", code(v.Name.Value), w, target(v.Goto)))
		}
	}
	for _, on := range st.Ons {
		moves = append(moves, fmt.Sprintf("on %s → %s", code(on.Event.Value), target(on.Goto)))
	}
	for _, af := range st.Afters {
		moves = append(moves, fmt.Sprintf("after %s → %s", describeDurationText(af.Duration.Value), target(af.Goto)))
	}
	for _, at := range st.Ats {
		t := "?"
		if at.Time != nil {
			t = code(s.exprText(at.Time.Expr))
		}
		moves = append(moves, fmt.Sprintf("at %s → %s", t, target(at.Goto)))
	}
	if len(moves) == 0 {
		b.WriteString("\n\nNo transition: entering it completes the journey.")
	} else {
		b.WriteString("\n\nTransitions:\n")
		for _, m := range moves {
			b.WriteString("- " + m + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *snapshot) describeJourney(j *lang.Journey) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**journey** %s", code(j.Name.Value))
	paragraph(&b, j.Description)
	var facts []string
	if j.Policy != nil {
		facts = append(facts, "policy "+code(s.exprText(j.Policy.Expr)))
	}
	if r := attrString(j.Reentry); r != "" {
		if rr, err := timespec.ParseReentry(r); err == nil {
			facts = append(facts, "re-entry: "+rr.Describe())
		}
	}
	for _, g := range []struct {
		what string
		ts   []*lang.Trigger
	}{{"entry", j.Entries}, {"goal", j.Goals}, {"exit", j.Exits}} {
		var names []string
		for _, t := range g.ts {
			names = append(names, code(t.Event.Value))
		}
		if len(names) > 0 {
			facts = append(facts, g.what+" "+strings.Join(names, ", "))
		}
	}
	var stages []string
	for _, st := range j.Stages {
		stages = append(stages, code(st.Name.Value))
	}
	facts = append(facts, fmt.Sprintf("%d stages: %s", len(stages), strings.Join(stages, " → ")))
	b.WriteString("\n\n")
	for _, f := range facts {
		b.WriteString("- " + f + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// channelTypeDocs says what each channel type does, in the schema's words.
func channelTypeDoc(typ string) string {
	switch typ {
	case lang.ChannelSMTP:
		return "email through an SMTP server"
	case lang.ChannelWebhook:
		return "a signed JSON POST"
	case lang.ChannelLog:
		return "a structured log line"
	case lang.ChannelTwilio:
		return "SMS through Twilio's Messages API"
	}
	return ""
}

func (s *snapshot) describeChannel(c *lang.Channel) string {
	var b strings.Builder
	typ := attrString(c.Type)
	fmt.Fprintf(&b, "**channel** %s, type %s", code(c.Name.Value), code(typ))
	if d := channelTypeDoc(typ); d != "" {
		b.WriteString(": " + d)
	}
	paragraph(&b, c.Description)
	if len(c.Settings) > 0 {
		b.WriteString("\n\nSettings:\n")
		for _, set := range c.Settings {
			fmt.Fprintf(&b, "- %s = %s\n", set.Name, code(s.exprText(set.Expr)))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// describeTopic says what a topic is for and whether it is opt-in.
func (s *snapshot) describeTopic(t *lang.Topic) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**topic** %s", code(t.Name.Value))
	paragraph(&b, t.Description)
	if attrString(t.Default) == lang.Unsubscribed {
		b.WriteString("\n\nopt-in: customers get its sends only after they subscribe")
	} else {
		b.WriteString("\n\nopt-out: customers get its sends until they unsubscribe")
	}
	return b.String()
}

func (s *snapshot) describePolicy(p *lang.Policy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**policy** %s", code(p.Name.Value))
	paragraph(&b, p.Description)
	var facts []string
	if v := attrString(p.QuietHours); v != "" {
		facts = append(facts, "quiet hours: "+describeTime(lang.KindWindow, v))
	}
	if v := attrString(p.SendWindow); v != "" {
		facts = append(facts, "send window: "+describeTime(lang.KindWindow, v))
	}
	if v := attrString(p.FrequencyCap); v != "" {
		facts = append(facts, "frequency cap: "+describeTime(lang.KindCap, v))
	}
	if p.SuppressedBy != nil {
		facts = append(facts, "suppressed by "+code(s.exprText(p.SuppressedBy.Expr)))
	}
	if p.Topic != nil {
		facts = append(facts, "topic "+code(s.exprText(p.Topic.Expr)))
	}
	if len(facts) > 0 {
		b.WriteString("\n\n")
		for _, f := range facts {
			b.WriteString("- " + f + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *snapshot) describeEvent(e *lang.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**event** %s", code(e.Name.Value))
	paragraph(&b, e.Description)
	if len(e.Properties) == 0 {
		b.WriteString("\n\nNo declared properties.")
		return b.String()
	}
	b.WriteString("\n\nProperties:\n")
	for _, p := range e.Properties {
		fmt.Fprintf(&b, "- %s: %s", code(p.Name.Value), s.typeText(p))
		if d := attrString(p.Description); d != "" {
			b.WriteString(" — " + d)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *snapshot) describeField(kind, owner string, f *lang.Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** %s of %s: %s", kind, code(f.Name.Value), owner, code(s.typeText(f)))
	paragraph(&b, f.Description)
	return b.String()
}

func (s *snapshot) describeSend(journey string, send *lang.Send) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**send** %s in journey %s", code(send.Name.Value), code(journey))
	if send.Channel != nil {
		b.WriteString(" through " + code(s.exprText(send.Channel.Expr)))
	}
	if len(send.Fields) > 0 {
		b.WriteString("\n\nFields:\n")
		for _, f := range send.Fields {
			fmt.Fprintf(&b, "- %s\n", f.Name)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// exprText is an expression's source on one line.
func (s *snapshot) exprText(e hclsyntax.Expression) string {
	return strings.Join(strings.Fields(s.text(e.Range())), " ")
}

// describeTime says what a time string means, in words, or why it is not
// valid.
func describeTime(kind lang.ValueKind, v string) string {
	switch kind {
	case lang.KindDuration:
		return describeDurationText(v)
	case lang.KindWindow:
		w, err := timespec.ParseWindow(v)
		if err != nil {
			return "not a valid window: " + err.Error()
		}
		return w.Describe() + " in the customer's time zone"
	case lang.KindCap:
		c, err := timespec.ParseCap(v)
		if err != nil {
			return "not a valid frequency cap: " + err.Error()
		}
		return c.Describe()
	case lang.KindReentry:
		r, err := timespec.ParseReentry(v)
		if err != nil {
			return "not a valid re-entry rule: " + err.Error()
		}
		return r.Describe()
	}
	return ""
}

func describeDurationText(v string) string {
	d, err := timespec.ParseDuration(v)
	if err != nil {
		return "not a valid duration: " + err.Error()
	}
	return timespec.DescribeDuration(d)
}

// isTimeKind tells whether values of a kind are time strings.
func isTimeKind(k lang.ValueKind) bool {
	switch k {
	case lang.KindDuration, lang.KindWindow, lang.KindCap, lang.KindReentry:
		return true
	}
	return false
}
