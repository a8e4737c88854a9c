package server

import (
	"bufio"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Metric types of the Prometheus text exposition format.
const (
	Counter   = "counter"
	Gauge     = "gauge"
	Histogram = "histogram"
)

// Family is one metric family as /metrics writes it: a name, its help line,
// its type and its samples. The other parts of the runtime (worker,
// dispatcher, scheduler, reloader) hand their figures to the server as
// Families through Options.Metrics, so that the server needs to know nothing
// about them.
type Family struct {
	Name    string
	Help    string
	Type    string // Counter, Gauge or Histogram
	Samples []Sample
}

// Sample is one line of a family. Suffix is "" for counters and gauges, and
// "_bucket", "_sum" or "_count" for a histogram's lines.
type Sample struct {
	Suffix string
	Labels []Label
	Value  float64
}

// Label is a label pair.
type Label struct{ Name, Value string }

// CounterFamily is a family with one unlabelled counter sample.
func CounterFamily(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: Counter, Samples: []Sample{{Value: v}}}
}

// GaugeFamily is a family with one unlabelled gauge sample.
func GaugeFamily(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: Gauge, Samples: []Sample{{Value: v}}}
}

// WriteText writes families in the Prometheus text exposition format
// (version 0.0.4). Families are written in the order given; a family
// without samples is left out, since a TYPE line without samples says
// nothing.
func WriteText(w io.Writer, fams []Family) error {
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		if len(f.Samples) == 0 {
			continue
		}
		bw.WriteString("# HELP ")
		bw.WriteString(f.Name)
		bw.WriteByte(' ')
		bw.WriteString(escapeHelp(f.Help))
		bw.WriteString("\n# TYPE ")
		bw.WriteString(f.Name)
		bw.WriteByte(' ')
		bw.WriteString(f.Type)
		bw.WriteByte('\n')
		for _, s := range f.Samples {
			bw.WriteString(f.Name)
			bw.WriteString(s.Suffix)
			if len(s.Labels) > 0 {
				bw.WriteByte('{')
				for i, l := range s.Labels {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(l.Name)
					bw.WriteString(`="`)
					bw.WriteString(escapeLabel(l.Value))
					bw.WriteByte('"')
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			bw.WriteString(formatValue(s.Value))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// DurationBuckets are the upper bounds, in seconds, of the latency
// histograms: from a millisecond (a group commit on a fast disk) to ten
// seconds (a stalled disk or an overloaded worker).
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Hist is a cumulative histogram safe for concurrent use, without locks on
// the hot path: Observe is a few atomic adds.
type Hist struct {
	bounds []float64
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
	count  atomic.Uint64
}

// NewHist returns a histogram with the given ascending upper bounds.
func NewHist(bounds []float64) *Hist {
	return &Hist{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records one value.
func (h *Hist) Observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // first bound >= v: buckets are "le"
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	h.count.Add(1)
}

// Samples returns the histogram's lines with labels added to each.
func (h *Hist) Samples(labels ...Label) []Sample {
	out := make([]Sample, 0, len(h.bounds)+3)
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		le := "+Inf"
		if i < len(h.bounds) {
			le = formatValue(h.bounds[i])
		}
		out = append(out, Sample{Suffix: "_bucket", Labels: withLabel(labels, Label{"le", le}), Value: float64(cum)})
	}
	// _count is the +Inf bucket, read once above, so that the two always
	// agree even while other goroutines observe.
	out = append(out,
		Sample{Suffix: "_sum", Labels: labels, Value: math.Float64frombits(h.sum.Load())},
		Sample{Suffix: "_count", Labels: labels, Value: float64(cum)})
	return out
}

func withLabel(labels []Label, l Label) []Label {
	out := make([]Label, len(labels), len(labels)+1)
	copy(out, labels)
	return append(out, l)
}

// counterVec is a counter per combination of label values. The label values
// the server uses are bounded (routes, status codes, call types), so the
// map stays small.
type counterVec struct {
	names []string
	m     sync.Map // joined values -> *vecEntry
}

type vecEntry struct {
	values []string
	n      atomic.Uint64
}

func newCounterVec(names ...string) *counterVec { return &counterVec{names: names} }

func (c *counterVec) add(n uint64, values ...string) {
	key := strings.Join(values, "\xff")
	e, ok := c.m.Load(key)
	if !ok {
		e, _ = c.m.LoadOrStore(key, &vecEntry{values: slices.Clone(values)})
	}
	e.(*vecEntry).n.Add(n)
}

func (c *counterVec) samples() []Sample {
	var out []Sample
	c.m.Range(func(_, v any) bool {
		e := v.(*vecEntry)
		labels := make([]Label, len(c.names))
		for i, n := range c.names {
			labels[i] = Label{n, e.values[i]}
		}
		out = append(out, Sample{Labels: labels, Value: float64(e.n.Load())})
		return true
	})
	// A stable order makes the exposition diffable and testable.
	slices.SortFunc(out, func(a, b Sample) int { return compareLabels(a.Labels, b.Labels) })
	return out
}

func compareLabels(a, b []Label) int {
	for i := range min(len(a), len(b)) {
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// histVec is a histogram per value of one label.
type histVec struct {
	label  string
	bounds []float64
	m      sync.Map // value -> *Hist
}

func newHistVec(label string, bounds []float64) *histVec {
	return &histVec{label: label, bounds: bounds}
}

func (h *histVec) observe(value string, v float64) {
	x, ok := h.m.Load(value)
	if !ok {
		x, _ = h.m.LoadOrStore(value, NewHist(h.bounds))
	}
	x.(*Hist).Observe(v)
}

func (h *histVec) samples() []Sample {
	var keys []string
	h.m.Range(func(k, _ any) bool {
		keys = append(keys, k.(string))
		return true
	})
	slices.Sort(keys)
	var out []Sample
	for _, k := range keys {
		x, _ := h.m.Load(k)
		out = append(out, x.(*Hist).Samples(Label{h.label, k})...)
	}
	return out
}
