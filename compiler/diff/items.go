package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// item is one comparable detail of a program: a key that pairs it with its
// counterpart on the other side, a description in words or source text,
// and where it is. A detail whose parent was added or removed is not
// reported on its own (a removed send's fields go with it).
type item struct {
	key, parent string
	desc        string
	rng         ir.Range
}

// compareItems pairs old and new items by key and reports what was added,
// removed or changed, in the new order with removals after. A removed
// item's range is within, the range of what held it.
func compareItems(old, new []item, within *ir.Range) []Change {
	out := []Change{}
	oldBy := make(map[string]*item, len(old))
	for i := range old {
		oldBy[old[i].key] = &old[i]
	}
	newBy := make(map[string]*item, len(new))
	for i := range new {
		newBy[new[i].key] = &new[i]
	}
	gone := func(parent string, side map[string]*item) bool {
		return parent != "" && side[parent] == nil
	}
	for i := range new {
		n := &new[i]
		o := oldBy[n.key]
		switch {
		case o == nil:
			if !gone(n.parent, oldBy) {
				out = append(out, Change{Kind: Added, What: n.key, New: n.desc, Range: rangeOf(n.rng)})
			}
		case o.desc != n.desc:
			out = append(out, Change{Kind: Changed, What: n.key, Old: o.desc, New: n.desc, Range: rangeOf(n.rng)})
		}
	}
	for i := range old {
		o := &old[i]
		if newBy[o.key] == nil && !gone(o.parent, newBy) {
			c := Change{Kind: Removed, What: o.key, Old: o.desc}
			if within != nil {
				r := *within
				c.Range = &r
			}
			out = append(out, c)
		}
	}
	return out
}

// ordinals numbers repeated keys: "on ping", "on ping #2".
type ordinals map[string]int

func (o ordinals) key(k string) string {
	o[k]++
	if n := o[k]; n > 1 {
		return k + " #" + strconv.Itoa(n)
	}
	return k
}

var spaces = regexp.MustCompile(`\s+`)

// src fits an expression's source on one line.
func src(e *ir.Expr) string {
	if e == nil {
		return ""
	}
	return spaces.ReplaceAllString(strings.TrimSpace(e.Src), " ")
}

func trigger(event string, when *ir.Expr) string {
	if when == nil {
		return event
	}
	return event + " when " + src(when)
}

func reentry(r ir.Reentry) string {
	if r.Kind == ir.ReentryAfter {
		return fmt.Sprintf("after %ds", r.AfterSeconds)
	}
	return r.Kind
}

func journeyItems(j *ir.Journey) []item {
	var out []item
	add := func(key, desc string, rng ir.Range) {
		out = append(out, item{key: key, desc: desc, rng: rng})
	}
	add("description", j.Description, j.Range)
	add("policy", j.Policy, j.Range)
	add("reentry", reentry(j.Reentry), j.Range)
	add("start", j.Start, j.Range)
	add("in_flight", inFlight(j), j.Range)
	for _, list := range []struct {
		kind string
		ts   []ir.Trigger
	}{{"entry", j.Entries}, {"goal", j.Goals}, {"exit", j.Exits}} {
		ord := ordinals{}
		for _, t := range list.ts {
			add(ord.key(list.kind+" "+t.Event), trigger(t.Event, t.When), t.Range)
		}
	}
	return out
}

