package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/waymark-dev/waymark/runtime/store"
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
	writeJSON(w, http.StatusOK, page)
}
