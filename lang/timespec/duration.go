package timespec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	day  = 24 * time.Hour
	week = 7 * day

	// maxDuration is the longest duration a time string may hold. Nothing a
	// journey waits for is longer, and the limit keeps arithmetic on durations
	// far from overflow.
	maxDuration = 36500 * day
)

// tooLong says what the limit on durations is.
var tooLong = "a duration can be at most " + formatDuration(maxDuration, dayUnits) + " (about 100 years)"

// unit is one of the units a duration is written in.
type unit struct {
	symbol string // as written: "d"
	name   string // in words, singular: "day"
	size   time.Duration
}

// units are the duration units, largest first: the order they must be written in.
var units = []unit{
	{"w", "week", week},
	{"d", "day", day},
	{"h", "hour", time.Hour},
	{"m", "minute", time.Minute},
	{"s", "second", time.Second},
}

// dayUnits are the units without weeks. Policies read better in days ("3 per 7d",
// "after 30d"), so caps and re-entry rules are written and described with these.
var dayUnits = units[1:]

// unitIndex returns the position of the unit written as symbol in units.
func unitIndex(symbol string) (int, bool) {
	for i, u := range units {
		if u.symbol == symbol {
			return i, true
		}
	}
	return 0, false
}

// ParseDuration parses a duration such as "45s", "30m", "36h", "2d", "1w" or
// "1w 2d 3h". The units are s, m, h, d (24 hours) and w (7 days); each may appear
// once, larger units first, and parts are separated by spaces. The total must be
// longer than zero and at most 36500 days (about 100 years).
//
// An error is an *Error.
func ParseDuration(s string) (time.Duration, error) {
	node, err := parse(durationParser, s, durationKind)
	if err != nil {
		return 0, err
	}
	d, err := checkDuration(node, s)
	if err != nil {
		return 0, err
	}
	return d, nil
}

// checkDuration turns a parsed duration into its value. Offsets in node are
// into s, which may be a larger string (a cap, a re-entry rule) that contains it.
func checkDuration(node *durationNode, s string) (time.Duration, *Error) {
	// Each part on its own, left to right.
	ranks := make([]int, len(node.Parts))
	var total time.Duration
	for i, p := range node.Parts {
		if i > 0 {
			prev := node.Parts[i-1]
			if adjacent(prev.span(), p.span()) {
				return 0, errorf(prev.span().to(p.span()), "write a space between %s and %s",
					quote(prev.span().text(s)), quote(p.span().text(s)))
			}
		}
		v, rank, err := checkPart(p, s)
		if err != nil {
			return 0, err
		}
		ranks[i] = rank
		// Both terms are at most maxDuration+1, so the sum cannot overflow,
		// and once past the limit the total stays there.
		total = min(total+v, maxDuration+1)
	}
	whole := node.span()
	suggestion := ""
	if 0 < total && total <= maxDuration {
		suggestion = fmt.Sprintf(", as in %q", FormatDuration(total))
	}

	// Then their order: each unit once, larger units first.
	for i := 1; i < len(node.Parts); i++ {
		p, prev := node.Parts[i], node.Parts[i-1]
		switch {
		case ranks[i] == ranks[i-1]:
			return 0, errorf(p.span(), "unit %q appears twice: write each unit once%s",
				units[ranks[i]].symbol, suggestion)
		case ranks[i] < ranks[i-1]:
			return 0, errorf(p.span(), "%s must come before %s: write larger units first%s",
				quote(p.span().text(s)), quote(prev.span().text(s)), suggestion)
		}
	}

	switch {
	case total == 0:
		return 0, errorf(whole, "a duration must be longer than zero")
	case total > maxDuration:
		return 0, errorf(whole, "%s is too long: %s", quote(whole.text(s)), tooLong)
	}
	return total, nil
}

