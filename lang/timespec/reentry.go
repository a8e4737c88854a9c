package timespec

import (
	"fmt"
	"strings"
	"time"
)

// ReentryKind says whether a customer may enter a journey again.
type ReentryKind int

const (
	// ReentryNever lets a customer enter a journey once only. It is the default.
	ReentryNever ReentryKind = iota
	// ReentryAlways lets a customer enter again once their previous instance has ended.
	ReentryAlways
	// ReentryAfter lets a customer enter again a while after their previous
	// instance ended.
	ReentryAfter
)

// String returns the keyword for k: "never", "always" or "after".
func (k ReentryKind) String() string {
	switch k {
	case ReentryNever:
		return "never"
	case ReentryAlways:
		return "always"
	case ReentryAfter:
		return "after"
	}
	return fmt.Sprintf("ReentryKind(%d)", int(k))
}

// Reentry is a journey's re-entry rule. After is the wait, counted from the end
// of the previous instance, when Kind is ReentryAfter; it is zero otherwise.
type Reentry struct {
	Kind  ReentryKind
	After time.Duration
}

// reentryKeywords are the words a re-entry rule starts with, in the order of
// the kinds they stand for.
var reentryKeywords = []string{"never", "always", "after"}

// ParseReentry parses a re-entry rule: "never", "always" or "after DURATION"
// (such as "after 30d"), with the duration written as for ParseDuration. The
// keywords may be in any case.
//
// An error is an *Error.
func ParseReentry(s string) (Reentry, error) {
	node, err := parse(reentryParser, s, reentryKind)
	if err != nil {
		return Reentry{}, err
	}
	r, err := checkReentry(node, s)
	if err != nil {
		return Reentry{}, err
	}
	return r, nil
}

// checkReentry turns a parsed re-entry rule into its value.
func checkReentry(n *reentryNode, s string) (Reentry, *Error) {
	if n.Keyword == nil {
		if n.Period == nil { // the parser does not produce this; be safe anyway
			return Reentry{}, errorf(span{0, len(s)}, "invalid re-entry rule: write %s", reentryKind.example)
		}
		period := n.Period.span()
		return Reentry{}, errorf(period, `missing "after" before %s: write %q`,
			quote(period.text(s)), "after "+period.text(s))
	}
	keyword := tokenSpan(*n.Keyword)
	kind := ReentryKind(-1)
	for k, word := range reentryKeywords {
		if strings.EqualFold(n.Keyword.Value, word) {
			kind = ReentryKind(k)
		}
	}
	switch {
	case kind < 0:
		msg := fmt.Sprintf(`unknown re-entry rule %s: use "never", "always" or "after 30d"`, quote(n.Keyword.Value))
		if word, ok := closest(n.Keyword.Value, reentryKeywords, 2); ok {
			msg += fmt.Sprintf(" (did you mean %q?)", word)
		}
		return Reentry{}, errorf(keyword, "%s", msg)
	case kind != ReentryAfter && n.Period != nil:
		return Reentry{}, errorf(n.Period.span(), `%q takes no duration: write %q alone, or "after %s" to let customers back in after a wait`,
			kind, kind, n.Period.span().text(s))
	case kind != ReentryAfter:
		return Reentry{Kind: kind}, nil
	case n.Period == nil:
		return Reentry{}, errorf(keyword, `"after" needs a duration, as in "after 30d"`)
	case adjacent(keyword, n.Period.span()):
		return Reentry{}, errorf(keyword.to(n.Period.span()), `write a space between "after" and %s`,
			quote(n.Period.span().text(s)))
	}
	d, err := checkDuration(n.Period, s)
	if err != nil {
		return Reentry{}, err
	}
	return Reentry{Kind: ReentryAfter, After: d}, nil
}

// String writes r in the canonical form ParseReentry reads: "never", "always"
// or "after 30d", with the duration in days and smaller units.
func (r Reentry) String() string {
	if r.Kind == ReentryAfter {
		return "after " + formatDuration(r.After, dayUnits)
	}
	return r.Kind.String()
}

// Describe says r in words, as a sentence without its full stop.
func (r Reentry) Describe() string {
	switch r.Kind {
	case ReentryNever:
		return "a customer enters at most once"
	case ReentryAlways:
		return "a customer can enter again once their previous instance has ended"
	case ReentryAfter:
		return fmt.Sprintf("a customer can enter again %s after their previous instance ended",
			describeDuration(r.After, dayUnits))
	}
	return r.Kind.String()
}
