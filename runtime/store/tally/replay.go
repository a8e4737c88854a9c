package tally

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Replayer derives, from a journey's records alone (store.JourneyRecords,
// in commit order), the tallies the live commits that wrote them added
// (Of, and Delivery for the sends settled since): a store upgraded from a
// version without tallies backfills them with it, and the tests compare
// the live tallies with it. It rebuilds, per instance, the context the
// engine stamps on each record (entry time, stage entry time, path length,
// visited stages, split assignments) and counts the record as Of does.
//
// Records of the journey's former names may be added too (an instance
// renamed by a top-level moved block goes on under the new name); each
// tally carries its record's journey.
type Replayer struct {
	journey string
	runs    map[string]*run
	latest  map[string]entry  // "customer/journey/" -> the latest instance entered: older ones left the state
	moved   map[string]*run   // the end of a run a merge may move on, by mergeKey, until its move is seen
	held    map[string][]*run // runs that had a send held, by journey/seq: a merge may move them ended, their held sends with them
	skipped map[string]bool   // sends that went out uncounted (a newer instance had the slot), by key: rare
	ts      []store.Tally
	merged  int // len(ts) at the last Merge
}

// entry is an instance's seq and entry time.
type entry struct {
	seq int
	at  time.Time
}

// run is one instance as the records tell it so far.
type run struct {
	entered, stageAt time.Time
	stage            string
	visit            int
	visited          []string
	splits           map[string]string
	ended            bool
	id               string        // the instance's id (it changes when a merge moves the run)
	hadHeld          bool          // a send of it was held
	end              []store.Tally // what its end counted, while a merge may still undo it
}

// NewReplayer starts replaying the records of journey.
func NewReplayer(journey string) *Replayer {
	return &Replayer{journey: journey, runs: map[string]*run{}, latest: map[string]entry{}, moved: map[string]*run{}, held: map[string][]*run{}, skipped: map[string]bool{}}
}

// Add counts one record. Records must come in commit order.
func (p *Replayer) Add(r store.JourneyRecord) {
	switch {
	case r.Transition != nil:
		p.transition(*r.Transition)
	case r.Send != nil:
		s := r.Send.Send
		in := p.runs[s.Instance]
		if in == nil || p.superseded(s.Instance, s.At) {
			// The engine decides a held send of an instance that left the
			// state with no cohort (engine.Send.Entered): Of skips it.
			if in != nil && s.Fate == engine.FateDeliver {
				p.skipped[s.Key] = true
			}
			return
		}
		if s.Fate == engine.FateHeld && !in.hadHeld {
			in.hadHeld = true
			k := seqKey(s.Instance)
			p.held[k] = append(p.held[k], in)
		}
		s.Entered = in.entered
		p.ts = OfSend(p.ts, &s)
		if s.Fate == engine.FateDeliver && r.Send.Delivery != "" && r.Send.Delivery != store.DeliveryPending {
			p.ts = append(p.ts, Delivery(s.Journey, s.Name, Cohort(in.entered), r.Send.Delivery)...)
		}
	case r.Response != nil:
		resp := *r.Response
		if resp.Instance != "" {
			in := p.runs[resp.Instance]
			if in == nil {
				return
			}
			resp.Entered = in.entered
		}
		p.ts = OfResponse(p.ts, &resp)
	}
	if len(p.ts) > 2*p.merged+4096 {
		p.ts = Merge(p.ts)
		p.merged = len(p.ts)
	}
}

func (p *Replayer) transition(t engine.Transition) {
	if t.From == "" {
		in := &run{entered: t.At, id: t.Instance}
		p.runs[t.Instance] = in
		p.enter(t.Instance, t.At)
		t.Entered, t.Since, t.Visit, t.First, t.Visited, t.Splits = t.At, time.Time{}, 0, false, nil, nil
		if t.To != ir.End {
			t.Visit, t.First = 1, true
		}
		p.ts = OfTransition(p.ts, &t)
		p.arrive(in, &t)
		return
	}
	in := p.runs[t.Instance]
	if in == nil {
		if IsNote(&t) && t.Cause == engine.CauseMerged {
			p.mergedOn(&t)
		}
		return // an instance whose entry is not in the records
	}
	if in.ended || IsNote(&t) {
		return
	}
	t.Entered, t.Since, t.Visit, t.First, t.Visited, t.Splits = in.entered, in.stageAt, in.visit, false, nil, nil
	if t.To != ir.End && t.Cause != causeMoved {
		t.Visit++
	}
	variant, isSplit := strings.CutPrefix(t.Cause, "split:")
	_, assigned := in.splits[t.From]
	newSplit := isSplit && !assigned
	if t.To == ir.End {
		t.Visited, t.Splits = in.visited, in.splits
	} else {
		t.First = !slices.Contains(in.visited, t.To)
		if newSplit {
			t.Splits = map[string]string{t.From: variant}
		}
	}
	n := len(p.ts)
	p.ts = OfTransition(p.ts, &t)
	if newSplit {
		if in.splits == nil {
			in.splits = map[string]string{}
		}
		in.splits[t.From] = variant
	}
	if t.To == ir.End && t.Cause == engine.CauseMerged && t.Status == engine.StatusExited {
		// A merge ends the run under this name; if the merge moved it to
		// the customer merged into, the move follows (mergedOn) and the
		// run goes on there, uncounted end and all.
		in.end = slices.Clone(p.ts[n:])
		p.moved[mergeKey(t.Instance, t.At)] = in
	}
	p.arrive(in, &t)
}

