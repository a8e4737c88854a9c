package compiler

import (
	"fmt"

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
		}
	}
}

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
