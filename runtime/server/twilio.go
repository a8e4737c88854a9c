package server

// POST /v1/inbound/twilio: Twilio's webhook for messages customers send to
// our numbers. STOP and its synonyms unsubscribe the sender from every topic
// the program's SMS sends belong to; START and its synonyms subscribe them
// again. Carriers require STOP to be honoured.

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/store"
)

// TwilioInbound configures POST /v1/inbound/twilio.
type TwilioInbound struct {
	// PublicURL is the server's address as Twilio calls it (--public-url):
	// the signature covers the full URL.
	PublicURL string
	// AuthTokens are the twilio channels' auth tokens; a request signed
	// with any of them is accepted. SetTwilioAuthTokens replaces them.
	AuthTokens []string
}

// SetTwilioAuthTokens replaces the tokens inbound Twilio requests are
// checked against: the twilio channels' tokens after a reload set the
// channels up again (a workspace edited to use a rotated token). Sends
// use the new token from the reload on, and Twilio signs with it: keeping
// the tokens read at start would refuse every STOP until a restart. The
// old tokens are not kept (a token is rotated because it leaked). It
// does nothing on a server without Options.Twilio.
func (s *Server) SetTwilioAuthTokens(tokens []string) {
	if s.twilioTokens.Load() == nil {
		return
	}
	tokens = slices.Clone(tokens)
	s.twilioTokens.Store(&tokens)
}

var (
	stopWords  = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	startWords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
)

// TwilioSignature is X-Twilio-Signature for a request to fullURL with the
// POST parameters params: base64(HMAC-SHA1(token, fullURL followed by each
// parameter's name and value, names sorted)).
func TwilioSignature(token, fullURL string, params map[string][]string) string {
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(fullURL))
	for _, k := range names {
		for _, v := range params[k] {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) handleTwilioInbound(w http.ResponseWriter, r *http.Request) {
	in := s.opts.Twilio
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "inbound/twilio: the form could not be read: "+err.Error())
		return
	}
	fullURL := strings.TrimRight(in.PublicURL, "/") + r.URL.RequestURI()
	got := r.Header.Get("X-Twilio-Signature")
	valid := false
	for _, tok := range *s.twilioTokens.Load() {
		want := TwilioSignature(tok, fullURL, r.PostForm)
		if hmac.Equal([]byte(got), []byte(want)) {
			valid = true
		}
	}
	if !valid {
		writeError(w, http.StatusForbidden, "inbound/twilio: X-Twilio-Signature does not match this request (check --public-url: the signature covers the URL Twilio calls)")
		return
	}
	word := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("Body")))
	status := ""
	switch {
	case stopWords[word]:
		status = ir.TopicUnsubscribed
	case startWords[word]:
		status = ir.TopicSubscribed
	}
	from := r.PostForm.Get("From")
	if status != "" && from != "" {
		p := s.w.Engine().Program()
		topics, traits := smsTopics(p)
		ids, err := s.customersByTraits(r, traits, from)
		if err != nil {
			s.storeFailed(w, "customers", err)
			return
		}
		var calls []call
		for _, id := range ids {
			for _, t := range topics {
				calls = append(calls, subscriptionCall(id, t, status, ""))
			}
		}
		if len(calls) > 0 {
			if err := s.w.Submit(r.Context(), itemsOf(calls)); err != nil {
				s.notStored(w, r, len(calls), err)
				return
			}
		}
	}
	// An empty TwiML answer: Twilio itself replies to STOP and START.
	w.Header().Set("Content-Type", "text/xml")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`))
}

// smsTopics returns the topics of the program's sends through twilio
// channels (their own, else their policy's) and the customer traits their
// `to` reads (`to = customer.phone`): the sender of a STOP is the customer
// whose such trait is the sender's number.
func smsTopics(p *ir.Program) (topics, traits []string) {
	sms := map[string]bool{}
	for _, ch := range p.Channels {
		sms[ch.Name] = ch.Type == lang.ChannelTwilio
	}
	policyTopic := map[string]string{}
	for _, pol := range p.Policies {
		policyTopic[pol.Name] = pol.Topic
	}
	seenT, seenR := map[string]bool{}, map[string]bool{}
	for _, j := range p.Journeys {
		for _, st := range j.Stages {
			for _, a := range st.Actions {
				if a.Kind != ir.ActionSend || !sms[a.Channel] {
					continue
				}
				t := a.Topic
				if t == "" {
					t = policyTopic[j.Policy]
				}
				if t != "" && !seenT[t] {
					seenT[t] = true
					topics = append(topics, t)
				}
				for _, f := range a.Fields {
					if f.Name != "to" {
						continue
					}
					if tr, ok := strings.CutPrefix(strings.TrimSpace(f.Expr.Src), "customer."); ok && hclsyntax.ValidIdentifier(tr) && !seenR[tr] {
						seenR[tr] = true
						traits = append(traits, tr)
					}
				}
			}
		}
	}
	sort.Strings(topics)
	sort.Strings(traits)
	return topics, traits
}

// customersByTraits lists the ids of the customers whose trait (any of
// traits) is value. It reads every customer (store.CustomerLister's trait
// search): fine for the rare STOP, an index's job at scale.
func (s *Server) customersByTraits(r *http.Request, traits []string, value string) ([]string, error) {
	lister, ok := s.st.(store.CustomerLister)
	if !ok || len(traits) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, tr := range traits {
		q := store.CustomerQuery{Trait: tr, Value: value, Limit: 1000}
		for {
			page, err := lister.ListCustomers(r.Context(), q)
			if err != nil {
				return nil, err
			}
			for _, c := range page.Customers {
				if !seen[c.ID] {
					seen[c.ID] = true
					ids = append(ids, c.ID)
				}
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
	}
	return ids, nil
}
