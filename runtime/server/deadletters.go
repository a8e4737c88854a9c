package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// The dead-letter queue: the outbox items delivery gave up on, across
// customers, and the way to send them again once the channel is fixed.
//
//	GET  /v1/dead-letters?after=KEY&limit=N   a page, in key order; "next" is the cursor;
//	                                          ?fields=1 adds each send's fields (the message)
//	POST /v1/dead-letters/requeue             {"keys": [...]} -> {"requeued": [...], "not_found": [...]}
//
// A requeued item keeps its idempotency key, so a receiver that did get an
// earlier attempt still drops the duplicate.

const (
	defaultDeadPage = 100
	maxDeadPage     = 1000
	// maxRequeueBody bounds a requeue request: ample for maxDeadPage keys.
	maxRequeueBody = 1 << 20
)

type (
	deadLettersDoc struct {
		DeadLetters []store.DeadLetter `json:"dead_letters"`
		// Next is the `after` of the next page; empty on the last page.
		Next string `json:"next,omitempty"`
	}
	requeueRequest struct {
		Keys []string `json:"keys"`
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
	limit := defaultDeadPage
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeadPage {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a number from 1 to %d", v, maxDeadPage))
			return
		}
		limit = n
	}
	ds, err := q.DeadLetters(r.Context(), r.URL.Query().Get("after"), limit)
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
	doc := deadLettersDoc{DeadLetters: ds}
	if doc.DeadLetters == nil {
		doc.DeadLetters = []store.DeadLetter{}
	}
	if len(ds) == limit {
		doc.Next = ds[len(ds)-1].Send.Key
	}
	writeJSON(w, http.StatusOK, doc)
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
		writeError(w, http.StatusBadRequest, "requeue: the body must be a JSON object like {\"keys\": [\"KEY\", ...]}: "+err.Error())
		return
	}
	if len(req.Keys) == 0 {
		writeError(w, http.StatusBadRequest, "requeue: keys is required: the keys of the dead letters to send again (GET /v1/dead-letters lists them)")
		return
	}
	if len(req.Keys) > maxDeadPage {
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