// arrive moves the run to t.To (a stage or the end).
func (p *Replayer) arrive(in *run, t *engine.Transition) {
	if t.To == ir.End {
		in.ended = true
		return
	}
	if t.First {
		in.visited = append(in.visited, t.To)
	}
	in.stage = t.To
	if t.Cause != causeMoved {
		in.stageAt = t.At
		in.visit = t.Visit
	}
}

// mergedOn follows a run a merge moved to another customer: the end
// recorded under its old name is undone, and the run goes on under t's.
func (p *Replayer) mergedOn(t *engine.Transition) {
	k := mergeKey(t.Instance, t.At)
	in := p.moved[k]
	if in == nil {
		p.movedEnded(t)
		return
	}
	delete(p.moved, k)
	// The old name is free again: the emptied customer may enter anew,
	// or be merged into, under the same ids.
	delete(p.runs, in.id)
	for _, x := range in.end {
		x.N, x.Sum = -x.N, -x.Sum
		p.ts = append(p.ts, x)
	}
	in.end, in.ended = nil, t.Status != engine.StatusActive
	p.runs[t.Instance], in.id = in, t.Instance
	p.enter(t.Instance, in.entered)
}

// enter notes that an instance entered at at (or came by a merge): the
// customer's state keeps it, not the older ones of the journey.
func (p *Replayer) enter(id string, at time.Time) {
	if prefix, seq, ok := splitID(id); ok && seq > p.latest[prefix].seq {
		p.latest[prefix] = entry{seq, at}
	}
}

// movedEnded follows a run a merge moved that had already ended: only its
// held sends, decided later under its new name, still count. Its old name
// recorded nothing at the merge, so it is the latest ended run of the same
// journey and seq, in the same stage, that had a send held; a run without
// one has nothing left to count.
func (p *Replayer) movedEnded(t *engine.Transition) {
	if t.Status == engine.StatusActive {
		return
	}
	k := seqKey(t.Instance)
	runs := p.held[k]
	for i := len(runs) - 1; i >= 0; i-- {
		in := runs[i]
		if !in.ended || in.stage != t.From || p.runs[in.id] != in {
			continue
		}
		p.held[k] = append(runs[:i:i], runs[i+1:]...)
		delete(p.runs, in.id)
		p.runs[t.Instance], in.id = in, t.Instance
		return
	}
}

// seqKey is the part of an instance id a merge keeps: journey/seq.
func seqKey(instance string) string {
	prefix, seq, _ := splitID(instance)
	if k := strings.LastIndexByte(strings.TrimSuffix(prefix, "/"), '/'); k >= 0 {
		prefix = prefix[k+1:]
	}
	return prefix + strconv.Itoa(seq)
}

// mergeKey matches the end of a run under its old name with its move to
// a new one: a merge keeps the journey and seq of the id (the last two
// parts, customer/journey/seq) and records both at the same time.
func mergeKey(instance string, at time.Time) string {
	return seqKey(instance) + "@" + strconv.FormatInt(at.UnixNano(), 10)
}

// splitID splits an instance id, customer/journey/seq, into
// "customer/journey/" and seq.
func splitID(id string) (string, int, bool) {
	k := strings.LastIndexByte(id, '/')
	if k < 0 {
		return "", 0, false
	}
	seq, err := strconv.Atoi(id[k+1:])
	if err != nil {
		return "", 0, false
	}
	return id[:k+1], seq, true
}

// superseded reports whether a newer instance of the same customer and
// journey had entered before at: the customer's state no longer held this
// one then. (A store writes a result's transitions before its sends: an
// entry at the same time as the send came after it, as the engine drains
// due timers before it handles an event, and drops held sends when an
// instance ends, before another can enter.)
func (p *Replayer) superseded(id string, at time.Time) bool {
	prefix, seq, ok := splitID(id)
	if !ok {
		return false
	}
	l := p.latest[prefix]
	return l.seq > seq && l.at.Before(at)
}

// Tallies returns the tallies of the records added so far, merged (see
// Merge).
func (p *Replayer) Tallies() []store.Tally {
	p.ts = Merge(p.ts)
	p.merged = len(p.ts)
	return slices.Clone(p.ts)
}

// Cohort returns the cohort hour of an instance whose entry was added.
func (p *Replayer) Cohort(instance string) (int64, bool) {
	in := p.runs[instance]
	if in == nil {
		return 0, false
	}
	return Cohort(in.entered), true
}

// SendCohort returns the cohort in which a send of instance that went
// out, by key, was counted pending (OfSend): where settling its outbox
// item moves its delivery. ok is false for a send that was not counted
// (its instance's entry not added, or a newer instance had taken its
// slot when it was decided: Of counts such a send nowhere), whose
// settlement must move nothing, though its instance's Cohort may be
// known.
func (p *Replayer) SendCohort(key, instance string) (int64, bool) {
	if p.skipped[key] {
		return 0, false
	}
	return p.Cohort(instance)
}

// Progress returns what an instance's state holds for the tallies
// (engine.Instance Visited and Splits), as its records tell it: a store's
// upgrade fills them in for the instances in flight. ok is false for an
// instance whose entry was not added.
func (p *Replayer) Progress(instance string) (visited []string, splits map[string]string, ok bool) {
	in := p.runs[instance]
	if in == nil {
		return nil, nil, false
	}
	var sp map[string]string
	if len(in.splits) > 0 {
		sp = make(map[string]string, len(in.splits))
		for k, v := range in.splits {
			sp[k] = v
		}
	}
	return slices.Clone(in.visited), sp, true
}
