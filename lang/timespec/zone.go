package timespec

//go:generate go run mkzones.go

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the tz database, for machines without one
)

// zones caches the locations LoadZone has loaded: loading one reads and parses
// the database, and the runtime asks for the same few zones again and again.
var zones sync.Map // name → *time.Location

// LoadZone returns the time zone with the given IANA name, such as
// "Europe/Berlin" or "America/New_York", from the tz database (Go's own copy
// when the machine has none). "UTC" is a zone; "" and "Local", the server's
// own zone, are not.
//
// The error, an *Error covering the whole name, says what is wrong and
// suggests a zone when one is close ("Asia/Shangai": did you mean
// "Asia/Shanghai"?).
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	whole := span{0, len(name)}
	const example = `an IANA name such as "Europe/Berlin" or "America/New_York"`
	switch name {
	case "":
		return nil, &Error{Msg: "empty time zone: use " + example}
	case "Local":
		return nil, errorf(whole, `"Local" is the server's own zone, not a customer's: use %s`, example)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		msg := fmt.Sprintf("unknown time zone %s", quote(name))
		if zone, ok := suggestZone(name); ok {
			msg += fmt.Sprintf(": did you mean %q?", zone)
		} else if isAbbreviation(name) {
			msg += ": zone abbreviations are ambiguous; use " + example
		} else {
			msg += ": use " + example
		}
		return nil, errorf(whole, "%s", msg)
	}
	zones.Store(name, loc)
	return loc, nil
}

// suggestZone returns the zone that name most likely means: the same name in
// other case or with spaces for underscores ("america/new york"), the zone of a
// city given alone ("Shanghai"), or a zone spelt nearly the same
// ("Asia/Shangai", "Shangai").
func suggestZone(name string) (string, bool) {
	if len(name) > 64 { // longer than any zone name, and slow to compare
		return "", false
	}
	normal := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "_")) }
	want := normal(name)
	for _, z := range zoneNames {
		if normal(z) == want {
			return z, true
		}
	}

	// Each city once, with the first zone named after it.
	var cities []string
	zoneOf := map[string]string{}
	for _, z := range zoneNames {
		i := strings.LastIndexByte(z, '/')
		if i < 0 {
			continue
		}
		city := normal(z[i+1:])
		if _, seen := zoneOf[city]; !seen {
			zoneOf[city] = z
			cities = append(cities, city)
		}
	}
	bare := !strings.Contains(want, "/")
	if zone, ok := zoneOf[want]; ok && bare {
		return zone, true
	}

	// Misspellings. Short names are left alone: "PST" is one letter from
	// "EST", which is not what its writer meant.
	if runeLen(name) < 5 {
		return "", false
	}
	maxDist := 2
	if runeLen(name) >= 10 {
		maxDist = 3
	}
	if bare {
		city, ok := closest(want, cities, maxDist)
		return zoneOf[city], ok
	}
	return closest(want, zoneNames, maxDist)
}

// isAbbreviation reports whether name looks like a zone abbreviation, such as
// "PST" or "CEST".
func isAbbreviation(name string) bool {
	if len(name) < 2 || len(name) > 5 {
		return false
	}
	for _, r := range name {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