// checkPart returns the value of one part and the index of its unit in units.
func checkPart(p *partNode, s string) (time.Duration, int, *Error) {
	if p.Sign != nil {
		if p.Sign.Value == "-" {
			return 0, 0, errorf(p.span(), "a duration cannot be negative")
		}
		return 0, 0, errorf(tokenSpan(*p.Sign), `remove the "+": a duration has no sign`)
	}
	if p.Number == nil {
		msg := fmt.Sprintf("missing a number before %s", quote(p.Unit.Value))
		if u, ok := unitAliases[strings.ToLower(p.Unit.Value)]; ok {
			msg += fmt.Sprintf(`, as in "1%s"`, u)
		}
		return 0, 0, errorf(tokenSpan(*p.Unit), "%s", msg)
	}
	if p.Unit == nil {
		return 0, 0, errorf(tokenSpan(*p.Number), "%s needs a unit: s, m, h, d or w", quote(p.Number.Value))
	}
	number, symbol := p.Number.Value, p.Unit.Value
	rank, ok := unitIndex(symbol)
	if !ok {
		return 0, 0, errorf(tokenSpan(*p.Unit), "%s", unknownUnit(symbol))
	}
	if !adjacent(tokenSpan(*p.Number), tokenSpan(*p.Unit)) {
		return 0, 0, errorf(p.span(), `write the unit right after the number, as in "%s%s"`, number, symbol)
	}
	size := units[rank].size
	if strings.Contains(number, ".") {
		msg := "use whole numbers"
		if d, ok := decimalDuration(number, size); ok {
			msg += fmt.Sprintf(", as in %q", FormatDuration(d))
		}
		return 0, 0, errorf(p.span(), "%s has a fraction: %s", quote(p.span().text(s)), msg)
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n > int64(maxDuration/size) {
		return 0, 0, errorf(p.span(), "%s is too long: %s", quote(p.span().text(s)), tooLong)
	}
	return time.Duration(n) * size, rank, nil
}

// unitAliases maps what people write for a unit, in lower case, to its symbol.
var unitAliases = map[string]string{
	"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
	"m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
	"d": "d", "day": "d", "days": "d",
	"w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
}

// unknownUnit explains that symbol is not a unit, with a hint when it is clear
// what was meant.
func unknownUnit(symbol string) string {
	msg := fmt.Sprintf("unknown unit %s: use s, m, h, d or w", quote(symbol))
	lower := strings.ToLower(symbol)
	if u, ok := unitAliases[lower]; ok {
		i, _ := unitIndex(u)
		return msg + fmt.Sprintf(" (did you mean %q, for %ss?)", u, units[i].name)
	}
	switch lower {
	case "y", "yr", "yrs", "year", "years", "mo", "mon", "mth", "month", "months":
		return msg + ` (months and years vary in length: count days instead, as in "30d")`
	case "ms", "us", "µs", "μs", "ns":
		return msg + " (the smallest unit is s)"
	}
	return msg
}

// decimalDuration returns number (a decimal such as "1.5") times size, if that
// is a whole number of seconds that a duration can hold. It works in integers
// so that "0.1h" is exactly 6 minutes.
func decimalDuration(number string, size time.Duration) (time.Duration, bool) {
	whole, frac, _ := strings.Cut(number, ".")
	if len(whole)+len(frac) > 12 { // keeps the arithmetic below in range
		return 0, false
	}
	mantissa, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, false
	}
	scale := int64(1)
	for range frac {
		scale *= 10
	}
	seconds := mantissa * int64(size/time.Second)
	if seconds%scale != 0 {
		return 0, false
	}
	d := time.Duration(seconds/scale) * time.Second
	return d, 0 < d && d <= maxDuration
}

// FormatDuration writes d in the canonical form ParseDuration reads, such as
// "1w 2d 3h": each unit once, largest first, weeks included. It is the inverse
// of ParseDuration for any duration it accepts. Fractions of a second are
// dropped, zero is "0s", and a negative duration is written with a leading "-".
func FormatDuration(d time.Duration) string {
	return formatDuration(d, units)
}

// formatDuration writes d in the given units, which must end with seconds.
func formatDuration(d time.Duration, us []unit) string {
	amounts, negative := split(d, us)
	if len(amounts) == 0 {
		return "0s"
	}
	parts := make([]string, len(amounts))
	for i, a := range amounts {
		parts[i] = strconv.FormatInt(a.n, 10) + a.unit.symbol
	}
	text := strings.Join(parts, " ")
	if negative {
		return "-" + text
	}
	return text
}

// DescribeDuration says d in words: "45 seconds", "2 days", "1 week, 2 days and
// 3 hours". Like FormatDuration it counts whole seconds.
func DescribeDuration(d time.Duration) string {
	return describeDuration(d, units)
}

// describeDuration says d in words, in the given units, which must end with seconds.
func describeDuration(d time.Duration, us []unit) string {
	amounts, negative := split(d, us)
	if len(amounts) == 0 {
		return "0 seconds"
	}
	parts := make([]string, len(amounts))
	for i, a := range amounts {
		parts[i] = count(a.n, a.unit.name)
	}
	text := list(parts)
	if negative {
		return "minus " + text
	}
	return text
}

// amount is a whole number of one unit.
type amount struct {
	n    int64
	unit unit
}

// split splits the whole seconds of |d| into amounts of the given units,
// which must end with seconds, largest first and leaving out zeros.
func split(d time.Duration, us []unit) (amounts []amount, negative bool) {
	seconds := int64(d / time.Second)
	if seconds < 0 {
		seconds, negative = -seconds, true // |d| in seconds is far from the int64 limit
	}
	for _, u := range us {
		size := int64(u.size / time.Second)
		if n := seconds / size; n > 0 {
			amounts = append(amounts, amount{n, u})
			seconds -= n * size
		}
	}
	return amounts, negative
}

// count says n of a thing: "1 day", "2 days".
func count[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// list joins items as in prose: "a", "a and b", "a, b and c".
func list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// span is the range the whole duration covers.
func (n *durationNode) span() span {
	return n.Parts[0].span().to(n.Parts[len(n.Parts)-1].span())
}

// span is the range the part covers, sign and unit included.
func (p *partNode) span() span {
	var sp span
	switch {
	case p.Sign != nil:
		sp = tokenSpan(*p.Sign)
	case p.Number != nil:
		sp = tokenSpan(*p.Number)
	default:
		sp = tokenSpan(*p.Unit)
	}
	switch {
	case p.Unit != nil:
		return sp.to(tokenSpan(*p.Unit))
	case p.Number != nil:
		return sp.to(tokenSpan(*p.Number))
	}
	return sp
}
