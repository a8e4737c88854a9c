package engine

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// CauseMerged is the cause of the transitions Merge records.
const CauseMerged = "merged"

// Merge folds the customer from (an anonymous visitor) into into (the
// known customer the visitor turned out to be), at now, and empties from
// (its ID stays). It is pure, like Step: the shell commits both states
// with their Results in one transaction: res, into's (the moves), and
// fromRes, from's (what ended or was dropped, under from's names). Each
// Result's NextWake is its customer's. The rules, where the two disagree:
//
//   - Traits: into's win; from's fill in the traits into does not have.
//   - Instances, journey by journey (a customer keeps one per journey):
//     when into has none of the journey, from's instance moves to into,
//     active or ended, renamed into.ID/journey/seq (seq kept) with its held
//     sends re-keyed to the new name; an active one's move is recorded
//     twice: ended ("exited", cause "merged") under the old name, in
//     fromRes, and going on (from its stage to the same stage, cause
//     "merged") under the new one, in res.
//     When into has one, active or ended, into's stays: from's, if active,
//     ends "exited" with cause "merged" (recorded under its old name), and
//     its held sends are dropped (fate "dropped", reason "merged"); if it
//     had ended, it is forgotten (its history stays under from's id).
//   - Subscriptions: from's fill in the topics into has no word on, and
//     from's "unsubscribed" wins over into's "subscribed": a no given by
//     either is kept, never lost to a merge.
//   - Frequency-cap counters: the sends of both count, in time order.
//   - Message ids seen: both, into's first.
//   - Merged: into records from's id (and the ids merged into from).
//
// Sends already decided for from (in the outbox or delivered) stay under
// their keys: the shell keeps them with from's history.
func Merge(into, from *Customer, now time.Time) (res, fromRes Result) {
	seq := 0
	next := func() int { seq++; return seq }
	now = now.UTC()

	for k, v := range from.Traits {
		if _, ok := into.Traits[k]; ok {
			continue
		}
		if into.Traits == nil {
			into.Traits = make(map[string]any, len(from.Traits))
		}
		into.Traits[k] = v
	}

	for topic, st := range from.Subscriptions {
		if cur, ok := into.Subscriptions[topic]; ok && cur == ir.TopicUnsubscribed {
			continue
		}
		if into.Subscriptions == nil {
			into.Subscriptions = make(map[string]string, len(from.Subscriptions))
		}
		if _, ok := into.Subscriptions[topic]; !ok || st == ir.TopicUnsubscribed {
			into.Subscriptions[topic] = st
		}
	}

	has := make(map[string]bool, len(into.Instances))
	for _, in := range into.Instances {
		if in != nil {
			has[in.Journey] = true
		}
	}
	renamed := map[string]string{} // from's instance id -> its new id
	for _, in := range from.Instances {
		if in == nil {
			continue
		}
		if has[in.Journey] {
			if in.Active() {
				t := moveOf(in, ir.End, CauseMerged, StatusExited, now)
				t.Seq = next()
				fromRes.Transitions = append(fromRes.Transitions, t)
			}
			continue
		}
		old := in.ID
		if in.Active() {
			// The run goes on under its new name: under its old one, it
			// ends here. The analytics follow the run, not the name: this
			// end has no context (zero Entered), so the tallies do not
			// count it, nor the note of the move below (from a stage to
			// itself); the run's later moves count as the same instance's.
			fromRes.Transitions = append(fromRes.Transitions, Transition{Seq: next(), Instance: old, Journey: in.Journey, Version: in.Version,
				From: in.Stage, To: "end", Cause: CauseMerged, Status: StatusExited, At: now})
		}
		in.ID = into.ID + "/" + in.Journey + "/" + strconv.Itoa(in.Seq)
		renamed[old] = in.ID
		has[in.Journey] = true
		into.Instances = append(into.Instances, in)
		t := moveOf(in, in.Stage, CauseMerged, in.Status, now)
		t.Seq = next()
		res.Transitions = append(res.Transitions, t)
	}
	entered := make(map[string]time.Time, len(from.Instances))
	for _, in := range from.Instances {
		if in != nil {
			entered[in.ID] = in.EnteredAt
		}
	}
	for _, s := range from.Held {
		if id, ok := renamed[s.Instance]; ok {
			s.Key = id + strings.TrimPrefix(s.Key, s.Instance)
			s.Instance = id
			into.Held = append(into.Held, s)
			continue
		}
		s.Seq, s.Fate, s.Reason, s.At, s.DueAt = next(), FateDropped, CauseMerged, now, time.Time{}
		s.Entered = entered[s.Instance] // zero when a newer instance took its slot, as in release
		fromRes.Sends = append(fromRes.Sends, s)
	}

	for policy, times := range from.Sends {
		if into.Sends == nil {
			into.Sends = make(map[string][]time.Time, len(from.Sends))
		}
		all := append(slices.Clone(into.Sends[policy]), times...)
		slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
		into.Sends[policy] = all
	}
	into.Seen = append(into.Seen, from.Seen...)
	into.Merged = append(append(into.Merged, from.ID), from.Merged...)

	*from = *from.Emptied()
	res.NextWake = into.NextWake()
	return res, fromRes
}

// Emptied is the state a merge leaves a customer in: its id, and the last
// instance Seq its runs used per journey (Customer.Seqs), so that its next
// run of a journey does not reuse an id, and send keys, of the runs the
// merge took away.
func (c *Customer) Emptied() *Customer {
	seqs := maps.Clone(c.Seqs)
	for _, in := range c.Instances {
		if in == nil || in.Seq <= seqs[in.Journey] {
			continue
		}
		if seqs == nil {
			seqs = map[string]int{}
		}
		seqs[in.Journey] = in.Seq
	}
	return &Customer{ID: c.ID, Seqs: seqs}
}
