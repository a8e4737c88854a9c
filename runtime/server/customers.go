package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Customers for operators:
//
//	GET /v1/customers?after=ID&limit=N&q=QUERY   customers in id order, a page at a time
//
// q selects them:
//
//	q=TEXT          ids starting with TEXT (TEXT holds no colon)
//	q=id:TEXT       ids starting with TEXT (any TEXT, colons included)
//	q=TRAIT:VALUE   customers whose trait TRAIT is VALUE: a string as it is, a number in
//	                its shortest decimal form (10, 2.5), a bool as true or false
//
// A trait search reads each customer's state: a request reads at most
// customerScanBudget customers, so a page may hold fewer than limit (even
// none) and still have a "next": follow it until it is empty.
//
// A customer whose stored state cannot be decoded (stored by an older
// version) does not fail the list: it is left out and named in
// "unreadable": [{"id", "error"}].

const (
	defaultCustomerPage = 100
	maxCustomerPage     = 1000
	customerScanBudget  = 10000
)

// parseCustomerQuery reads q (see above).
func parseCustomerQuery(q string) store.CustomerQuery {
	key, value, ok := strings.Cut(q, ":")
	switch {
	case !ok:
		return store.CustomerQuery{IDPrefix: q}
	case key == "id":
		return store.CustomerQuery{IDPrefix: value}
	}
	return store.CustomerQuery{Trait: key, Value: value}
}

func (s *Server) handleCustomers(w http.ResponseWriter, r *http.Request) {
	l, ok := s.st.(store.CustomerLister)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("this store (%T) cannot list customers", s.st))
		return
	}
	query := r.URL.Query()
	limit, ok := pageLimit(w, query, defaultCustomerPage, maxCustomerPage)
	if !ok {
		return
	}
	q := parseCustomerQuery(query.Get("q"))
	if q.Trait == "" && q.Value != "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("q: %q names no trait: use TRAIT:VALUE for a trait, or id:TEXT (or TEXT alone) for ids starting with TEXT", query.Get("q")))
		return
	}
	q.After, q.Limit, q.Scan = query.Get("after"), limit, customerScanBudget
	page, err := l.ListCustomers(r.Context(), q)
	if err != nil {
		s.storeFailed(w, "customers", err)
		return
	}
	if page.Customers == nil {
		page.Customers = []store.CustomerSummary{}
	}
	for _, u := range page.Unreadable {
		s.log.Warn("admin: customer list skipped an unreadable customer", "customer", u.ID, "err", u.Error)
	}
	writeJSON(w, http.StatusOK, page)
}

// CustomerEraser is implemented by a Worker that can erase customers in
// order with their inputs (*worker.Worker does).
type CustomerEraser interface {
	Erase(ctx context.Context, id string) (store.Erased, error)
}

// erasedDoc answers DELETE /v1/customers/{id}: what was deleted.
type erasedDoc struct {
	ID string `json:"id"`
	store.Erased
}

// handleErase erases a customer (a data-protection request): state,
// traits, history, received inputs, and sends not yet delivered, which are
// cancelled. It goes through the worker's queue, so it is ordered with the
// customer's inputs and timers; inputs after it start a new customer.
// Erasing an unknown id is not an error: "customer": false says there was
// no state (history or sends may still have been deleted).
func (s *Server) handleErase(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	we, ok := s.w.(CustomerEraser)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("this worker (%T) cannot erase customers", s.w))
		return
	}
	e, err := we.Erase(r.Context(), id)
	switch {
	case err == nil:
	case errors.Is(err, worker.ErrNoEraser):
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("this store (%T) cannot erase customers", s.st))
		return
	case errors.Is(err, worker.ErrNoCustomer):
		writeError(w, http.StatusBadRequest, "erase: the customer id is empty")
		return
	default:
		if r.Context().Err() != nil {
			return // the client left; an erase is safe to repeat
		}
		s.log.Error("admin: erase failed", "err", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "erase failed, nothing or all of it was done; retry: "+err.Error())
		return
	}
	// The id is not logged: it is what was erased.
	s.log.Info("customer erased", "history", e.History, "cancelled", e.Cancelled, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, erasedDoc{ID: id, Erased: e})
}
