package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// The dead-letter queue: the outbox items delivery gave up on, across
// customers, and the way to send them again once the channel is fixed.
//
//	GET  /v1/dead-letters?after=KEY&limit=N   a page, in key order; "next" is the cursor;
//	                                          ?fields=1 adds each send's fields (the message);
//	                                          ?journey=J&channel=C&error=TEXT filter (below)
//	POST /v1/dead-letters/requeue             {"keys": [...]} -> {"requeued": [...], "not_found": [...]}
//	                                          {"filter": {"journey": J, "channel": C, "error": TEXT}}
//	                                          or {"filter": {"all": true}}: every dead letter matching
//
// A requeued item keeps its idempotency key, so a receiver that did get an
// earlier attempt still drops the duplicate.
//
// A filter keeps the dead letters whose send's journey is J and channel is
// C (exact names) and whose last error contains TEXT (ignoring case); an
// absent criterion matches everything. The store lists dead letters by key
// only, so a filtered GET reads the queue in key order and keeps what
// matches: it reads at most deadScanBudget items a request, so a page may
// hold fewer than limit (even none) and still have a "next": follow it
// until it is empty. A requeue by filter walks the whole queue once.

const (
	defaultDeadPage = 100
	maxDeadPage     = 1000
	// maxRequeueBody bounds a requeue request: ample for maxDeadPage keys.
	maxRequeueBody = 1 << 20
	// deadScanBudget bounds the dead letters a filtered GET reads, so that
	// a filter matching nothing in a large queue answers quickly too.
	deadScanBudget = 10 * maxDeadPage
)

type (
	deadLettersDoc struct {
		DeadLetters []store.DeadLetter `json:"dead_letters"`
		// Next is the `after` of the next page; empty on the last page.
		Next string `json:"next,omitempty"`
	}
	requeueRequest struct {
		Keys   []string    `json:"keys"`
		Filter *deadFilter `json:"filter"`
	}
	// deadFilter selects dead letters; see the top of this file.
	deadFilter struct {
		Journey string `json:"journey,omitempty"`
		Channel string `json:"channel,omitempty"`
		Error   string `json:"error,omitempty"`
		// All, in a requeue, asks for every dead letter: an empty filter
		// is refused there, so that a forgotten criterion does not
		// requeue the whole queue.
		All bool `json:"all,omitempty"`
	}
	requeueDoc struct {
		Requeued []string `json:"requeued"`
		NotFound []string `json:"not_found"`
	}
)

// deadLetterQueue returns the store's queue, or answers 501 when the store
// has none.
func (s *Server) deadLetterQueue(w http.ResponseWriter) (store.DeadLetterQueue, bool) {
	q, ok := s.st.(store.DeadLetterQueue)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("this store (%T) keeps no dead-letter queue", s.st))
	}
	return q, ok
}

func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	q, ok := s.deadLetterQueue(w)
	if !ok {
		return
	}
	query := r.URL.Query()
	limit, ok := pageLimit(w, query, defaultDeadPage, maxDeadPage)
	if !ok {
		return
	}
	f := deadFilter{Journey: query.Get("journey"), Channel: query.Get("channel"), Error: query.Get("error")}
	ds, next, err := f.page(r.Context(), q, query.Get("after"), limit, deadScanBudget)
	if err != nil {
		s.storeFailed(w, "dead letters", err)
		return
	}
	if !wantFields(r) {
		// As on /v1/customers: the message itself (addresses, text) only
		// when asked for.
		for i := range ds {
			ds[i].Send.Fields = nil
		}
	}
	doc := deadLettersDoc{DeadLetters: ds, Next: next}
	if doc.DeadLetters == nil {
		doc.DeadLetters = []store.DeadLetter{}
	}
	writeJSON(w, http.StatusOK, doc)
}

// empty reports whether f has no criterion.
func (f deadFilter) empty() bool { return f.Journey == "" && f.Channel == "" && f.Error == "" }

func (f deadFilter) match(d *store.DeadLetter) bool {
	return (f.Journey == "" || d.Send.Journey == f.Journey) &&
		(f.Channel == "" || d.Send.Channel == f.Channel) &&
		(f.Error == "" || strings.Contains(strings.ToLower(d.LastError), strings.ToLower(f.Error)))
}

