package engine

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// send evaluates a send's fields (on stage entry, with the customer as it is
// now) and decides its fate. A field that fails makes the send "failed":
// a message with a missing address or body must not go out half made.
func (r *run) send(in *Instance, j *journey, st *stage, a *action) {
	s := Send{
		Key:     in.ID + "/" + itoa(in.Visit) + "/" + a.name,
		Journey: j.name, Instance: in.ID, Stage: st.name, Name: a.name,
		Channel: a.channel, ChannelType: a.channelType, Topic: a.topic, At: r.at,
		Entered: in.EnteredAt,
	}
	if s.Topic == "" && j.policy != nil {
		s.Topic = j.policy.topic
	}
	if s.Topic != "" && r.main.opts.UnsubscribeURL != nil {
		s.UnsubscribeURL = r.main.opts.UnsubscribeURL(r.c.ID, s.Topic)
	}
	s.Fields = make(map[string]any, len(a.fields))
	for _, f := range a.fields {
		g, err := r.value(f.expr, scope{inst: in, unsub: s.UnsubscribeURL})
		if err == nil {
			err = checkSize(g)
		}
		if err == nil && g == nil && required[a.channelType][f.name] {
			err = fmt.Errorf("%s is null", f.name)
		}
		if err != nil {
			s.Fate, s.Reason = FateFailed, "field "+f.name+": "+err.Error()
			r.errorf(j, in, &f.expr.rng, "send "+a.name+" "+f.name, err)
			s.Seq = r.nextSeq()
			r.res.Sends = append(r.res.Sends, s)
			return
		}
		s.Fields[f.name] = g
	}
	r.decide(s, j)
}

// required are the fields of each channel type without which a message is
// meaningless: null there (a trait never set) makes the send fail here,
// where the customer's history shows why, rather than in delivery.
var required = map[string]map[string]bool{
	"smtp":    {"to": true, "subject": true, "body": true},
	"webhook": {"data": true},
	"log":     {"data": true},
}

// decide applies the customer's consent and the journey's contact policy to
// a send at r.at and records the outcome; a held send goes into the
// customer's state. The order is: consent (a send to a topic the customer
// is unsubscribed from is dropped, never held: holding it would keep it
// for a customer who said no), then suppression (a suppressed send is dropped, never held), then quiet hours
// or the send window (held until they allow it), then the frequency cap
// (counted only when the send actually goes out).
func (r *run) decide(s Send, j *journey) {
	s.At, s.DueAt = r.at, time.Time{}
	if s.Topic != "" && !r.subscribed(s.Topic) {
		s.Fate, s.Reason = FateUnsubscribed, "the customer is unsubscribed from topic "+s.Topic
		s.Seq = r.nextSeq()
		r.res.Sends = append(r.res.Sends, s)
		return
	}
	p := j.policy
	if p == nil {
		r.deliver(s, nil)
		return
	}
	if by := r.suppressor(j); by != "" {
		s.Fate, s.Reason = FateSuppressed, "the customer is in journey "+by
		s.Seq = r.nextSeq()
		r.res.Sends = append(r.res.Sends, s)
		return
	}
	if p.quiet != nil || p.window != nil {
		loc := r.location()
		local := r.at.In(loc)
		var (
			due    time.Time
			reason string
		)
		switch {
		case p.quiet != nil && p.quiet.Contains(local):
			due, reason = p.quiet.NextEnd(local), "quiet hours "+p.quietSpec+" in "+loc.String()
		case p.window != nil && !p.window.Contains(local):
			due, reason = p.window.NextStart(local), "outside the send window "+p.windowSpec+" in "+loc.String()
		}
		if reason != "" {
			if !due.After(r.at) {
				// A window that never opens (or a zero-length one): holding
				// would be forever. Record it rather than keep it.
				s.Fate, s.Reason = FateDropped, reason+": the window never allows a send"
				s.Seq = r.nextSeq()
				r.res.Sends = append(r.res.Sends, s)
				return
			}
			s.Fate, s.Reason, s.DueAt = FateHeld, reason, due.UTC()
			s.Seq = r.nextSeq()
			r.res.Sends = append(r.res.Sends, s)
			r.c.Held = append(r.c.Held, s)
			return
		}
	}
	if p.cap != nil {
		window := time.Duration(p.cap.PerSeconds) * time.Second
		since := r.at.Add(-window)
		n := 0
		for _, t := range r.c.Sends[p.name] {
			if t.After(since) && !t.After(r.at) {
				n++
			}
		}
		if n >= p.cap.N {
			reason := p.capped // n is N, unless the state was written under another cap
			if n != p.cap.N {
				reason = cappedReason(p.capSpec, n, p.capPer)
			}
			s.Fate, s.Reason = FateCapped, reason
			s.Seq = r.nextSeq()
			r.res.Sends = append(r.res.Sends, s)
			return
		}
	}
	r.deliver(s, p)
}

// cappedReason is the reason of a send the cap stops, n sends counted.
func cappedReason(spec string, n int, per string) string {
	return "frequency cap " + spec + ": " + strconv.Itoa(n) + " sent in the last " + per
}

