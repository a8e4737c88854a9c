package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/waymark-dev/waymark/runtime/analytics"
	"github.com/waymark-dev/waymark/runtime/console/svgchart"
)

// pathSteps is how deep the journey page's Sankey goes.
const pathSteps = 5

// readAnalytics fills the journey page's analytics sections from GET
// /v1/journeys/{name}/analytics and /paths over the range the page was
// asked for (?since=&until=, passed on as they are: the API checks them).
func (c *Console) readAnalytics(r *http.Request, name string, d *journeyData) {
	q := url.Values{}
	d.Since, d.Until = r.URL.Query().Get("since"), r.URL.Query().Get("until")
	if d.Since != "" {
		q.Set("since", d.Since)
	}
	if d.Until != "" {
		q.Set("until", d.Until)
	}
	a := &analytics.Analytics{}
	if err := c.get(r.Context(), "/v1/journeys/"+esc(name)+"/analytics?"+q.Encode(), a); err != nil {
		d.AnalyticsError = errText(err)
		return
	}
	d.A = a
	q.Set("steps", fmt.Sprint(pathSteps))
	p := &analytics.Paths{}
	if err := c.get(r.Context(), "/v1/journeys/"+esc(name)+"/paths?"+q.Encode(), p); err != nil {
		d.AnalyticsError = errText(err)
	} else {
		d.Paths = p
		d.Sankey = template.HTML(sankeyOf(p).SVG())
	}
	d.Funnel = template.HTML(funnelOf(a).SVG())
	d.Fates = template.HTML(fatesOf(a).SVG())
	for _, sp := range a.Splits {
		d.Experiments = append(d.Experiments, experiment{Split: sp, Chart: template.HTML(intervalsOf(sp).SVG())})
	}
	d.Lanes = lanesOf(a, d.LaneStages)
}

// funnelOf is the entries into each stage (a customer who loops back
// enters again), as a share of the customers who entered the journey, then
// the goals' conversions.
func funnelOf(a *analytics.Analytics) svgchart.Bars {
	b := svgchart.Bars{Title: "Entries into each stage of " + a.Journey + " and conversions"}
	b.Rows = append(b.Rows, svgchart.Row{Label: "entered the journey", Parts: []svgchart.Part{{Series: "entered", Value: float64(a.Entered)}}, Note: fmt.Sprint(a.Entered)})
	for _, st := range a.Stages {
		b.Rows = append(b.Rows, svgchart.Row{Label: st.Name, Parts: []svgchart.Part{{Series: "entered", Value: float64(st.Entered)}},
			Note: fmt.Sprintf("%d (%s)", st.Entered, svgchart.Percent(float64(st.Entered), float64(a.Entered)))})
	}
	for _, g := range a.Goals {
		b.Rows = append(b.Rows, svgchart.Row{Label: "goal: " + g.Name, Parts: []svgchart.Part{{Series: "entered", Value: float64(g.Conversions)}},
			Note: fmt.Sprintf("%d (%s)", g.Conversions, svgchart.Percent(float64(g.Conversions), float64(a.Entered)))})
	}
	return b
}