// page returns up to limit dead letters after the key after that match f,
// reading at most budget of them (0: no bound), and the cursor of the next
// page: empty when the queue has been read to its end.
func (f deadFilter) page(ctx context.Context, q store.DeadLetterQueue, after string, limit, budget int) ([]store.DeadLetter, string, error) {
	if f.empty() {
		// No filter: the store's page is the answer.
		ds, err := q.DeadLetters(ctx, after, limit)
		if err != nil || len(ds) < limit {
			return ds, "", err
		}
		return ds, ds[len(ds)-1].Send.Key, nil
	}
	var out []store.DeadLetter
	read := 0
	for {
		n := maxDeadPage
		if budget > 0 {
			n = min(n, budget-read)
		}
		ds, err := q.DeadLetters(ctx, after, n)
		if err != nil {
			return nil, "", err
		}
		read += len(ds)
		for i := range ds {
			if !f.match(&ds[i]) {
				continue
			}
			out = append(out, ds[i])
			if len(out) == limit {
				return out, ds[i].Send.Key, nil
			}
		}
		if len(ds) < n {
			return out, "", nil // the end of the queue
		}
		after = ds[len(ds)-1].Send.Key
		if budget > 0 && read >= budget {
			return out, after, nil
		}
	}
}

func (s *Server) handleRequeue(w http.ResponseWriter, r *http.Request) {
	q, ok := s.deadLetterQueue(w)
	if !ok {
		return
	}
	body, herr := readBody(w, r, "requeue", maxRequeueBody)
	if herr != nil {
		writeError(w, herr.status, herr.msg)
		return
	}
	var req requeueRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "requeue: the body must be a JSON object like {\"keys\": [\"KEY\", ...]} or {\"filter\": {\"error\": \"TEXT\"}}: "+err.Error())
		return
	}
	if req.Filter != nil {
		if len(req.Keys) > 0 {
			writeError(w, http.StatusBadRequest, "requeue: give keys or a filter, not both")
			return
		}
		f := *req.Filter
		if f.empty() != f.All {
			writeError(w, http.StatusBadRequest, "requeue: filter: name a journey, a channel or an error text, or set \"all\": true alone to requeue every dead letter")
			return
		}
		var keys []string
		after := ""
		for {
			ds, next, err := f.page(r.Context(), q, after, maxDeadPage, 0)
			if err != nil {
				s.storeFailed(w, "dead letters", err)
				return
			}
			for _, d := range ds {
				keys = append(keys, d.Send.Key)
			}
			if next == "" {
				break
			}
			after = next
		}
		req.Keys = keys
		if len(keys) == 0 {
			writeJSON(w, http.StatusOK, requeueDoc{Requeued: []string{}, NotFound: []string{}})
			return
		}
	} else if len(req.Keys) == 0 {
		writeError(w, http.StatusBadRequest, "requeue: keys is required: the keys of the dead letters to send again (GET /v1/dead-letters lists them), or a filter")
		return
	} else if len(req.Keys) > maxDeadPage {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("requeue: %d keys; at most %d a request", len(req.Keys), maxDeadPage))
		return
	}
	doc := requeueDoc{Requeued: []string{}, NotFound: []string{}}
	now := time.Now().UTC()
	var failed error
	for _, k := range req.Keys {
		err := q.Requeue(r.Context(), k, now)
		switch {
		case err == nil:
			doc.Requeued = append(doc.Requeued, k)
		case errors.Is(err, store.ErrNotFound):
			doc.NotFound = append(doc.NotFound, k)
		default:
			failed = fmt.Errorf("requeue of %s failed: %w", quote(k), err)
		}
		if failed != nil {
			break
		}
	}
	if len(doc.Requeued) > 0 {
		s.log.Info("dead letters requeued", "count", len(doc.Requeued), "remote", r.RemoteAddr)
		if s.opts.Requeued != nil {
			s.opts.Requeued()
		}
	}
	if failed != nil {
		// What was requeued before the failure stays requeued: say which,
		// so that a retry of the rest does not read them as not found.
		s.log.Error("admin: requeue failed", "err", failed)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, struct {
			Error string `json:"error"`
			requeueDoc
		}{"store: " + failed.Error(), doc})
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// pageLimit reads ?limit= (def when absent), or answers 400 and reports
// false when it is not a number from 1 to most.
func pageLimit(w http.ResponseWriter, query url.Values, def, most int) (int, bool) {
	v := query.Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a number from 1 to %d", v, most))
		return 0, false
	}
	return n, true
}
