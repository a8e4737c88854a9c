package engine

import (
	"strings"
	"testing"
	"time"
)

// consentProgram has an opt-out topic on a policy with quiet hours, an
// opt-in topic a send names itself, and a transactional send (no topic).
const consentProgram = `
topic "marketing" {
  default = "subscribed"
}
topic "beta" {
  default = "unsubscribed"
}
policy "marketing" {
  quiet_hours = "21:00-08:00"
  topic       = topic.marketing
}
policy "service" {}
journey "promo" {
  policy  = policy.marketing
  reentry = "always"
  entry "go" {}
  goal "bought" {}
  stage "s" {
    send "offer" {
      channel = channel.log
      data    = customer.id
    }
    send "beta_news" {
      channel = channel.log
      topic   = topic.beta
      data    = customer.id
    }
    after "30d" { goto = end }
  }
}
journey "receipt" {
  policy  = policy.service
  reentry = "always"
  entry "go" {}
  goal "never" {}
  stage "s" {
    send "receipt" {
      channel = channel.log
      data    = customer.id
    }
  }
}`

func (s *sim) subscribe(topic, status string) Result {
	s.t.Helper()
	return s.step(Input{Kind: KindSubscription, Topic: topic, Status: status})
}

func TestConsent(t *testing.T) {
	e := newEngine(t, compile(t, consentProgram), Options{})
	tests := []struct {
		name       string
		before     [][2]string // subscription inputs before the event
		deliver    []string
		unsubbed   []string
		wantTopics map[string]string // the Topic recorded on each send
	}{
		{name: "defaults: opt-out topic sends, opt-in topic does not, transactional always",
			deliver: []string{"offer", "receipt"}, unsubbed: []string{"beta_news"},
			wantTopics: map[string]string{"offer": "marketing", "beta_news": "beta", "receipt": ""}},
		{name: "unsubscribed from the opt-out topic",
			before:  [][2]string{{"marketing", "unsubscribed"}},
			deliver: []string{"receipt"}, unsubbed: []string{"offer", "beta_news"}},
		{name: "subscribed to the opt-in topic",
			before:  [][2]string{{"beta", "subscribed"}},
			deliver: []string{"offer", "beta_news", "receipt"}},
		{name: "unsubscribed from everything: the transactional send still goes",
			before:  [][2]string{{"marketing", "unsubscribed"}, {"beta", "unsubscribed"}},
			deliver: []string{"receipt"}, unsubbed: []string{"offer", "beta_news"}},
		{name: "the latest word counts",
			before:  [][2]string{{"marketing", "unsubscribed"}, {"marketing", "subscribed"}},
			deliver: []string{"offer", "receipt"}, unsubbed: []string{"beta_news"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, e, "c-1", nil)
			for _, b := range tc.before {
				if r := s.subscribe(b[0], b[1]); len(r.Sends) != 0 {
					t.Fatalf("a subscription input sent %+v", r.Sends)
				}
			}
			r := s.event("go", nil)
			s.noErrors()
			eq(t, "delivered", sent(FateDeliver, r), tc.deliver)
			eq(t, "unsubscribed", sent(FateUnsubscribed, r), tc.unsubbed)
			for _, snd := range r.Sends {
				if snd.Fate == FateUnsubscribed && !strings.Contains(snd.Reason, "unsubscribed from topic "+snd.Topic) {
					t.Errorf("reason of %s: %q", snd.Name, snd.Reason)
				}
				if want, ok := tc.wantTopics[snd.Name]; ok && snd.Topic != want {
					t.Errorf("send %s has topic %q, want %q", snd.Name, snd.Topic, want)
				}
			}
			if last := tc.before; len(last) > 0 {
				b := last[len(last)-1]
				if got := s.c.Subscriptions[b[0]]; got != b[1] {
					t.Errorf("state holds %s=%q, want %q", b[0], got, b[1])
				}
			}
		})
	}
}

// A send held by quiet hours is decided again at release: a customer who
// unsubscribed in the meantime does not get it.
func TestConsentHeldThenUnsubscribed(t *testing.T) {
	e := newEngine(t, compile(t, consentProgram), Options{})
	s := newSim(t, e, "c-1", nil)
	s.now = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC) // quiet hours in UTC
	r := s.event("go", nil)
	if f := findSend(t, "offer", r); f.Fate != FateHeld {
		t.Fatalf("offer: %s, want held", f.Fate)
	}
	s.now = s.now.Add(time.Hour)
	s.subscribe("marketing", "unsubscribed")
	r = s.advance(10 * time.Hour) // past 08:00
	s.noErrors()
	f := findSend(t, "offer", r)
	if f.Fate != FateUnsubscribed || !f.At.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("released offer: %+v, want unsubscribed at 08:00", f)
	}
	if len(s.c.Held) != 0 {
		t.Errorf("held sends left: %+v", s.c.Held)
	}

	// And the other way: held, then subscribed again before release, goes out.
	s = newSim(t, e, "c-2", map[string]any{})
	s.subscribe("marketing", "unsubscribed")
	s.subscribe("marketing", "subscribed")
	s.now = time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	s.event("go", nil)
	r = s.advance(10 * time.Hour)
	if f := findSend(t, "offer", r); f.Fate != FateDeliver {
		t.Fatalf("released offer: %s, want deliver", f.Fate)
	}
}

