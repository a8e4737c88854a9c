package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/waymark-dev/waymark/runtime/cluster"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/server"
	"github.com/waymark-dev/waymark/runtime/store"
)

// The status page: the running program, the last reload and its
// migration, a refused edit; on a cluster, its nodes and shards; the dead
// letters and the failed sends, a page of each.
type statusData struct {
	Status      *reload.Status
	StatusError string
	// Cluster is nil when the server is not part of one (the API answers
	// 404): the section is left out.
	Cluster      *cluster.Status
	ClusterError string
	Dead         []store.DeadLetter
	DeadError    string
	DeadPage     pager
	Failed       []store.FailedSend
	FailedError  string
	FailedPage   pager
}

// listPage is how many entries a paged list of the console shows: bounded
// reads, and a page that fits a laptop's screen in a few scrolls. A
// variable for the tests of paging.
var listPage = 50

// pager is the paging of one list: the link to the next page (empty on the
// last), and to the first when this is not it; Label names the list for a
// screen reader (a page may have two).
type pager struct {
	Label, Next, First string
}

// pageLinks builds a list's links: the page's query with the list's cursor
// parameter set to next (or removed, for the first page); the other lists'
// cursors stay as they are.
func pageLinks(label, path string, q url.Values, param, next string) pager {
	p := pager{Label: label}
	link := func(cursor string) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Del(param)
		if cursor != "" {
			v.Set(param, cursor)
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if next != "" {
		p.Next = link(next)
	}
	if q.Get(param) != "" {
		p.First = link("")
	}
	return p
}

func (c *Console) handleStatus(w http.ResponseWriter, r *http.Request, s session) (string, page) {
	d := &statusData{Status: &reload.Status{}}
	p := page{Title: "Status", Nav: "status", Data: d, Flash: r.URL.Query().Get("requeued")}
	if p.Flash != "" {
		p.Flash = p.Flash + " dead letter(s) requeued: delivery tries them again."
	}
	ctx := r.Context()
	if err := c.get(ctx, "/v1/status", d.Status); err != nil {
		d.StatusError = errText(err)
	}
	var cl cluster.Status
	var ae *apiError
	switch err := c.get(ctx, "/v1/cluster", &cl); {
	case err == nil:
		d.Cluster = &cl
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		// Not a cluster: nothing to show.
	default:
		d.ClusterError = errText(err)
	}
	q := r.URL.Query()
	var dl server.DeadLettersDoc
	if err := c.get(ctx, fmt.Sprintf("/v1/dead-letters?limit=%d&after=%s", listPage, url.QueryEscape(q.Get("dead_after"))), &dl); err != nil {
		d.DeadError = errText(err)
	}
	d.Dead, d.DeadPage = dl.DeadLetters, pageLinks("Pages of dead letters", "/ui/status", q, "dead_after", dl.Next)
	var fs server.FailedSendsDoc
	if err := c.get(ctx, fmt.Sprintf("/v1/failed-sends?limit=%d&after=%s", listPage, url.QueryEscape(q.Get("failed_after"))), &fs); err != nil {
		d.FailedError = errText(err)
	}
	d.Failed, d.FailedPage = fs.FailedSends, pageLinks("Pages of failed sends", "/ui/status", q, "failed_after", fs.Next)
	return "status", p
}

// handleRequeue requeues the dead letters checked in the form (key), or
// all of them (all=1), through POST /v1/dead-letters/requeue.
func (c *Console) handleRequeue(w http.ResponseWriter, r *http.Request, s session) (string, page) {
	body := map[string]any{"keys": r.PostForm["key"]}
	if r.PostFormValue("all") == "1" {
		body = map[string]any{"filter": map[string]any{"all": true}}
	}
	var doc server.RequeueDoc
	if err := c.call(r.Context(), http.MethodPost, "/v1/dead-letters/requeue", body, &doc); err != nil {
		p := page{Title: "Status", Nav: "status", Error: "Requeue failed: " + errText(err), Data: &statusData{Status: &reload.Status{}}}
		return "status", p
	}
	http.Redirect(w, r, fmt.Sprintf("/ui/status?requeued=%d", len(doc.Requeued)), http.StatusSeeOther)
	return "", page{}
}
