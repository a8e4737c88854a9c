package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics"
	"github.com/waymark-dev/waymark/runtime/console/svgchart"
	"github.com/waymark-dev/waymark/runtime/server"
	"github.com/waymark-dev/waymark/runtime/store"
)

// indexData is the journeys page: each journey with its conversion.
type indexData struct {
	Journeys []indexRow
	Page     pager
}

type indexRow struct {
	server.JourneyDoc
	// Entered and Converted are over all the history kept (the
	// analytics API's default range); Conversion is empty without them.
	Entered, Converted int
	Conversion         string
}

// index: the journeys, with version, active instances and conversion, a
// page of listPage journeys at a time (?from=N: the first one's position):
// the conversion is one analytics read a journey shown, over all the
// history kept, so a page bounds them.
func (c *Console) handleIndex(w http.ResponseWriter, r *http.Request, s session) (string, page) {
	var doc server.JourneysDoc
	d := &indexData{}
	p := page{Title: "Journeys", Nav: "journeys", Data: d}
	if err := c.get(r.Context(), "/v1/journeys", &doc); err != nil {
		p.Error = errText(err)
		return "index", p
	}
	q := r.URL.Query()
	from, err := strconv.Atoi(q.Get("from"))
	if err != nil || from < 0 || from > len(doc.Journeys) {
		from = 0
	}
	to := min(from+listPage, len(doc.Journeys))
	next := ""
	if to < len(doc.Journeys) {
		next = strconv.Itoa(to)
	}
	d.Page = pageLinks("Pages of journeys", "/ui/", q, "from", next)
	for _, j := range doc.Journeys[from:to] {
		row := indexRow{JourneyDoc: j}
		var a analytics.Analytics
		if !j.Removed && c.get(r.Context(), "/v1/journeys/"+esc(j.Name)+"/analytics", &a) == nil {
			row.Entered, row.Converted = a.Entered, a.Converted
			row.Conversion = svgchart.Percent(float64(a.Converted), float64(a.Entered))
		}
		d.Journeys = append(d.Journeys, row)
	}
	return "index", p
}

// customersData is the customers page: a page of them, found by id prefix
// or trait (the API's q).
type customersData struct {
	Q         string
	Customers []store.CustomerSummary
	// Unreadable are the customers of the page whose stored state the API
	// could not decode: named, so they can be erased or repaired.
	Unreadable []store.UnreadableCustomer
	Page       pager
}

// handleFindCustomer: with ?id=, the customer's page; otherwise the
// customers, a page at a time (?q=, ?after=: GET /v1/customers's).
func (c *Console) handleFindCustomer(w http.ResponseWriter, r *http.Request, s session) (string, page) {
	q := r.URL.Query()
	if id := strings.TrimSpace(q.Get("id")); id != "" {
		http.Redirect(w, r, "/ui/customers/"+url.PathEscape(id), http.StatusSeeOther)
		return "", page{}
	}
	d := &customersData{Q: q.Get("q")}
	p := page{Title: "Customers", Nav: "customers", Data: d}
	var cp store.CustomerPage
	path := fmt.Sprintf("/v1/customers?limit=%d&after=%s&q=%s", listPage, url.QueryEscape(q.Get("after")), url.QueryEscape(d.Q))
	if err := c.get(r.Context(), path, &cp); err != nil {
		p.Error = errText(err)
		return "customers", p
	}
	d.Customers, d.Unreadable, d.Page = cp.Customers, cp.Unreadable, pageLinks("Pages of customers", "/ui/customers", q, "after", cp.Next)
	return "customers", p
}

// journeyData is the journey page: the graph with live counts, the
// active-by-stage bars.
type journeyData struct {
	Journey *server.JourneyDoc
	IR      *ir.Journey
	Graph   template.HTML
	Active  template.HTML
	Sends   []sendAction
	// From the analytics API; AnalyticsError says why they are missing.
	A              *analytics.Analytics
	Paths          *analytics.Paths
	AnalyticsError string
	Since, Until   string // the range asked for, as typed
	Funnel         template.HTML
	Sankey         template.HTML
	Fates          template.HTML
	Experiments    []experiment
	// The journey map: a column a stage (LaneStages, in program order);
	// the designed lanes from the stages' map blocks (MapLanes, and the
	// Emotion curve), above the measured ones (Lanes).
	LaneStages []string
	MapLanes   []lane
	Emotion    template.HTML
	Lanes      []lane
}

// experiment is one split with its interval chart.
type experiment struct {
	Split analytics.Split
	Chart template.HTML
}

// lane is one row of the measured lanes: a figure for each stage, in
// program order.
type lane struct {
	Name, Hint string
	Cells      []string
}

