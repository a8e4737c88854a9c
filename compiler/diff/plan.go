package diff

import (
	"fmt"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// PlanFormat names the plan document.
const PlanFormat = "waymark.plan/v1"

// Dispositions: what a reload does to an active instance whose journey
// changed (engine.Migration.Disposition).
const (
	Stay       = "stay"       // same stage name: its timers are recomputed
	MovedTo    = "moved"      // a `moved` block renamed its stage (or journey)
	Redirected = "redirected" // a `removed` block with a goto sends it on
	Left       = "left"       // its stage is now immediate and sends it on at once
	Exited     = "exited"     // its stage or journey is gone (Cause says which)
	Pinned     = "pinned"     // in_flight = "pin": it finishes on the version it started
)

// Dispositions lists every disposition in the order documents show them.
var Dispositions = []string{Stay, MovedTo, Redirected, Left, Exited, Pinned}

// Plan is a diff and its effect on the customers in flight
// (waymark.plan/v1). It holds counts only: never a customer's id or traits.
type Plan struct {
	Format      string        `json:"format"`
	BaseVersion string        `json:"base_version"` // the program running now
	Version     string        `json:"version"`      // the candidate
	Journeys    []JourneyPlan `json:"journeys"`
	Summary     Summary       `json:"summary"`
	Changes     *Diff         `json:"changes"`
}

// JourneyPlan is one journey's customers in flight: those whose instance
// would change version or is pinned.
type JourneyPlan struct {
	Name     string   `json:"name"`
	Change   string   `json:"change"` // as in the diff; "unchanged" when only its held sends are concerned
	InFlight int      `json:"in_flight"`
	Impact   []Impact `json:"impact"`
	// Held are held sends (waiting for quiet hours or a send window) whose
	// send or policy changed: a changed send still goes out as it was
	// evaluated; a changed policy decides it anew when it is due.
	Held []HeldImpact `json:"held,omitempty"`
	// Earlier are instances whose next timer would fall due earlier than
	// before (a shortened after): AtOnce of them are due already and fire
	// at once.
	Earlier []TimerImpact `json:"earlier_timers,omitempty"`
}

// Unchanged is a JourneyPlan's Change when the journey itself did not
// change but its held sends are concerned (a policy changed).
const Unchanged = "unchanged"

// Impact is what happens to the customers in one stage.
type Impact struct {
	Stage       string `json:"stage"`
	Customers   int    `json:"customers"`
	Disposition string `json:"disposition"`
	To          string `json:"to,omitempty"`    // moved, redirected, left: where they go
	Cause       string `json:"cause,omitempty"` // exited: stage_removed, journey_removed, ...
}

// HeldImpact counts held sends of one send whose send or policy changed.
type HeldImpact struct {
	Stage  string `json:"stage"`
	Send   string `json:"send"`
	Sends  int    `json:"sends"`
	Reason string `json:"reason"` // "send changed" | "policy changed"
}

// TimerImpact counts instances in one stage whose next timer moves earlier.
type TimerImpact struct {
	Stage     string `json:"stage"`
	Customers int    `json:"customers"`
	AtOnce    int    `json:"at_once"`
}

// Summary totals the dispositions over every journey.
type Summary struct {
	InFlight   int `json:"in_flight"`
	Stay       int `json:"stay"`
	Moved      int `json:"moved"`
	Redirected int `json:"redirected"`
	Left       int `json:"left"`
	Exited     int `json:"exited"`
	Pinned     int `json:"pinned"`
}

// Add counts n instances with disposition d.
func (s *Summary) Add(d string, n int) {
	s.InFlight += n
	if f := s.field(d); f != nil {
		*f += n
	}
}

// Count returns the number with disposition d.
func (s *Summary) Count(d string) int {
	if f := s.field(d); f != nil {
		return *f
	}
	return 0
}

func (s *Summary) field(d string) *int {
	switch d {
	case Stay:
		return &s.Stay
	case MovedTo:
		return &s.Moved
	case Redirected:
		return &s.Redirected
	case Left:
		return &s.Left
	case Exited:
		return &s.Exited
	case Pinned:
		return &s.Pinned
	}
	return nil
}

// Disturbed is how many customers in flight would move, leave or exit:
// those a reload sends anywhere but the stage they are in.
func (s *Summary) Disturbed() int { return s.Moved + s.Redirected + s.Left + s.Exited }

// Exit codes of `waymark plan --detailed-exitcode`.
const (
	ExitNoChange    = 0 // the program would not change
	ExitError       = 1
	ExitChangesOnly = 2 // it changes, but no customer in flight moves, leaves or exits
	ExitDisturbs    = 3 // some customers in flight would move, leave or exit
)

// ExitCode is the plan's detailed exit code.
func (p *Plan) ExitCode() int {
	switch {
	case p.Summary.Disturbed() > 0:
		return ExitDisturbs
	case p.BaseVersion != p.Version || (p.Changes != nil && !p.Changes.Empty()):
		return ExitChangesOnly
	}
	return ExitNoChange
}

// Headline says in one line what the plan does to the customers in flight:
// "20 customers in flight would be redirected, 0 exited".
func (p *Plan) Headline() string {
	s := p.Summary
	if p.ExitCode() == ExitNoChange {
		return "No change: the candidate is the program running now"
	}
	if s.InFlight == 0 {
		return "No customer in flight is affected: the program changes, nobody moves"
	}
	var parts []string
	for _, d := range []struct {
		n    int
		verb string
	}{
		{s.Moved, "moved"},
		{s.Redirected, "redirected"},
		{s.Left, "sent on at once"},
		{s.Stay, "kept in their stage"},
		{s.Pinned, "pinned to their version"},
	} {
		if d.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", d.n, d.verb))
		}
	}
	head := customers(s.InFlight) + " in flight"
	switch {
	case len(parts) == 0:
		return head + " would exit"
	case len(parts) == 1 && s.Exited == 0:
		_, verb, _ := strings.Cut(parts[0], " ")
		return head + " would be " + verb + ", 0 exited"
	}
	return fmt.Sprintf("%s: %s, %d exited", head, strings.Join(parts, ", "), s.Exited)
}

