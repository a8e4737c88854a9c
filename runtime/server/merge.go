package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Merging customers: Segment's alias ({"userId", "previousId"}) and an
// identify that names both an anonymousId and a userId fold the anonymous
// customer into the known one (engine.Merge says how conflicts go), through
// the worker's queue so that it stays in order with both customers' other
// inputs (worker.Merge). In a batch, the calls before a merge are committed
// before it and the calls after it after it.

// CustomerMerger is implemented by a Worker that can merge customers
// (*worker.Worker does).
type CustomerMerger interface {
	Merge(ctx context.Context, from, into string) (bool, error)
}

// MessageMerger is implemented by a Worker that files a merge under the
// messageId of the call that asked for it, so that the call again is the
// same merge (a cluster's ingest, whose merges are applied after the 200).
type MessageMerger interface {
	MergeMessage(ctx context.Context, from, into, messageID string) (bool, error)
}

// merge merges from into into, or, when the worker cannot merge, counts the
// merge as ignored (a pipeline's alias calls must not be refused).
func (s *Server) merge(ctx context.Context, from, into, messageID string) error {
	var merged bool
	var err error
	if mm, ok := s.w.(MessageMerger); ok {
		merged, err = mm.MergeMessage(ctx, from, into, messageID)
	} else if m, ok := s.w.(CustomerMerger); ok {
		merged, err = m.Merge(ctx, from, into)
	} else {
		s.m.ignored.WithLabelValues(typeAlias).Inc()
		return nil
	}
	if err == nil && merged {
		s.m.events.WithLabelValues("merge").Inc()
	}
	return err
}

// handleCall serves a single-call endpoint of the given type.
func (s *Server) handleCall(kind string) func(http.ResponseWriter, *http.Request, map[string]json.RawMessage) {
	return func(w http.ResponseWriter, r *http.Request, obj map[string]json.RawMessage) {
		s.handleOne(w, r, obj, kind)
	}
}

// history is what the store keeps about one or more customers.
type history struct {
	transitions []engine.Transition
	sends       []store.SendRecord
	events      []store.Event
	received    []store.Received
	responses   []engine.Response
}

// readHistory reads the history of ids, each id's after the previous one's
// (received inputs in time order); on failure it says what it was reading.
func (s *Server) readHistory(ctx context.Context, ids []string) (h history, what string, err error) {
	eh, _ := s.st.(store.EventHistory)
	rh, _ := s.st.(store.ReceivedHistory)
	mh, _ := s.st.(store.ResponseHistory)
	for _, id := range ids {
		trs, err := s.st.Transitions(ctx, id)
		if err != nil {
			return h, "transitions", err
		}
		sends, err := s.st.Sends(ctx, id)
		if err != nil {
			return h, "sends", err
		}
		h.transitions, h.sends = append(h.transitions, trs...), append(h.sends, sends...)
		if eh != nil {
			evs, err := eh.Events(ctx, id)
			if err != nil {
				return h, "events", err
			}
			h.events = append(h.events, evs...)
		}
		if rh != nil {
			rs, err := rh.Received(ctx, id)
			if err != nil {
				return h, "received inputs", err
			}
			h.received = append(h.received, rs...)
		}
		if mh != nil {
			ms, err := mh.Responses(ctx, id)
			if err != nil {
				return h, "metric responses", err
			}
			h.responses = append(h.responses, ms...)
		}
	}
	slices.SortStableFunc(h.received, func(a, b store.Received) int { return a.At.Compare(b.At) })
	return h, "", nil
}