type sendAction struct{ Stage, Name, Channel string }

func (c *Console) handleJourney(w http.ResponseWriter, r *http.Request, s session) (string, page) {
	name := r.PathValue("name")
	d := &journeyData{}
	p := page{Title: "Journey " + name, Nav: "journeys", Data: d}
	var doc server.JourneysDoc
	var prog ir.Program
	if err := c.get(r.Context(), "/v1/journeys", &doc); err != nil {
		p.Error = errText(err)
		return "journey", p
	}
	if err := c.get(r.Context(), "/v1/program", &prog); err != nil {
		p.Error = errText(err)
		return "journey", p
	}
	for i := range doc.Journeys {
		if doc.Journeys[i].Name == name {
			d.Journey = &doc.Journeys[i]
		}
	}
	for i := range prog.Journeys {
		if prog.Journeys[i].Name == name {
			d.IR = &prog.Journeys[i]
		}
	}
	if d.Journey == nil {
		w.WriteHeader(http.StatusNotFound)
		p.Error = fmt.Sprintf("No journey %q in the running program.", name)
		return "journey", p
	}
	active := map[string]int{}
	for _, st := range d.Journey.Stages {
		active[st.Name] = st.Active
	}
	if d.IR != nil {
		for _, st := range d.IR.Stages {
			d.LaneStages = append(d.LaneStages, st.Name)
		}
		d.MapLanes, d.Emotion = mapLanesOf(d.IR)
	} else {
		for _, st := range d.Journey.Stages {
			d.LaneStages = append(d.LaneStages, st.Name)
		}
	}
	c.readAnalytics(r, name, d)
	if d.IR != nil {
		d.Graph = template.HTML(journeyGraph(d.IR, active, d.A).SVG())
		for _, st := range d.IR.Stages {
			for _, a := range st.Actions {
				if a.Kind == ir.ActionSend {
					d.Sends = append(d.Sends, sendAction{st.Name, a.Name, a.Channel})
				}
			}
		}
	}
	bars := svgchart.Bars{Title: "Active customers by stage, " + name}
	for _, st := range d.Journey.Stages {
		bars.Rows = append(bars.Rows, svgchart.Row{Label: st.Name, Parts: []svgchart.Part{{Series: "active", Value: float64(st.Active)}},
			Note: fmt.Sprintf("%d (%s)", st.Active, svgchart.Percent(float64(st.Active), float64(d.Journey.Active)))})
	}
	d.Active = template.HTML(bars.SVG())
	return "journey", p
}

// journeyGraph lays out a journey's stages and every move its transitions
// can make, with the active customers on each stage; with analytics, also
// how many entered each stage and took each edge (with its share of the
// stage's entries), and the goals and exits customers ended by.
func journeyGraph(j *ir.Journey, active map[string]int, a *analytics.Analytics) svgchart.Graph {
	g := svgchart.Graph{Title: "Stages of " + j.Name + " with the customers active in each"}
	entered := map[string]int{}
	counts := map[[2]string]int{}
	if a != nil {
		g.Title = "Stages of " + j.Name + " with the customers active in each, those who entered it, and the moves taken"
		for _, st := range a.Stages {
			entered[st.Name] = st.Entered
		}
		for _, e := range a.Edges {
			counts[[2]string{e.From, e.To}] += e.Count
		}
	}
	for _, st := range j.Stages {
		sub := fmt.Sprintf("%d active", active[st.Name])
		if a != nil {
			sub += fmt.Sprintf(" · %d in", entered[st.Name])
		}
		g.Nodes = append(g.Nodes, svgchart.Node{ID: st.Name, Label: st.Name, Sub: sub})
	}
	// One arrow a (from, to) pair, labelled with every trigger that takes
	// it, then the count.
	type pair = [2]string
	var order []pair
	labels := map[pair][]string{}
	edge := func(from, to, label string) {
		if to == "" {
			return
		}
		k := pair{from, to}
		if _, ok := labels[k]; !ok {
			order = append(order, k)
			labels[k] = nil
		}
		if label != "" {
			labels[k] = append(labels[k], label)
		}
	}
	for _, st := range j.Stages {
		t := st.Transition
		switch t.Kind {
		case ir.TransitionNone:
			edge(st.Name, ir.End, "")
		case ir.TransitionGoto:
			edge(st.Name, t.Goto, "")
		}
		for _, b := range t.Branches {
			edge(st.Name, b.Goto, "")
		}
		for _, v := range t.Variants {
			edge(st.Name, v.Goto, fmt.Sprintf("%s %d%%", v.Name, v.Weight))
		}
		for _, o := range t.Ons {
			edge(st.Name, o.Goto, "on "+o.Event)
		}
		for _, af := range t.Afters {
			edge(st.Name, af.Goto, "after "+af.Spec)
		}
		for _, at := range t.Ats {
			edge(st.Name, at.Goto, "at")
		}
	}
	// Moves the program cannot make any more (an older version's) and
	// the ends by goal or exit come from the records only.
	if a != nil {
		for _, e := range a.Edges {
			edge(e.From, e.To, "")
		}
	}
	ends := map[string]bool{}
	for _, k := range order {
		to := k[1]
		if ends[to] || slices.ContainsFunc(g.Nodes, func(n svgchart.Node) bool { return n.ID == to }) {
			continue
		}
		ends[to] = true
		kind, label := "end", to
		switch {
		case strings.HasPrefix(to, "goal:"):
			kind, label = "goal", "goal: "+strings.TrimPrefix(to, "goal:")
		case strings.HasPrefix(to, "exit:"):
			kind, label = "exit", "exit: "+strings.TrimPrefix(to, "exit:")
		case to != ir.End:
			kind = "stage" // a stage of an older version
		}
		g.Nodes = append(g.Nodes, svgchart.Node{ID: to, Label: label, Kind: kind})
	}
	for _, k := range order {
		label := strings.Join(labels[k], ", ")
		if a != nil {
			n := counts[k]
			count := fmt.Sprint(n)
			if e := entered[k[0]]; e > 0 {
				count += fmt.Sprintf(" · %.0f%%", 100*float64(n)/float64(e))
			}
			if label == "" {
				label = count
			} else {
				label += " · " + count
			}
		}
		g.Edges = append(g.Edges, svgchart.Edge{From: k[0], To: k[1], Label: label})
	}
	return g
}

