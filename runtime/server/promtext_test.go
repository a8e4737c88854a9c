package server

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A strict reader of the Prometheus text exposition format (0.0.4), for the
// tests: it checks what a Prometheus server would refuse (syntax, a TYPE
// after its samples, a family split in two, a series written twice) and
// what it would accept but misread (histogram buckets that are not
// cumulative, a +Inf bucket that disagrees with _count).

type promSeries struct {
	name   string // with its suffix
	labels map[string]string
	value  float64
}

type promFamily struct {
	name, help, typ string
	series          []promSeries
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

func parsePromText(r io.Reader) (map[string]*promFamily, error) {
	fams := map[string]*promFamily{}
	var order []string
	done := map[string]bool{} // families whose samples ended
	cur := ""
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d %q: %s", line, text, fmt.Sprintf(format, args...))
		}
		if text == "" {
			continue
		}
		if strings.HasPrefix(text, "#") {
			parts := strings.SplitN(text, " ", 4)
			if len(parts) < 3 || (parts[1] != "HELP" && parts[1] != "TYPE") {
				continue // a comment
			}
			name := parts[2]
			if !metricNameRE.MatchString(name) {
				return nil, fail("bad metric name")
			}
			f := fams[name]
			if f == nil {
				f = &promFamily{name: name}
				fams[name] = f
				order = append(order, name)
			}
			if done[name] || len(f.series) > 0 {
				return nil, fail("%s after the family's samples", parts[1])
			}
			rest := ""
			if len(parts) == 4 {
				rest = parts[3]
			}
			if parts[1] == "TYPE" {
				if f.typ != "" {
					return nil, fail("second TYPE")
				}
				switch rest {
				case "counter", "gauge", "histogram", "summary", "untyped":
				default:
					return nil, fail("unknown type %q", rest)
				}
				f.typ = rest
			} else {
				f.help = rest
			}
			continue
		}
		s, err := parsePromSample(text)
		if err != nil {
			return nil, fail("%v", err)
		}
		fam := s.name
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(s.name, suf); ok && fams[base] != nil && fams[base].typ == "histogram" {
				fam = base
			}
		}
		f := fams[fam]
		if f == nil {
			return nil, fail("sample without a TYPE line")
		}
		if cur != fam {
			if done[fam] {
				return nil, fail("family %s split in two", fam)
			}
			if cur != "" {
				done[cur] = true
			}
			cur = fam
		}
		key := s.name + "{" + canonicalLabels(s.labels) + "}"
		if seen[key] {
			return nil, fail("series written twice")
		}
		seen[key] = true
		f.series = append(f.series, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, name := range order {
		if f := fams[name]; f.typ == "histogram" {
			if err := checkHistogram(f); err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
		}
	}
	return fams, nil
}

func parsePromSample(text string) (promSeries, error) {
	s := promSeries{labels: map[string]string{}}
	i := strings.IndexAny(text, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value")
	}
	s.name = text[:i]
	if !metricNameRE.MatchString(s.name) {
		return s, fmt.Errorf("bad metric name %q", s.name)
	}
	rest := text[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return s, fmt.Errorf("bad label")
			}
			name := rest[:eq]
			if !labelNameRE.MatchString(name) {
				return s, fmt.Errorf("bad label name %q", name)
			}
			rest = rest[eq+2:]
			var val strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' {
					if j+1 >= len(rest) {
						return s, fmt.Errorf("dangling escape")
					}
					j++
					switch rest[j] {
					case '\\':
						val.WriteByte('\\')
					case '"':
						val.WriteByte('"')
					case 'n':
						val.WriteByte('\n')
					default:
						return s, fmt.Errorf("bad escape \\%c", rest[j])
					}
					continue
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				if c == '\n' {
					return s, fmt.Errorf("raw line break in a label value")
				}
				val.WriteByte(c)
			}
			if !closed {
				return s, fmt.Errorf("unterminated label value")
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s twice", name)
			}
			s.labels[name] = val.String()
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			} else if !strings.HasPrefix(rest, "}") {
				return s, fmt.Errorf("expected , or } after a label")
			}
		}
	}
	if !strings.HasPrefix(rest, " ") {
		return s, fmt.Errorf("expected a space before the value")
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 || len(fields) > 2 {
		return s, fmt.Errorf("expected a value and an optional timestamp")
	}
	v, err := parsePromValue(fields[0])
	if err != nil {
		return s, err
	}
	s.value = v
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return s, fmt.Errorf("bad timestamp")
		}
	}
	return s, nil
}

func parsePromValue(v string) (float64, error) {
	switch v {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(v, 64)
}

func canonicalLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, m[k])
	}
	return b.String()
}

// checkHistogram checks each series of a histogram: buckets with an le
// label, cumulative, ending in +Inf equal to _count, and a _sum.
func checkHistogram(f *promFamily) error {
	type hs struct {
		les     []float64
		counts  []float64
		sum     bool
		count   float64
		counted bool
	}
	byKey := map[string]*hs{}
	get := func(labels map[string]string) *hs {
		m := map[string]string{}
		for k, v := range labels {
			if k != "le" {
				m[k] = v
			}
		}
		k := canonicalLabels(m)
		if byKey[k] == nil {
			byKey[k] = &hs{}
		}
		return byKey[k]
	}
	for _, s := range f.series {
		h := get(s.labels)
		switch s.name {
		case f.name + "_bucket":
			le, ok := s.labels["le"]
			if !ok {
				return fmt.Errorf("bucket without le")
			}
			v, err := parsePromValue(le)
			if err != nil {
				return fmt.Errorf("bad le %q", le)
			}
			if n := len(h.les); n > 0 && (v <= h.les[n-1] || s.value < h.counts[n-1]) {
				return fmt.Errorf("buckets not ascending and cumulative at le=%s", le)
			}
			h.les = append(h.les, v)
			h.counts = append(h.counts, s.value)
		case f.name + "_sum":
			h.sum = true
		case f.name + "_count":
			h.count, h.counted = s.value, true
		default:
			return fmt.Errorf("unexpected series %s in a histogram", s.name)
		}
	}
	for k, h := range byKey {
		n := len(h.les)
		if n == 0 || !math.IsInf(h.les[n-1], 1) {
			return fmt.Errorf("{%s}: no +Inf bucket", k)
		}
		if !h.sum || !h.counted {
			return fmt.Errorf("{%s}: _sum or _count missing", k)
		}
		if h.counts[n-1] != h.count {
			return fmt.Errorf("{%s}: +Inf bucket %v != _count %v", k, h.counts[n-1], h.count)
		}
	}
	return nil
}