// fatesOf is each send's decisions stacked by fate, in name order.
func fatesOf(a *analytics.Analytics) svgchart.Bars {
	b := svgchart.Bars{Title: "Sends of " + a.Journey + " by fate"}
	for _, s := range a.Sends {
		row := svgchart.Row{Label: s.Name}
		total := 0
		for _, f := range sortedKeys(s.Fates) {
			row.Parts = append(row.Parts, svgchart.Part{Series: f, Value: float64(s.Fates[f])})
			total += s.Fates[f]
		}
		row.Note = fmt.Sprint(total)
		if n := s.Delivery["delivered"]; n > 0 || len(s.Delivery) > 0 {
			row.Note += fmt.Sprintf(", %d delivered", n)
		}
		b.Rows = append(b.Rows, row)
	}
	return b
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// sankeyOf draws the paths document: columns by step, drop-offs marked.
func sankeyOf(p *analytics.Paths) svgchart.Sankey {
	s := svgchart.Sankey{Title: fmt.Sprintf("Paths through %s, the first %d steps", p.Journey, p.Steps)}
	for _, n := range p.Nodes {
		kind := ""
		switch {
		case n.DropOff:
			kind = "drop"
		case strings.HasPrefix(n.Stage, "goal:"):
			kind = "goal"
		}
		s.Nodes = append(s.Nodes, svgchart.SankeyNode{ID: n.Name, Label: n.Stage, Column: n.Step, Kind: kind})
	}
	for _, l := range p.Links {
		s.Links = append(s.Links, svgchart.SankeyLink{Source: l.Source, Target: l.Target, Value: float64(l.Value)})
	}
	return s
}

// intervalsOf is a split's variants' lifts over its baseline.
func intervalsOf(sp analytics.Split) svgchart.Intervals {
	c := svgchart.Intervals{Title: fmt.Sprintf("Conversion lift of each variant of %s over %s, with its 95%% interval", sp.Stage, sp.Baseline)}
	for _, v := range sp.Variants {
		if v.Name == sp.Baseline {
			continue
		}
		c.Rows = append(c.Rows, svgchart.Interval{Label: v.Name, Value: v.Lift, Low: v.CILow, High: v.CIHigh, Note: fmt.Sprintf("%s (p %.3f)", v.Verdict, v.PValue)})
	}
	return c
}

// lanesOf is the measured lanes: for each stage (in the order of
// stages, the page's columns), reach, drop-off, time in stage and each CX
// metric's score from the responses attributed to it.
func lanesOf(a *analytics.Analytics, stages []string) []lane {
	by := map[string]analytics.Stage{}
	for _, st := range a.Stages {
		by[st.Name] = st
	}
	reach := lane{Name: "Reach", Hint: "customers who entered the stage"}
	drop := lane{Name: "Drop-off", Hint: "share of those who entered that ended by an exit or without the goal"}
	dwell := lane{Name: "Time in stage", Hint: "median (90th percentile) of the entries that left"}
	for _, name := range stages {
		st, ok := by[name]
		if !ok {
			reach.Cells, drop.Cells, dwell.Cells = append(reach.Cells, "–"), append(drop.Cells, "–"), append(dwell.Cells, "–")
			continue
		}
		reach.Cells = append(reach.Cells, fmt.Sprintf("%d (%s)", st.Entered, svgchart.Percent(float64(st.Entered), float64(a.Entered))))
		drop.Cells = append(drop.Cells, fmt.Sprintf("%s (%d)", svgchart.Percent(st.Leakage, 1), st.Leaked))
		dwell.Cells = append(dwell.Cells, duration(st.MedianSeconds)+" ("+duration(st.P90Seconds)+")")
	}
	lanes := []lane{reach, drop, dwell}
	for _, m := range a.Metrics {
		l := lane{Name: strings.ToUpper(m.Kind) + " " + m.Name, Hint: fmt.Sprintf("%s over %d responses: %.1f overall", m.Kind, m.Responses, m.Score)}
		by := map[string]analytics.StageMetric{}
		for _, s := range m.ByStage {
			by[s.Stage] = s
		}
		for _, n := range stages {
			if s, ok := by[n]; ok && s.Responses > 0 {
				l.Cells = append(l.Cells, fmt.Sprintf("%.1f (n %d)", s.Score, s.Responses))
			} else {
				l.Cells = append(l.Cells, "–")
			}
		}
		lanes = append(lanes, l)
	}
	return lanes
}

// duration writes seconds the way people read a wait.
func duration(sec float64) string {
	switch {
	case sec <= 0:
		return "0s"
	case sec < 120:
		return fmt.Sprintf("%.0fs", sec)
	case sec < 2*3600:
		return fmt.Sprintf("%.0fm", sec/60)
	case sec < 2*86400:
		return fmt.Sprintf("%.1fh", sec/3600)
	}
	return fmt.Sprintf("%.1fd", sec/86400)
}