// The customer page: one timeline of everything that happened to them.
type customerData struct {
	Doc      *server.CustomerDoc
	Timeline []entry
	NotFound bool
	// Older links to the page of older entries (empty: this page reaches
	// the first); Paged says this is not the latest page.
	Older string
	Paged bool
}

// entry is one line of the timeline.
type entry struct {
	At     time.Time
	Seq    int    // the order within its commit (see timeline)
	Kind   string // input, transition, send, refusal, error, emitted, response
	What   string
	Detail string
	Warn   bool // something went wrong here: shown highlighted
}

func (c *Console) handleCustomer(w http.ResponseWriter, r *http.Request, s session) (string, page) {
	id := r.PathValue("id")
	doc := &server.CustomerDoc{}
	d := &customerData{Doc: doc}
	p := page{Title: "Customer " + id, Nav: "customers", Data: d}
	// The API's paging of the history lists, passed on as it is: a page
	// of each list, and the link to the older entries.
	api := "/v1/customers/" + esc(id)
	fwd := url.Values{}
	for _, k := range []string{"limit", "history_before", "sends_before", "events_before", "received_before", "responses_before"} {
		if v := r.URL.Query().Get(k); v != "" {
			fwd.Set(k, v)
		}
	}
	if len(fwd) > 0 {
		api += "?" + fwd.Encode()
	}
	if err := c.get(r.Context(), api, doc); err != nil {
		if ae, ok := err.(*apiError); ok && ae.Status == http.StatusNotFound {
			w.WriteHeader(http.StatusNotFound)
			d.NotFound = true
		}
		p.Error = errText(err)
		return "customer", p
	}
	d.Timeline = timeline(doc)
	if n := doc.Page.Next; strings.HasPrefix(n, "/v1/customers/") {
		d.Older = "/ui/customers/" + strings.TrimPrefix(n, "/v1/customers/")
	}
	d.Paged = len(fwd) > 0
	return "customer", p
}