func customers(n int) string {
	if n == 1 {
		return "1 customer"
	}
	return fmt.Sprintf("%d customers", n)
}

// Describe says in words what happens to the customers of an impact row.
func (im Impact) Describe() string {
	switch im.Disposition {
	case Stay:
		return "stay in " + im.Stage + " (timers recomputed)"
	case MovedTo:
		return "move to " + im.To
	case Redirected:
		if im.To == "end" {
			return "redirected to the end (complete)"
		}
		return "redirected to " + im.To
	case Left:
		return "leave at once for " + im.To
	case Exited:
		if im.Cause != "" {
			return "exit (" + im.Cause + ")"
		}
		return "exit"
	case Pinned:
		return "pinned: finish on their version"
	}
	return im.Disposition
}

// HeldChange says why a held send of journey (its name in the old
// program), stage and send needs a reviewer's eye under this diff:
// HeldSendChanged (the send, its stage or its journey changed or went:
// the held send still goes out as it was evaluated), HeldPolicyChanged
// (the journey's policy changed: it is decided anew when due), or "".
// base is the old program, for the journey's policy.
func (d *Diff) HeldChange(base *ir.Program, journey, stage, send string) string {
	var jd *JourneyDiff
	for i := range d.Journeys {
		if x := &d.Journeys[i]; x.From == journey || x.Name == journey && x.Change != Moved {
			jd = x
			break
		}
	}
	if jd != nil {
		if jd.Change == Removed {
			return HeldSendChanged
		}
		for _, s := range jd.Stages {
			if s.Name != stage && s.From != stage {
				continue
			}
			if s.Change == Removed {
				return HeldSendChanged
			}
			key := "send " + send
			for _, c := range s.Changes {
				if c.What == key || strings.HasPrefix(c.What, key+" ") {
					return HeldSendChanged
				}
			}
		}
		for _, c := range jd.Changes {
			if c.What == "policy" {
				return HeldPolicyChanged
			}
		}
	}
	var policy string
	if j := base.Journey(journey); j != nil {
		policy = j.Policy
	}
	if policy != "" {
		key := "policy " + policy
		for _, c := range d.Policies {
			if c.What == key || strings.HasPrefix(c.What, key+" ") {
				return HeldPolicyChanged
			}
		}
	}
	return ""
}
