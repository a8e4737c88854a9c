package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// The admin API's documents. Field names are part of the API: add fields,
// never rename or remove them.
type (
	journeysDoc struct {
		Journeys []journeyDoc `json:"journeys"`
	}
	journeyDoc struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		Version     string `json:"version"`
		// Removed is set for a journey that is no longer in the program but
		// still has active instances: they end (journey_removed) at their
		// next step.
		Removed bool `json:"removed,omitempty"`
		Active  int  `json:"active"` // active instances on every version
		// Stages lists every stage of the running version, in program order,
		// with its active instances on that version.
		Stages []stageDoc `json:"stages"`
		// OlderVersions holds active instances still recorded on another
		// version: a reload migrates them, so they are transient, unless
		// the journey pins them (Versions says which are pinned).
		OlderVersions []versionCount `json:"older_versions,omitempty"`
		// InFlight is the journey's in-flight rule: "migrate" (customers of
		// an older version move to this one) or "pin" (they finish on the
		// version they entered).
		InFlight string `json:"in_flight,omitempty"`
		// Versions lists every version with active instances, the running
		// one first, then the others by version: how many, and whether the
		// runtime keeps running that version for them (Pinned).
		Versions []versionDoc `json:"versions"`
		// RenamedFrom lists the journey's old names (top-level moved
		// blocks); instances still recorded under them count here.
		RenamedFrom []string `json:"renamed_from,omitempty"`
	}
	versionDoc struct {
		Version string `json:"version"`
		Active  int    `json:"active"`
		Current bool   `json:"current,omitempty"` // the running program's version
		Pinned  bool   `json:"pinned,omitempty"`  // an earlier version the runtime runs for its pinned instances
	}
	stageDoc struct {
		Name   string `json:"name"`
		Active int    `json:"active"`
	}
	versionCount struct {
		Version string `json:"version"`
		Stage   string `json:"stage"`
		Active  int    `json:"active"`
	}

	customerDoc struct {
		ID     string         `json:"id"`
		Traits map[string]any `json:"traits"`
		// Subscriptions is the customer's status on every topic: the
		// program's topics (their default unless the customer said
		// otherwise) and any other topic the customer gave their word on.
		Subscriptions map[string]string `json:"subscriptions"`
		NextWake      time.Time         `json:"next_wake,omitzero"`
		// Instances are the customer's journey runs, the current one of
		// each journey first, then earlier ones known only from history.
		Instances []instanceDoc `json:"instances"`
		// Held are sends waiting for quiet hours to end or a send window to
		// open.
		Held  []sendDoc `json:"held"`
		Sends []sendDoc `json:"sends"`
		// Events are the refused entries, run-time errors and emitted
		// events, when the store keeps them (store.EventHistory): the
		// answer when no transition or send explains where a customer is.
		Events []store.Event `json:"events,omitempty"`
		// Received are the inputs the customer received (events with
		// their names, trait updates), with their message ids and when
		// they were handled, when the store keeps them
		// (store.ReceivedHistory).
		Received []store.Received `json:"received,omitempty"`
		// Responses are the customer's metric responses (the answers
		// their surveys carried, with the stage each is scored at), when
		// the store reads them back (store.ResponseHistory).
		Responses []engine.Response `json:"responses,omitempty"`
		// Page says which part of the customer's history this holds: the
		// latest entries of each list, and the link to the older ones.
		Page customerPage `json:"page"`
	}
	// customerPage is the paging of GET /v1/customers/{id}: each of the
	// five history lists (transitions, over every instance; sends; events;
	// received inputs; metric responses) shows its latest `limit` entries
	// before its cursor.
	customerPage struct {
		Limit    int      `json:"limit"`
		History  listPage `json:"history"`
		Sends    listPage `json:"sends"`
		Events   listPage `json:"events"`
		Received listPage `json:"received"`
		// Responses is added after the others: a client that knows only
		// them pages them as before.
		Responses listPage `json:"responses"`
		// Next is the link to the older entries of every list that has
		// some; empty when the document holds the whole history.
		Next string `json:"next,omitempty"`
	}
	// listPage is the part of one list shown: positions [from, to) of its
	// total entries, counted from the oldest, 0.
	listPage struct {
		Total int `json:"total"`
		From  int `json:"from"`
		To    int `json:"to"`
	}
	instanceDoc struct {
		ID             string          `json:"id"`
		Journey        string          `json:"journey"`
		Version        string          `json:"version"`
		Stage          string          `json:"stage"`
		Status         string          `json:"status"`
		Cause          string          `json:"cause,omitempty"`
		EnteredAt      time.Time       `json:"entered_at,omitzero"`
		StageEnteredAt time.Time       `json:"stage_entered_at,omitzero"`
		EndedAt        time.Time       `json:"ended_at,omitzero"`
		Waits          []engine.Wait   `json:"waits,omitempty"`
		History        []transitionDoc `json:"history"`
	}
	transitionDoc struct {
		// Seq orders the transition among the records and received
		// inputs of its commit (engine.Send.Seq, store.Received.Seq): with
		// At, the customer's lists interleave in the order things
		// happened. 0 for records kept before it was.
		Seq     int       `json:"seq,omitempty"`
		From    string    `json:"from"`
		To      string    `json:"to"`
		Cause   string    `json:"cause"`
		Status  string    `json:"status"`
		Version string    `json:"version"`
		At      time.Time `json:"at"`
	}
	sendDoc struct {
		Seq         int            `json:"seq,omitempty"` // see transitionDoc.Seq
		Key         string         `json:"key"`
		Journey     string         `json:"journey"`
		Instance    string         `json:"instance"`
		Stage       string         `json:"stage"`
		Name        string         `json:"name"`
		Channel     string         `json:"channel"`
		Fate        string         `json:"fate"`
		Reason      string         `json:"reason,omitempty"`
		At          time.Time      `json:"at"`
		DueAt       time.Time      `json:"due_at,omitzero"`
		Delivery    string         `json:"delivery,omitempty"`
		Attempts    int            `json:"attempts,omitempty"`
		LastError   string         `json:"last_error,omitempty"`
		DeliveredAt time.Time      `json:"delivered_at,omitzero"`
		Fields      map[string]any `json:"fields,omitempty"`
	}
)

