package lsp

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/lang"
)

// decls is every name the workspace declares, as completion and hover need
// them: the first declaration of each name wins, as in the compiler.
type decls struct {
	snap *snapshot

	customerDeclared bool
	traits           []*lang.Field
	events           []*lang.Event
	channels         []*lang.Channel
	policies         []*lang.Policy
	topics           []*lang.Topic
	journeys         []*lang.Journey
}

// Decls returns the snapshot's declarations, built on first use.
func (s *snapshot) Decls() *decls {
	s.declsOnce.Do(func() {
		d := &decls{snap: s}
		seen := map[string]bool{}
		first := func(kind, name string) bool {
			k := kind + "\x00" + name
			if seen[k] {
				return false
			}
			seen[k] = true
			return true
		}
		for _, p := range s.paths {
			ws, _ := s.files[p].doc.parse()
			for _, c := range ws.Customers {
				d.customerDeclared = true
				for _, t := range c.Traits {
					if first("trait", t.Name.Value) {
						d.traits = append(d.traits, t)
					}
				}
			}
			for _, e := range ws.Events {
				if first("event", e.Name.Value) {
					d.events = append(d.events, e)
				}
			}
			for _, c := range ws.Channels {
				if first("channel", c.Name.Value) {
					d.channels = append(d.channels, c)
				}
			}
			for _, pol := range ws.Policies {
				if first("policy", pol.Name.Value) {
					d.policies = append(d.policies, pol)
				}
			}
			for _, t := range ws.Topics {
				if first("topic", t.Name.Value) {
					d.topics = append(d.topics, t)
				}
			}
			for _, j := range ws.Journeys {
				if first("journey", j.Name.Value) {
					d.journeys = append(d.journeys, j)
				}
			}
		}
		s.decls = d
	})
	return s.decls
}

func (d *decls) event(name string) *lang.Event {
	for _, e := range d.events {
		if e.Name.Value == name {
			return e
		}
	}
	return nil
}

func (d *decls) channel(name string) *lang.Channel {
	for _, c := range d.channels {
		if c.Name.Value == name {
			return c
		}
	}
	return nil
}

func (d *decls) journey(name string) *lang.Journey {
	for _, j := range d.journeys {
		if j.Name.Value == name {
			return j
		}
	}
	return nil
}

// text returns the source of a range in a workspace file, or "".
func (s *snapshot) text(r hcl.Range) string {
	doc := s.docs[r.Filename]
	if doc == nil || !r.CanSliceBytes(doc.src) {
		return ""
	}
	return string(r.SliceBytes(doc.src))
}

// typeText is a declared field's type as written, on one line.
func (s *snapshot) typeText(f *lang.Field) string {
	if f.Type == nil {
		return "any"
	}
	t := strings.Join(strings.Fields(s.text(f.Type.Expr.Range())), " ")
	if t == "" {
		return "any"
	}
	return t
}

// attrString is the value of an attribute that is a string literal, or "".
func attrString(a *lang.Attr) string {
	if a == nil {
		return ""
	}
	v, _ := lang.StaticString(a.Expr)
	return v
}
