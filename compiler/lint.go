package compiler

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// lint flags what is legal but almost certainly not what the author meant.
func (c *checker) lint() {
	for _, ch := range c.ws.Channels {
		if c.channelTypes[ch.Name.Value] == lang.ChannelWebhook && ch.Setting("secret") == nil {
			c.warnf(ch.DefRange, "Webhook without a secret",
				"Requests to channel %q will go unsigned, so the receiver cannot tell them from forgeries. Add `secret = env(\"...\")`: requests then carry X-Waymark-Signature.", ch.Name.Value)
		}
	}
	for _, p := range c.policies {
		for _, name := range p.suppressed {
			if jr := c.journeys[name]; jr != nil && jr.policy == p.decl.Name.Value {
				c.warnf(p.decl.SuppressedBy.Range, "Journey suppressed by itself",
					"Journey %q uses policy %q, which it also suppresses: its sends would always be dropped.", name, p.decl.Name.Value)
			}
		}
	}
	for _, j := range c.ws.Journeys {
		jr := c.journeys[j.Name.Value]
		if jr == nil || jr.decl != j {
			continue
		}
		if len(j.Entries) == 0 {
			c.warnf(j.DefRange, "Journey without an entry", "No `entry` block admits customers to journey %q, so nobody will ever be in it.", j.Name.Value)
		}
		if len(j.Goals) == 0 {
			c.warnf(j.DefRange, "Journey without a goal",
				"Journey %q has no `goal`, so conversions cannot be counted and customers who convert keep getting its messages. Add e.g. `goal \"order_completed\" {}`.", j.Name.Value)
		}
		for _, s := range j.Stages {
			if j.Policy == nil {
				for _, a := range s.Actions {
					if send, ok := a.(*lang.Send); ok {
						c.warnf(send.DefRange, "Send without a contact policy",
							"Journey %q has no `policy`, so this send ignores quiet hours, frequency caps and suppression. Set `policy = policy.NAME` on the journey.", j.Name.Value)
					}
				}
			}
			c.shadowedAfters(s)
			for _, a := range s.Actions {
				if send, ok := a.(*lang.Send); ok {
					c.markupBody(send)
				}
			}
		}
	}
}

// markupBody flags an smtp send whose `body`, the plain-text part, holds
// HTML: mail clients show it as text, tags and all. The check is cheap: a
// known tag in the body's literal text or in a template it names.
func (c *checker) markupBody(send *lang.Send) {
	body := send.Field("body")
	if body == nil || c.sendChannelType(send) != lang.ChannelSMTP {
		return
	}
	var tag string
	hclsyntax.VisitAll(body.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
		if tag != "" {
			return nil
		}
		switch e := n.(type) {
		case *hclsyntax.LiteralValueExpr:
			if e.Val.Type() == cty.String && e.Val.IsKnown() && !e.Val.IsNull() {
				tag = htmlTag.FindString(e.Val.AsString())
			}
		case *hclsyntax.FunctionCallExpr:
			if e.Name == "template" && len(e.Args) == 1 {
				if path, ok := lang.StaticString(e.Args[0]); ok {
					tag = htmlTag.FindString(c.templates[path])
				}
			}
		}
		return nil
	})
	if tag == "" {
		return
	}
	fix := "Put the HTML in `html` and a plain-text version in `body`"
	if send.Field("html") != nil {
		fix = "This send has `html` too: make `body` its plain-text version"
	}
	c.warnf(body.Expr.Range(), "HTML in a plain-text body",
		"`body` is the plain-text part of the email, and this one holds markup (%s): mail clients show it as text, tags and all. %s, e.g. `body = template(\"templates/NAME.txt\")` and `html = template(\"templates/NAME.html\")`.", tag, fix)
}

// htmlTag finds an HTML tag that text meant as plain text would not hold:
// a known element's opening or closing tag, or a doctype. "a < b", "<3" or
// "<your name>" are not tags.
var htmlTag = regexp.MustCompile(`(?i)<!doctype\s+html|</?(?:html|head|body|p|div|span|br|hr|a|b|i|u|em|strong|ul|ol|li|table|thead|tbody|tr|td|th|h[1-6]|img|pre|code|blockquote|font|center|style)(?:\s[^<>]*)?/?>`)

// shadowedAfters flags an after that a shorter (or earlier, equal) after in
// the same stage always beats.
func (c *checker) shadowedAfters(s *lang.Stage) {
	for i, a := range s.Afters {
		da, ok := c.durations[a]
		if !ok {
			continue
		}
		for k, b := range s.Afters {
			db, ok := c.durations[b]
			if !ok || k == i || db > da || (db == da && k > i) {
				continue
			}
			why := fmt.Sprintf("%s is shorter than %s", timespec.DescribeDuration(db), timespec.DescribeDuration(da))
			if db == da {
				why = "it waits as long and comes first"
			}
			c.warnf(a.Duration.Range, "After that never fires",
				"The `after %q` at %s always fires first (%s), so this one never does. Remove one of them.",
				b.Duration.Value, rangeString(b.Duration.Range), why)
			break
		}
	}
}
