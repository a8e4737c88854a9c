package timespec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cap is a frequency cap: at most N sends in any rolling window of length Per.
type Cap struct {
	N   int
	Per time.Duration
}

// maxCount is the largest N a cap may have. A larger count is no cap at all,
// and is far more likely a slip of the keyboard.
const maxCount = 1_000_000

// ParseCap parses a frequency cap, "N per DURATION", such as "3 per 7d" or
// "1 per 1w 2d". N is a whole number from 1 to 1000000; the duration is written
// as for ParseDuration. The word "per" may be in any case.
//
// An error is an *Error.
func ParseCap(s string) (Cap, error) {
	node, err := parse(capParser, s, capKind)
	if err != nil {
		return Cap{}, err
	}
	c, err := checkCap(node, s)
	if err != nil {
		return Cap{}, err
	}
	return c, nil
}

// checkCap turns a parsed cap into its value, checking its parts left to right.
func checkCap(n *capNode, s string) (Cap, *Error) {
	const example = `"3 per 7d"`
	if n.Count == nil {
		return Cap{}, errorf(n.span(), "a cap starts with a count, as in %s", example)
	}
	count := tokenSpan(*n.Count)
	if strings.Contains(n.Count.Value, ".") {
		return Cap{}, errorf(count, "the count must be a whole number, as in %s", example)
	}
	number, err := strconv.Atoi(n.Count.Value)
	switch {
	case err != nil || number > maxCount:
		return Cap{}, errorf(count, "the count can be at most %d", maxCount)
	case number < 1:
		return Cap{}, errorf(count, "the count must be at least 1")
	}

	switch {
	case n.Keyword == nil && n.Period == nil: // the parser does not produce this; be safe anyway
		return Cap{}, errorf(count, `missing "per" and a duration after %s, as in %s`, quote(n.Count.Value), example)
	case n.Keyword == nil:
		return Cap{}, errorf(count.to(n.Period.span()), `missing "per" between %s and %s`,
			quote(n.Count.Value), quote(n.Period.span().text(s)))
	}
	keyword := tokenSpan(*n.Keyword)
	switch {
	case !strings.EqualFold(n.Keyword.Value, "per") && adjacent(count, keyword) && n.Period == nil:
		// "7d": a duration without the count.
		return Cap{}, errorf(n.span(), "a cap is a count and a duration, as in %s", example)
	case !strings.EqualFold(n.Keyword.Value, "per"):
		return Cap{}, errorf(keyword, `expected "per" after the count, not %s: write a cap as in %s`,
			quote(n.Keyword.Value), example)
	case adjacent(count, keyword):
		return Cap{}, errorf(count.to(keyword), "write a space between %s and %s",
			quote(n.Count.Value), quote(n.Keyword.Value))
	case n.Period == nil:
		return Cap{}, errorf(keyword, `missing the duration after "per", as in %s`, example)
	case adjacent(keyword, n.Period.span()):
		return Cap{}, errorf(keyword.to(n.Period.span()), "write a space between %s and %s",
			quote(n.Keyword.Value), quote(n.Period.span().text(s)))
	}
	per, perr := checkDuration(n.Period, s)
	if perr != nil {
		return Cap{}, perr
	}
	return Cap{N: number, Per: per}, nil
}

// String writes c in the canonical form ParseCap reads, with the duration in
// days and smaller units: "3 per 7d".
func (c Cap) String() string {
	return strconv.Itoa(c.N) + " per " + formatDuration(c.Per, dayUnits)
}

// Describe says c in words: "at most 3 sends in any 7 days".
func (c Cap) Describe() string {
	return fmt.Sprintf("at most %s in any %s", count(c.N, "send"), describeDuration(c.Per, dayUnits))
}

// span is the range the whole cap covers.
func (n *capNode) span() span {
	var parts []span
	if n.Count != nil {
		parts = append(parts, tokenSpan(*n.Count))
	}
	if n.Keyword != nil {
		parts = append(parts, tokenSpan(*n.Keyword))
	}
	if n.Period != nil {
		parts = append(parts, n.Period.span())
	}
	if len(parts) == 0 {
		return span{}
	}
	return parts[0].to(parts[len(parts)-1])
}
