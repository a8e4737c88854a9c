package svgchart

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/NAME.svg, or rewrites it with -update.
// Every chart must also be well-formed XML: a browser shows nothing of an
// inline SVG with an unclosed element.
func golden(t *testing.T, name, got string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(got))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("%s: not well-formed XML: %v\n%s", name, err, got)
			}
			break
		}
	}
	path := filepath.Join("testdata", name+".svg")
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(want) != got+"\n" {
		t.Errorf("%s differs from %s (go test -update rewrites it after a deliberate change):\n%s", name, path, got)
	}
}

func TestGraph(t *testing.T) {
	tests := []struct {
		name string
		g    Graph
	}{
		{"graph_line", Graph{Title: "line", Nodes: []Node{{ID: "a", Label: "a", Sub: "3 active"}, {ID: "b", Label: "b"}, {ID: "end", Label: "end", Kind: "end"}},
			Edges: []Edge{{From: "a", To: "b", Label: "5"}, {From: "b", To: "end"}}}},
		// A branch, a loop back (drawn as an arc below) and an escaped name.
		{"graph_branch_loop", Graph{Title: "branch <&> loop", Nodes: []Node{{ID: "welcome", Label: "welcome"}, {ID: "nudge", Label: "nudge"}, {ID: "engaged", Label: "engaged & happy"}, {ID: "goal:bought", Label: "goal: bought", Kind: "goal"}},
			Edges: []Edge{{From: "welcome", To: "nudge"}, {From: "welcome", To: "engaged"}, {From: "nudge", To: "welcome", Label: "2"}, {From: "engaged", To: "goal:bought", Label: "1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, tt.g.SVG()) })
	}
}

func TestGraphLayers(t *testing.T) {
	g := Graph{Nodes: []Node{{ID: "a"}, {ID: "b"}, {ID: "c"}}, Edges: []Edge{{From: "a", To: "b"}, {From: "b", To: "c"}, {From: "c", To: "a"}, {From: "a", To: "c"}}}
	pos, back, _, _ := g.layout()
	if !(pos["a"].x < pos["b"].x && pos["b"].x < pos["c"].x) {
		t.Errorf("layers not left to right along the longest path: %v", pos)
	}
	// c→a goes back; a→c spans b's layer: both go along lanes below.
	if len(back) != 2 || !back[2] || !back[3] {
		t.Errorf("edges drawn below = %v, want c→a (2, back) and a→c (3, over a layer)", back)
	}
}

func TestBars(t *testing.T) {
	tests := []struct {
		name string
		c    Bars
	}{
		{"bars_funnel", Bars{Title: "funnel", Rows: []Row{{Label: "welcome", Parts: []Part{{"entered", 40}}, Note: "40 (100%)"}, {Label: "engaged", Parts: []Part{{"entered", 15}}}, {Label: "empty"}}}},
		{"bars_stacked", Bars{Title: "sends by fate", Rows: []Row{{Label: "welcome_mail", Parts: []Part{{"deliver", 30}, {"suppress", 10}}}, {Label: "sms", Parts: []Part{{"capped", 5}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { golden(t, tt.name, tt.c.SVG()) })
	}
}

func TestNum(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 1.21: "1.2", 3: "3", -0.01: "0", 210.56: "210.6"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestSankey(t *testing.T) {
	s := Sankey{Title: "paths", Nodes: []SankeyNode{
		{ID: "0_welcome", Label: "welcome", Column: 0},
		{ID: "1_engaged", Label: "engaged", Column: 1}, {ID: "1_exit:unsubscribed", Label: "exit: unsubscribed", Column: 1, Kind: "drop"},
		{ID: "2_goal:purchased", Label: "goal: purchased", Column: 2, Kind: "goal"}, {ID: "2_active", Label: "active", Column: 2},
	}, Links: []SankeyLink{
		{"0_welcome", "1_engaged", 30}, {"0_welcome", "1_exit:unsubscribed", 10},
		{"1_engaged", "2_goal:purchased", 20}, {"1_engaged", "2_active", 10},
	}}
	golden(t, "sankey", s.SVG())
}

// A link's thickness is its share of the fullest column: the two links
// out of welcome fill its node exactly, in the order of their targets.
func TestSankeyProportions(t *testing.T) {
	s := Sankey{Nodes: []SankeyNode{{ID: "a", Column: 0}, {ID: "b", Column: 1}, {ID: "c", Column: 1}},
		Links: []SankeyLink{{"a", "c", 10}, {"a", "b", 30}}}
	svg := s.SVG()
	// b (30) is above c (10); a's node is as tall as both links together.
	h := sankeyH - 2*pad - sankeyGap // column 1 holds both with one gap
	scale := h / 40
	for _, want := range []string{`height="` + num(40*scale) + `"`, `height="` + num(30*scale) + `"`, `height="` + num(10*scale) + `"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("sankey lacks a node with %s:\n%s", want, svg)
		}
	}
}

func TestIntervals(t *testing.T) {
	c := Intervals{Title: "lift over holdout", Rows: []Interval{
		{Label: "sms", Value: 0.05, Low: 0.01, High: 0.09, Note: "better (p 0.010)"},
		{Label: "push", Value: -0.01, Low: -0.05, High: 0.03, Note: "inconclusive"},
	}}
	svg := c.SVG()
	if !strings.Contains(svg, `class="ci sure"`) || strings.Count(svg, `class="ci"`) != 1 {
		t.Errorf("only sms's interval excludes zero: want one sure, one not:\n%s", svg)
	}
	golden(t, "intervals", svg)
}

func TestCurve(t *testing.T) {
	c := Curve{Title: "expected emotion", Labels: []string{"remind", "pay", "unknown", "thank"}, Values: []float64{-1, 0, 0, 2}, Set: []bool{true, true, false, true}, Min: -2, Max: 2, ColumnW: 100}
	svg := c.SVG()
	// The unset column breaks the line: two segments.
	if !strings.Contains(svg, `d="M50,69.5 L150,51 M350,14"`) {
		t.Errorf("the curve's path is not two segments broken at the unset stage:\n%s", svg)
	}
	golden(t, "curve", svg)
}