func stageItems(s *ir.Stage) []item {
	var out []item
	add := func(key, parent, desc string, rng ir.Range) {
		out = append(out, item{key: key, parent: parent, desc: desc, rng: rng})
	}
	add("description", "", s.Description, s.Range)
	ord := ordinals{}
	for _, a := range s.Actions {
		switch a.Kind {
		case ir.ActionSend:
			key := ord.key("send " + a.Name)
			add(key, "", "via "+a.Channel, a.Range)
			for _, f := range a.Fields {
				add(key+" "+f.Name, key, src(&f.Expr), f.Expr.Range)
			}
		case ir.ActionUpdate:
			parts := make([]string, len(a.Traits))
			for i, t := range a.Traits {
				parts[i] = t.Name + " = " + src(&t.Expr)
			}
			add(ord.key("update"), "", strings.Join(parts, ", "), a.Range)
		case ir.ActionEmit:
			desc := "emit " + a.Event
			if a.Properties != nil {
				desc += " " + src(a.Properties)
			}
			add(ord.key("emit "+a.Event), "", desc, a.Range)
		}
	}
	t := &s.Transition
	add("transition", "", t.Kind, t.Range)
	to := func(target string) string { return "goto " + target }
	switch t.Kind {
	case ir.TransitionGoto:
		add("goto", "", t.Goto, t.Range)
	case ir.TransitionBranch:
		for i, b := range t.Branches {
			cond := "else"
			if b.When != nil {
				cond = "when " + src(b.When)
			}
			add("branch #"+strconv.Itoa(i+1), "", cond+", "+to(b.Goto), b.Range)
		}
	case ir.TransitionSplit:
		for _, v := range t.Variants {
			add(ord.key("variant "+v.Name), "", fmt.Sprintf("weight %d, %s", v.Weight, to(v.Goto)), v.Range)
		}
	case ir.TransitionWait:
		for _, o := range t.Ons {
			add(ord.key("on "+o.Event), "", trigger(o.Event, o.When)+", "+to(o.Goto), o.Range)
		}
		for i, a := range t.Afters {
			add("after #"+strconv.Itoa(i+1), "", a.Spec+", "+to(a.Goto), a.Range)
		}
		for i, a := range t.Ats {
			add("at #"+strconv.Itoa(i+1), "", src(&a.Time)+", "+to(a.Goto), a.Range)
		}
	}
	return out
}

func channelItems(p *ir.Program) []item {
	var out []item
	for _, c := range p.Channels {
		key := "channel " + c.Name
		out = append(out, item{key: key, desc: "type " + c.Type, rng: c.Range})
		for _, s := range c.Settings {
			out = append(out, item{key: key + " " + s.Name, parent: key, desc: src(&s.Expr), rng: s.Expr.Range})
		}
	}
	return out
}

func policyItems(p *ir.Program) []item {
	var out []item
	for _, pol := range p.Policies {
		key := "policy " + pol.Name
		out = append(out, item{key: key, rng: pol.Range})
		sub := func(name, desc string) {
			out = append(out, item{key: key + " " + name, parent: key, desc: desc, rng: pol.Range})
		}
		sub("quiet_hours", pol.QuietHours)
		sub("send_window", pol.SendWindow)
		cap := ""
		if pol.FrequencyCap != nil {
			cap = fmt.Sprintf("%d per %ds", pol.FrequencyCap.N, pol.FrequencyCap.PerSeconds)
		}
		sub("frequency_cap", cap)
		sub("suppressed_by", strings.Join(pol.SuppressedBy, ", "))
	}
	return out
}

func schemaItems(p *ir.Program) []item {
	var out []item
	if p.Customer != nil {
		for _, f := range p.Customer.Traits {
			out = append(out, item{key: "trait " + f.Name, desc: f.Type, rng: f.Range})
		}
	}
	for _, ev := range p.Events {
		key := "event " + ev.Name
		out = append(out, item{key: key, rng: ev.Range})
		for _, f := range ev.Properties {
			out = append(out, item{key: key + " " + f.Name, parent: key, desc: f.Type, rng: f.Range})
		}
	}
	return out
}

// templateItems describes each template by a digest of its content: the
// diff says that it changed, the files say how.
func templateItems(p *ir.Program) []item {
	paths := make([]string, 0, len(p.Templates))
	for path := range p.Templates {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	out := make([]item, len(paths))
	for i, path := range paths {
		sum := sha256.Sum256([]byte(p.Templates[path]))
		out[i] = item{
			key:  "template " + path,
			desc: fmt.Sprintf("%d bytes, sha256:%s", len(p.Templates[path]), hex.EncodeToString(sum[:6])),
			rng:  ir.Range{File: path, Start: ir.Pos{Line: 1, Col: 1}, End: ir.Pos{Line: 1, Col: 1}},
		}
	}
	return out
}