// handleJourneys lists the running program's journeys with the active
// instances in each stage.
func (s *Server) handleJourneys(w http.ResponseWriter, r *http.Request) {
	counts, err := s.st.StageCounts(r.Context())
	if err != nil {
		s.storeFailed(w, "stage counts", err)
		return
	}
	eng := s.w.Engine()
	prog := eng.Program()
	pinned := map[string]bool{}
	for _, v := range eng.PinnedVersions() {
		pinned[v] = true
	}
	doc := journeysDoc{Journeys: make([]journeyDoc, 0, len(prog.Journeys))}
	index := map[string]int{}
	for _, j := range prog.Journeys {
		jd := journeyDoc{Name: j.Name, Description: j.Description, Version: j.Version, Stages: make([]stageDoc, len(j.Stages)),
			InFlight: ir.InFlightMigrate, Versions: []versionDoc{{Version: j.Version, Current: true}}}
		if j.InFlight != "" {
			jd.InFlight = j.InFlight
		}
		for i, st := range j.Stages {
			jd.Stages[i].Name = st.Name
		}
		index[j.Name] = len(doc.Journeys)
		doc.Journeys = append(doc.Journeys, jd)
	}
	// Instances of a renamed journey count under its new name.
	for _, m := range prog.Moved {
		if i, ok := index[m.To]; ok {
			index[m.From] = i
			doc.Journeys[i].RenamedFrom = append(doc.Journeys[i].RenamedFrom, m.From)
		}
	}
	for _, c := range counts {
		i, ok := index[c.Journey]
		if !ok {
			i = len(doc.Journeys)
			index[c.Journey] = i
			doc.Journeys = append(doc.Journeys, journeyDoc{Name: c.Journey, Removed: true, Stages: []stageDoc{}, Versions: []versionDoc{}})
		}
		jd := &doc.Journeys[i]
		jd.Active += c.Active
		if k := slices.IndexFunc(jd.Versions, func(v versionDoc) bool { return v.Version == c.Version }); k >= 0 {
			jd.Versions[k].Active += c.Active
		} else {
			jd.Versions = append(jd.Versions, versionDoc{Version: c.Version, Active: c.Active, Pinned: !jd.Removed && pinned[c.Version]})
		}
		k := slices.IndexFunc(jd.Stages, func(sd stageDoc) bool { return sd.Name == c.Stage })
		if c.Version == jd.Version && k >= 0 {
			jd.Stages[k].Active += c.Active
			continue
		}
		jd.OlderVersions = append(jd.OlderVersions, versionCount{Version: c.Version, Stage: c.Stage, Active: c.Active})
	}
	for i := range doc.Journeys {
		vs := doc.Journeys[i].Versions
		if !doc.Journeys[i].Removed && len(vs) > 0 {
			vs = vs[1:] // the running version stays first
		}
		slices.SortFunc(vs, func(a, b versionDoc) int { return strings.Compare(a.Version, b.Version) })
	}
	writeJSON(w, http.StatusOK, doc)
}