// timeline merges the customer's lists, oldest first. Entries at the same
// instant are one commit's: their Seq puts each input before what it
// caused and after what the inputs before it caused. Records kept before
// Seq was (0) keep the order input, transition, send, event instead.
func timeline(doc *server.CustomerDoc) []entry {
	var es []entry
	for _, in := range doc.Received {
		what := in.Kind
		if in.Name != "" {
			what += " " + in.Name
		}
		detail := ""
		if in.MessageID != "" {
			detail = "messageId " + in.MessageID
		}
		es = append(es, entry{At: in.At, Seq: in.Seq, Kind: "input", What: what, Detail: detail})
	}
	for _, inst := range doc.Instances {
		for _, t := range inst.History {
			from := t.From
			if from == "" {
				from = "(entry)"
			}
			es = append(es, entry{At: t.At, Seq: t.Seq, Kind: "transition", What: inst.Journey + ": " + from + " → " + t.To,
				Detail: "cause: " + t.Cause + "; " + t.Status, Warn: strings.HasPrefix(t.Cause, "exit") || t.Cause == "error"})
		}
	}
	for _, sd := range doc.Sends {
		detail := "fate: " + sd.Fate
		if sd.Reason != "" {
			detail += " (" + sd.Reason + ")"
		}
		if sd.Delivery != "" {
			detail += "; delivery: " + sd.Delivery
		}
		if sd.LastError != "" {
			detail += "; last error: " + sd.LastError
		}
		es = append(es, entry{At: sd.At, Seq: sd.Seq, Kind: "send", What: sd.Journey + "/" + sd.Stage + ": " + sd.Name + " via " + sd.Channel,
			Detail: detail, Warn: sd.Fate != "deliver" || sd.Delivery == "dead"})
	}
	for _, ev := range doc.Events {
		switch {
		case ev.Refusal != nil:
			es = append(es, entry{At: ev.Refusal.At, Seq: ev.Refusal.Seq, Kind: "refusal", What: ev.Refusal.Journey + ": " + ev.Refusal.Event + " refused",
				Detail: ev.Refusal.Reason + " " + ev.Refusal.Detail, Warn: true})
		case ev.Error != nil:
			es = append(es, entry{At: ev.Error.At, Seq: ev.Error.Seq, Kind: "error", What: ev.Error.Journey + "/" + ev.Error.Stage + ": " + ev.Error.Where,
				Detail: ev.Error.Message, Warn: true})
		case ev.Emitted != nil:
			es = append(es, entry{At: ev.Emitted.At, Seq: ev.Emitted.Seq, Kind: "emitted", What: ev.Emitted.Journey + "/" + ev.Emitted.Stage + " emitted " + ev.Emitted.Event})
		}
	}
	for _, rp := range doc.Responses {
		where := "in no journey"
		if rp.Journey != "" {
			where = "scored at " + rp.Journey + "/" + rp.Stage
		}
		es = append(es, entry{At: rp.At, Seq: rp.Seq, Kind: "response", What: fmt.Sprintf("%s: %g", rp.Metric, rp.Value), Detail: where})
	}
	rank := func(kind string) int {
		switch kind {
		case "input":
			return 0
		case "transition":
			return 1
		case "send":
			return 2
		}
		return 3
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		// The stores keep times to the microsecond in their columns, and
		// a send's or event's JSON has the nanoseconds: one commit's
		// records compare equal only to the microsecond.
		if c := a.At.Truncate(time.Microsecond).Compare(b.At.Truncate(time.Microsecond)); c != 0 {
			return c
		}
		if a.Seq > 0 && b.Seq > 0 {
			return a.Seq - b.Seq
		}
		return rank(a.Kind) - rank(b.Kind)
	})
	return es
}

// laneColumnW is the width of a stage's column in the journey map, in CSS
// pixels (the style sheet's .maplanes sets the same), so that the emotion
// curve's points sit under their stages.
const laneColumnW = 140

// mapLanesOf is a journey's designed experience from its stages' map
// blocks: phase, touchpoint, pain points, opportunities, and the expected
// emotion as a curve. Nothing when no stage has a map.
func mapLanesOf(j *ir.Journey) ([]lane, template.HTML) {
	phase := lane{Name: "Phase", Hint: "where the customer is in their lifecycle"}
	touch := lane{Name: "Touchpoint", Hint: "where the journey meets them"}
	pains := lane{Name: "Pain points"}
	opps := lane{Name: "Opportunities"}
	curve := svgchart.Curve{Title: "Expected emotion at each stage of " + j.Name + ", from -2 to 2", Min: -2, Max: 2, ColumnW: laneColumnW}
	designed := false
	for _, st := range j.Stages {
		curve.Labels = append(curve.Labels, st.Name)
		m := st.Map
		if m == nil {
			phase.Cells, touch.Cells, pains.Cells, opps.Cells = append(phase.Cells, ""), append(touch.Cells, ""), append(pains.Cells, ""), append(opps.Cells, "")
			curve.Values, curve.Set = append(curve.Values, 0), append(curve.Set, false)
			continue
		}
		designed = true
		phase.Cells = append(phase.Cells, m.Phase)
		touch.Cells = append(touch.Cells, m.Touchpoint)
		pains.Cells = append(pains.Cells, strings.Join(m.PainPoints, "; "))
		opps.Cells = append(opps.Cells, strings.Join(m.Opportunities, "; "))
		curve.Values, curve.Set = append(curve.Values, float64(m.Emotion)), append(curve.Set, true)
	}
	if !designed {
		return nil, ""
	}
	return []lane{phase, touch, pains, opps}, template.HTML(curve.SVG())
}
