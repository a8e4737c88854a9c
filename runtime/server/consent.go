package server

// Consent: POST /v1/subscriptions (the customer's word on a topic, like any
// other ingest call) and the unsubscribe link, /u/TOKEN: a one-click POST
// (RFC 8058) and a preference page. Every change goes to the worker as a
// subscription input, so it is handled in order with the customer's other
// inputs and the engine decides the next send on it.

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

const typeSubscription = "subscription"

// handleSubscription takes {"userId", "topic", "status", "messageId"?}.
func (s *Server) handleSubscription(w http.ResponseWriter, r *http.Request, obj map[string]json.RawMessage) {
	const where = "subscriptions"
	user, _, herr := idField(obj, "userId", where)
	if herr == nil && user == "" {
		herr = badRequest("%s: userId is required", where)
	}
	if herr == nil && len(user) > maxIDBytes {
		herr = badRequest("%s: userId must be at most %d bytes", where, maxIDBytes)
	}
	var topic, status, msgID string
	if herr == nil {
		topic, _, herr = stringField(obj, "topic", where)
	}
	if herr == nil && s.w.Engine().Program().Topic(topic) == nil {
		herr = badRequest("%s: topic %q is not declared by the running program; topics: %v", where, topic, topicNames(s.w.Engine().Program()))
	}
	if herr == nil {
		status, _, herr = stringField(obj, "status", where)
	}
	if herr == nil && status != ir.TopicSubscribed && status != ir.TopicUnsubscribed {
		herr = badRequest("%s: status must be \"subscribed\" or \"unsubscribed\", not %q", where, status)
	}
	if herr == nil {
		msgID, _, herr = idField(obj, "messageId", where)
	}
	if herr == nil && len(msgID) > maxIDBytes {
		herr = badRequest("%s: messageId must be at most %d bytes", where, maxIDBytes)
	}
	if herr != nil {
		writeError(w, herr.status, herr.msg)
		return
	}
	s.submitCalls(w, r, []call{subscriptionCall(user, topic, status, msgID)}, nil)
}

func subscriptionCall(customer, topic, status, msgID string) call {
	return call{kind: typeSubscription, messageID: msgID, item: worker.Item{CustomerID: customer,
		Input: engine.Input{Kind: engine.KindSubscription, Topic: topic, Status: status, MessageID: msgID}}}
}

func topicNames(p *ir.Program) []string {
	names := make([]string, len(p.Topics))
	for i, t := range p.Topics {
		names[i] = t.Name
	}
	return names
}

// linkToken reads the /u/{token} path value; it answers 400 itself when the
// token is not one this server signed (tampered, or another key's).
func (s *Server) linkToken(w http.ResponseWriter, r *http.Request) (token, customer, topic string, ok bool) {
	token = r.PathValue("token")
	customer, topic, err := s.opts.Links.Parse(token)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return "", "", "", false
	}
	return token, customer, topic, true
}

// handleUnsubscribePost is both the one-click unsubscribe (a form body
// List-Unsubscribe=One-Click, what a mailbox provider POSTs) and the
// preference page's form (a csrf value tied to the token, and one field per
// topic: the status to set).
func (s *Server) handleUnsubscribePost(w http.ResponseWriter, r *http.Request) {
	token, customer, topic, ok := s.linkToken(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read: "+err.Error(), http.StatusBadRequest)
		return
	}
	var calls []call
	switch {
	case r.PostForm.Get("List-Unsubscribe") == "One-Click":
		calls = append(calls, subscriptionCall(customer, topic, ir.TopicUnsubscribed, ""))
	case r.PostForm.Has("csrf"):
		if !s.opts.Links.CheckCSRF(token, r.PostForm.Get("csrf")) {
			http.Error(w, "the form is not this page's: reload the page from the link and try again", http.StatusBadRequest)
			return
		}
		for _, t := range s.w.Engine().Program().Topics {
			st := r.PostForm.Get("topic." + t.Name)
			if st == "" {
				continue
			}
			if st != ir.TopicSubscribed && st != ir.TopicUnsubscribed {
				http.Error(w, "topic "+t.Name+": the status must be subscribed or unsubscribed", http.StatusBadRequest)
				return
			}
			calls = append(calls, subscriptionCall(customer, t.Name, st, ""))
		}
	default:
		http.Error(w, "expected List-Unsubscribe=One-Click (RFC 8058) or the preference page's form", http.StatusBadRequest)
		return
	}
	if len(calls) > 0 {
		if err := s.w.Submit(r.Context(), itemsOf(calls)); err != nil {
			s.notStored(w, r, len(calls), err)
			return
		}
	}
	if r.PostForm.Has("csrf") {
		http.Redirect(w, r, r.URL.Path+"?saved=1", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("You are unsubscribed from " + topic + ".\n"))
}

func itemsOf(calls []call) []worker.Item {
	items := make([]worker.Item, len(calls))
	for i, c := range calls {
		items[i] = c.item
	}
	return items
}

// prefsPage is the preference page: plain HTML, a form that works without
// JavaScript, the CSRF value in a hidden field. The empty icon keeps
// browsers from asking for /favicon.ico (a 404 in their console).
var prefsPage = template.Must(template.New("prefs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Email preferences</title>
<link rel="icon" href="data:,"></head>
<body>
<h1>Your subscriptions</h1>
{{if .Saved}}<p role="status">Saved.</p>{{end}}
<form method="post" action="">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{range .Topics}}<fieldset>
<legend>{{.Name}}{{if .Description}}: {{.Description}}{{end}}</legend>
<label><input type="radio" name="topic.{{.Name}}" value="subscribed"{{if .Subscribed}} checked{{end}}> Subscribed</label>
<label><input type="radio" name="topic.{{.Name}}" value="unsubscribed"{{if not .Subscribed}} checked{{end}}> Unsubscribed</label>
</fieldset>
{{end}}<button type="submit">Save</button>
</form>
</body></html>
`))

type prefsTopic struct {
	Name, Description string
	Subscribed        bool
}

// handleUnsubscribePage shows the customer's topics and their status.
func (s *Server) handleUnsubscribePage(w http.ResponseWriter, r *http.Request) {
	token, customer, _, ok := s.linkToken(w, r)
	if !ok {
		return
	}
	c, err := s.st.Customer(r.Context(), customer)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.storeFailed(w, "customer", err)
		return
	}
	subs := subscriptionsOf(s.w.Engine().Program(), c)
	data := struct {
		CSRF   string
		Saved  bool
		Topics []prefsTopic
	}{CSRF: s.opts.Links.CSRF(token), Saved: r.URL.Query().Get("saved") == "1"}
	for _, t := range s.w.Engine().Program().Topics {
		data.Topics = append(data.Topics, prefsTopic{Name: t.Name, Description: t.Description, Subscribed: subs[t.Name] == ir.TopicSubscribed})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page holds a credential (the CSRF value): no caching, no framing.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	prefsPage.Execute(w, data)
}

// subscriptionsOf is the customer's status on every topic: each topic of
// the program (its default unless the customer said otherwise), and the
// topics the customer gave their word on that the program no longer
// declares. c may be nil (a customer not stored yet).
func subscriptionsOf(p *ir.Program, c *engine.Customer) map[string]string {
	out := make(map[string]string, len(p.Topics))
	for _, t := range p.Topics {
		out[t.Name] = t.Default
	}
	if c != nil {
		for t, st := range c.Subscriptions {
			out[t] = st
		}
	}
	return out
}