// handleCustomer answers "why is this customer where they are": their
// traits, every journey run with its history of transitions and causes, and
// every send decision with its fate and delivery state. ?fields=1 adds each
// send's evaluated fields (the message itself).
func (s *Server) handleCustomer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	c, err := s.st.Customer(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no customer "+quote(id)+": no event or identify call has named this id")
		return
	}
	if errors.Is(err, store.ErrUnreadable) {
		// Not a 503: the state will not read better in a second.
		s.log.Error("admin: customer unreadable", "err", err)
		writeError(w, http.StatusInternalServerError, "customer "+quote(id)+": "+errors.Unwrap(err).Error()+"; retrying will not help: the state was stored by an older version that did not refuse it (erase the customer, or repair its stored state)")
		return
	}
	if err != nil {
		s.storeFailed(w, "customer", err)
		return
	}
	// The customers merged into this one keep their history under their
	// own ids: it is part of this customer's story.
	hist, what, err := s.readHistory(ctx, append([]string{id}, c.Merged...))
	if err != nil {
		s.storeFailed(w, what, err)
		return
	}
	trs, sends, events, received, responses := hist.transitions, hist.sends, hist.events, hist.received, hist.responses
	withFields := wantFields(r)
	pg, ok := customerPaging(w, r.URL.Query(), len(trs), len(sends), len(events), len(received), len(responses))
	if !ok {
		return
	}
	pg.Next = pg.next(c.ID, withFields)
	shownTrs := trs[pg.History.From:pg.History.To]
	sends = sends[pg.Sends.From:pg.Sends.To]
	events = events[pg.Events.From:pg.Events.To]
	received = received[pg.Received.From:pg.Received.To]
	responses = responses[pg.Responses.From:pg.Responses.To]

	doc := customerDoc{ID: c.ID, Traits: c.Traits, Subscriptions: subscriptionsOf(s.w.Engine().Program(), c), NextWake: c.NextWake(), Instances: []instanceDoc{}, Held: []sendDoc{}, Sends: []sendDoc{}, Events: events, Received: received, Responses: responses, Page: pg}
	if doc.Traits == nil {
		doc.Traits = map[string]any{}
	}
	byID := map[string]int{}
	for _, in := range c.Instances {
		byID[in.ID] = len(doc.Instances)
		doc.Instances = append(doc.Instances, instanceDoc{
			ID: in.ID, Journey: in.Journey, Version: in.Version, Stage: in.Stage, Status: in.Status, Cause: in.Cause,
			EnteredAt: in.EnteredAt, StageEnteredAt: in.StageEnteredAt, EndedAt: in.EndedAt, Waits: in.Waits,
			History: []transitionDoc{},
		})
	}
	shown := map[string]bool{} // instances with a transition on this page
	for _, t := range shownTrs {
		shown[t.Instance] = true
	}
	for k, t := range trs {
		i, ok := byID[t.Instance]
		if !ok {
			if !shown[t.Instance] {
				continue // an earlier run with nothing on this page
			}
			// An earlier run, replaced in the state by a newer one of the
			// same journey: rebuilt from its whole history, whatever part
			// of it this page shows.
			i = len(doc.Instances)
			byID[t.Instance] = i
			doc.Instances = append(doc.Instances, instanceDoc{ID: t.Instance, Journey: t.Journey, History: []transitionDoc{}})
		}
		in := &doc.Instances[i]
		if k >= pg.History.From && k < pg.History.To {
			in.History = append(in.History, transitionDoc{Seq: t.Seq, From: t.From, To: t.To, Cause: t.Cause, Status: t.Status, Version: t.Version, At: t.At})
		}
		if i >= len(c.Instances) { // rebuilt: the last transition says where it is
			in.Version, in.Status = t.Version, t.Status
			if t.From == "" {
				in.EnteredAt = t.At
			}
			if t.To == "end" {
				in.Stage, in.Cause, in.EndedAt = t.From, t.Cause, t.At
			} else {
				in.Stage = t.To
			}
		}
	}
	for _, h := range c.Held {
		doc.Held = append(doc.Held, sendDocOf(store.SendRecord{Send: h}, withFields))
	}
	for _, sr := range sends {
		doc.Sends = append(doc.Sends, sendDocOf(sr, withFields))
	}
	writeJSON(w, http.StatusOK, doc)
}