// A subscription input with a bad status is recorded as an error and
// changes nothing; a MessageID makes it idempotent like any input.
func TestConsentInputChecks(t *testing.T) {
	e := newEngine(t, compile(t, consentProgram), Options{})
	s := newSim(t, e, "c-1", nil)
	r := s.subscribe("marketing", "maybe")
	if !hasError([]Result{r}, "input") || s.c.Subscriptions != nil {
		t.Fatalf("bad status: errors %+v, state %v", r.Errors, s.c.Subscriptions)
	}
	s.step(Input{Kind: KindSubscription, Topic: "marketing", Status: "unsubscribed", MessageID: "m-1"})
	s.subscribe("marketing", "subscribed")
	if r := s.step(Input{Kind: KindSubscription, Topic: "marketing", Status: "unsubscribed", MessageID: "m-1"}); !r.Duplicate {
		t.Fatal("a redelivered subscription input was handled again")
	}
	if got := s.c.Subscriptions["marketing"]; got != "subscribed" {
		t.Errorf("after the duplicate: %q, want subscribed", got)
	}
}

func TestMergeSubscriptions(t *testing.T) {
	into := &Customer{ID: "known", Subscriptions: map[string]string{"a": "subscribed", "b": "unsubscribed", "c": "subscribed"}}
	from := &Customer{ID: "anon", Subscriptions: map[string]string{"a": "unsubscribed", "b": "subscribed", "d": "subscribed"}}
	Merge(into, from, t0)
	want := map[string]string{"a": "unsubscribed", "b": "unsubscribed", "c": "subscribed", "d": "subscribed"}
	for k, v := range want {
		if into.Subscriptions[k] != v {
			t.Errorf("%s: %q, want %q", k, into.Subscriptions[k], v)
		}
	}
	if len(into.Subscriptions) != len(want) || from.Subscriptions != nil {
		t.Errorf("into %v, from %v", into.Subscriptions, from.Subscriptions)
	}
}

// Options.UnsubscribeURL gives each send of a topic its customer's link;
// a transactional send gets none.
func TestConsentUnsubscribeURL(t *testing.T) {
	e := newEngine(t, compile(t, consentProgram), Options{UnsubscribeURL: func(c, topic string) string {
		return "https://example.com/u/" + c + "/" + topic
	}})
	s := newSim(t, e, "c-1", nil)
	r := s.event("go", nil)
	if got := findSend(t, "offer", r).UnsubscribeURL; got != "https://example.com/u/c-1/marketing" {
		t.Errorf("offer's link %q", got)
	}
	if got := findSend(t, "receipt", r).UnsubscribeURL; got != "" {
		t.Errorf("the transactional send has a link %q", got)
	}
}

// unsubscribe_url renders the send's own link in a field, in a template
// file and in html (escaped like any value), through each evaluation form
// (a plain traversal, a string template, an object); a transactional send
// renders "".
func TestConsentUnsubscribeURLVariable(t *testing.T) {
	p := compile(t, `
topic "news" {}
policy "news" {
  topic = topic.news
}
journey "j" {
  policy  = policy.news
  reentry = "always"
  entry "go" {}
  goal "done" {}
  stage "s" {
    send "mail" {
      channel = channel.email
      to      = "a@example.com"
      subject = "Hi"
      body    = "Stop: ${unsubscribe_url}"
      html    = template("templates/foot.html")
    }
    send "plain" {
      channel = channel.log
      data    = unsubscribe_url
    }
    send "receipt" {
      channel = channel.log
      topic   = topic.news
      data    = { link = unsubscribe_url }
    }
  }
}
journey "t" {
  reentry = "always"
  entry "go" {}
  goal "done" {}
  stage "s" {
    send "transactional" {
      channel = channel.log
      data    = "[${unsubscribe_url}]"
    }
  }
}`, "templates/foot.html", `<a href="${unsubscribe_url}">unsubscribe</a>`)
	e := newEngine(t, p, Options{UnsubscribeURL: func(c, topic string) string { return "https://x.example/u/" + c + "&" + topic }})
	{
		s := newSim(t, e, "c-1", nil)
		r := s.event("go", nil)
		s.noErrors()
		link := "https://x.example/u/c-1&news"
		checks := map[string][2]any{
			"mail body": {findSend(t, "mail", r).Fields["body"], "Stop: " + link},
			"mail html": {findSend(t, "mail", r).Fields["html"], `<a href="https://x.example/u/c-1&amp;news">unsubscribe</a>`},
			"plain":     {findSend(t, "plain", r).Fields["data"], link},
			"object":    {findSend(t, "receipt", r).Fields["data"].(map[string]any)["link"], link},
			"none":      {findSend(t, "transactional", r).Fields["data"], "[]"},
		}
		for what, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s: %q, want %q", what, c[0], c[1])
			}
		}
	}
}
