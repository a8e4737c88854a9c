package server

import (
	"fmt"
	"net/http"

	"github.com/waymark-dev/waymark/runtime/store"
)

// The failed sends: send decisions that failed at run time (fate "failed":
// a field that did not evaluate, like an email address from a trait never
// set), across customers. They never reach the outbox, so the dead-letter
// queue does not show them; the worker logs each one and counts it
// (waymark_sends_failed_total), and this lists them.
//
//	GET /v1/failed-sends?after=CURSOR&limit=N   a page, oldest first (by the send's time,
//	                                            then commit order); "next" is the cursor;
//	                                            ?fields=1 adds what the fields that did
//	                                            evaluate gave
//
// A failed send is final: fix the journey or the customer's traits, and
// the next entry sends. Nothing is requeued here.

type failedSendsDoc struct {
	FailedSends []store.FailedSend `json:"failed_sends"`
	// Next is the `after` of the next page; empty on the last page.
	Next string `json:"next,omitempty"`
}

func (s *Server) handleFailedSends(w http.ResponseWriter, r *http.Request) {
	l, ok := s.st.(store.FailedSendLister)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("this store (%T) does not list failed sends", s.st))
		return
	}
	query := r.URL.Query()
	limit, ok := pageLimit(w, query, defaultDeadPage, maxDeadPage)
	if !ok {
		return
	}
	after := query.Get("after")
	if _, _, _, err := store.ParseFailedSendCursor(after); err != nil {
		writeError(w, http.StatusBadRequest, "after: "+err.Error())
		return
	}
	fs, err := l.FailedSends(r.Context(), after, limit)
	if err != nil {
		s.storeFailed(w, "failed sends", err)
		return
	}
	doc := failedSendsDoc{FailedSends: fs}
	if doc.FailedSends == nil {
		doc.FailedSends = []store.FailedSend{}
	}
	if !wantFields(r) {
		for i := range doc.FailedSends {
			doc.FailedSends[i].Send.Fields = nil
		}
	}
	if len(fs) == limit {
		doc.Next = fs[len(fs)-1].Cursor
	}
	writeJSON(w, http.StatusOK, doc)
}