// The paging of a customer's document: ?limit=N (default 100, at most
// 1000) entries of each list, the latest before ?history_before=,
// ?sends_before=, ?events_before=, ?received_before= and
// ?responses_before= (positions from
// the oldest entry, 0; absent: the newest). History only grows at its
// end, so a position keeps naming the same entry; a prune in between
// shifts them down, and a page then repeats a few entries, never skips one.
const (
	defaultHistoryPage = 100
	maxHistoryPage     = 1000
)

var customerCursors = []string{"history_before", "sends_before", "events_before", "received_before", "responses_before"}

// customerPaging reads the paging parameters for lists of the given
// lengths (in the order of customerCursors), or answers 400.
func customerPaging(w http.ResponseWriter, query url.Values, lens ...int) (customerPage, bool) {
	pg := customerPage{}
	limit, ok := pageLimit(w, query, defaultHistoryPage, maxHistoryPage)
	if !ok {
		return pg, false
	}
	pg.Limit = limit
	lists := []*listPage{&pg.History, &pg.Sends, &pg.Events, &pg.Received, &pg.Responses}
	for i, name := range customerCursors {
		before := lens[i]
		if v := query.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not a position (a whole number from 0): use the page's next link", name, v))
				return pg, false
			}
			before = min(n, lens[i])
		}
		*lists[i] = listPage{Total: lens[i], From: max(0, before-limit), To: before}
	}
	return pg, true
}

// next is the link to the page before this one: each list's older entries
// (a list shown to its start gets cursor 0, and so nothing more).
func (pg customerPage) next(id string, withFields bool) string {
	q := url.Values{}
	more := false
	for i, l := range []listPage{pg.History, pg.Sends, pg.Events, pg.Received, pg.Responses} {
		more = more || l.From > 0
		q.Set(customerCursors[i], strconv.Itoa(l.From))
	}
	if !more {
		return ""
	}
	q.Set("limit", strconv.Itoa(pg.Limit))
	if withFields {
		q.Set("fields", "1")
	}
	return "/v1/customers/" + url.PathEscape(id) + "?" + q.Encode()
}

func sendDocOf(sr store.SendRecord, withFields bool) sendDoc {
	d := sendDoc{
		Seq: sr.Seq, Key: sr.Key, Journey: sr.Journey, Instance: sr.Instance, Stage: sr.Stage, Name: sr.Name, Channel: sr.Channel,
		Fate: sr.Fate, Reason: sr.Reason, At: sr.At, DueAt: sr.DueAt,
		Delivery: sr.Delivery, Attempts: sr.Attempts, LastError: sr.LastError, DeliveredAt: sr.DeliveredAt,
	}
	if withFields {
		d.Fields = sr.Fields
	}
	return d
}

// handleStatus shows the running program's version, the last reload and
// the diagnostics of a refused edit.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if s.opts.Status != nil {
		writeJSON(w, http.StatusOK, s.opts.Status())
		return
	}
	type jv struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	var js []jv
	for _, j := range s.w.Engine().Program().Journeys {
		js = append(js, jv{j.Name, j.Version})
	}
	writeJSON(w, http.StatusOK, map[string]any{"journeys": js})
}

// handleCluster answers GET /v1/cluster: the cluster's nodes and shards as
// the database has them, the same from any node.
func (s *Server) handleCluster(w http.ResponseWriter, r *http.Request) {
	if s.opts.Cluster == nil {
		writeError(w, http.StatusNotFound, "this server is not part of a cluster (run it with --store postgres://…)")
		return
	}
	v, err := s.opts.Cluster(r.Context())
	if err != nil {
		s.storeFailed(w, "the cluster", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) storeFailed(w http.ResponseWriter, what string, err error) {
	s.log.Error("admin: store read failed", "what", what, "err", err)
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, "store: reading "+what+" failed: "+err.Error())
}

func quote(s string) string { return strconv.Quote(s) }

// wantFields reports whether the request asks for sends' fields (the
// messages themselves): ?fields=1 or ?fields=true.
func wantFields(r *http.Request) bool {
	v, err := strconv.ParseBool(r.URL.Query().Get("fields"))
	return err == nil && v
}