// deliver records a send that goes out, and counts it for the cap. The
// policy's send times are pruned to the cap's window here, so the state
// holds at most N times per policy.
func (r *run) deliver(s Send, p *policy) {
	s.Fate, s.Reason = FateDeliver, ""
	s.Seq = r.nextSeq()
	r.res.Sends = append(r.res.Sends, s)
	if p == nil || p.cap == nil {
		return
	}
	if r.c.Sends == nil {
		r.c.Sends = map[string][]time.Time{}
	}
	since := r.at.Add(-time.Duration(p.cap.PerSeconds) * time.Second)
	times := r.c.Sends[p.name]
	if times == nil {
		// The cap keeps at most N times: room for them (up to a few) at
		// once, rather than growing the slice send by send.
		times = make([]time.Time, 0, min(p.cap.N, 4))
	}
	times = slices.DeleteFunc(times, func(t time.Time) bool { return !t.After(since) })
	r.c.Sends[p.name] = append(times, r.at)
}

// release decides a held send again at its due time, with the program and
// the customer as they are now: the zone may have changed, a suppressing
// journey may have begun, the cap may be full.
func (r *run) release(k int) {
	s := r.c.Held[k]
	r.c.Held = slices.Delete(r.c.Held, k, k+1)
	// The send's own instance says which version decides it (a pinned
	// instance runs its own); an instance gone from the state leaves the
	// journey's current version.
	//
	// Its analytics cohort is its instance's entry time (Held keeps no
	// Entered: it is not part of the send's JSON). An instance gone from
	// the state (a new one of the journey took its slot) leaves it zero:
	// the tallies do not count the decision (runtime/store/tally).
	var j *journey
	s.Entered = time.Time{}
	if k := slices.IndexFunc(r.c.Instances, func(in *Instance) bool { return in.ID == s.Instance }); k >= 0 {
		s.Entered = r.c.Instances[k].EnteredAt
	}
	if k := slices.IndexFunc(r.c.Instances, func(in *Instance) bool { return in.ID == s.Instance }); k >= 0 && r.c.Instances[k].Journey == s.Journey {
		j = r.journeyOf(r.c.Instances[k])
	} else {
		j = r.main.byName[s.Journey]
	}
	if j == nil {
		s.Fate, s.Reason, s.At, s.DueAt = FateDropped, "journey "+s.Journey+" is no longer in the program", r.at, time.Time{}
		s.Seq = r.nextSeq()
		r.res.Sends = append(r.res.Sends, s)
		return
	}
	r.decide(s, j)
}

// subscribed reports whether the customer takes sends of topic now: their
// own word when they gave one, else the topic's default in the program
// being run; a topic the program no longer declares defaults to
// subscribed (a held send of a removed topic is not silently lost).
func (r *run) subscribed(topic string) bool {
	if st, ok := r.c.Subscriptions[topic]; ok {
		return st != ir.TopicUnsubscribed
	}
	return r.main.topicDefault[topic] != ir.TopicUnsubscribed
}

// subscription records the customer's word on a topic. A topic the
// program does not declare is recorded all the same (the shell refuses
// unknown topics at its door; a program may declare it later), but a status
// that is neither value is an error and changes nothing.
func (r *run) subscription(topic, status string) {
	if topic == "" || (status != ir.TopicSubscribed && status != ir.TopicUnsubscribed) {
		r.errorf(nil, nil, nil, "input", fmt.Errorf("a subscription input needs a topic and a status of %q or %q; got topic %q, status %q: ignored",
			ir.TopicSubscribed, ir.TopicUnsubscribed, topic, status))
		return
	}
	if r.c.Subscriptions == nil {
		r.c.Subscriptions = map[string]string{}
	}
	r.c.Subscriptions[topic] = status
}

// suppressor returns the name of an active journey that suppresses j for
// this customer, or "". A journey never suppresses itself: a policy shared
// by several journeys may list one of them.
func (r *run) suppressor(j *journey) string {
	if j.policy == nil {
		return ""
	}
	for _, name := range j.policy.suppressedBy {
		if name == j.name {
			continue
		}
		if in := r.c.Instance(name); in != nil && in.Active() {
			return name
		}
	}
	return ""
}

// location is the customer's time zone: the `timezone` trait when it names a
// zone, the default otherwise.
func (r *run) location() *time.Location {
	name, _ := r.c.Traits["timezone"].(string)
	if loc := r.e.loadZone(name); loc != nil {
		return loc
	}
	return r.e.zone
}

// loadZone loads an IANA zone through timespec.LoadZone ("" and "Local",
// whose meaning depends on the machine, are not zones), remembering bad
// names too: LoadZone looks for a suggestion on every failure, which is
// too slow to repeat on every send.
func (e *Engine) loadZone(name string) *time.Location {
	if name == "" {
		return nil
	}
	if v, ok := e.zones.Load(name); ok {
		return v.(*time.Location)
	}
	loc, err := timespec.LoadZone(name)
	if err != nil {
		// Remember only so many bad names: trait values are user data.
		if e.badZones.Add(1) <= maxBadZones {
			e.zones.Store(name, (*time.Location)(nil))
		}
		return nil
	}
	e.zones.Store(name, loc)
	return loc
}

// maxBadZones bounds the invalid zone names an engine remembers.
const maxBadZones = 1024
