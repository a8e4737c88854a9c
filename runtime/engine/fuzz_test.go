package engine

import (
	"encoding/json"
	"html"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// FuzzStep feeds arbitrary JSON as traits and properties, arbitrary event
// names and arbitrary times to the phone example: Step must never panic, and
// the state it leaves must still encode.
func FuzzStep(f *testing.F) {
	f.Add("order_completed", `{"category":"phone","amount":4999}`, `{"plan":"premium","timezone":"Asia/Shanghai","email":"a@b"}`, int64(0), int64(3*86400))
	f.Add("support_ticket_opened", `{"ticket_id":null,"topic":[1,2]}`, `{"timezone":"Nowhere/Else","email":7}`, int64(-5), int64(1))
	f.Add("device_activated", `{"device_model":{"a":1e400}}`, `{"needs_call":"yes","ltv":"x"}`, int64(1<<40), int64(1<<20))
	e := newEngine(f, phoneProgram(f), Options{})
	f.Fuzz(func(t *testing.T, event, props, traits string, at, wait int64) {
		var p, tr map[string]any
		_ = json.Unmarshal([]byte(props), &p)
		_ = json.Unmarshal([]byte(traits), &tr)
		c := &Customer{ID: "c", Traits: tr}
		now := time.Unix(1772400000+at%(1<<33), 0)
		e.Step(c, Input{Kind: KindEvent, Event: "order_completed", Properties: map[string]any{"category": "phone"}}, now)
		e.Step(c, Input{Kind: KindEvent, Event: event, Properties: p, Traits: tr}, now)
		e.Step(c, Input{Kind: KindWake}, now.Add(time.Duration(wait%(1<<30))*time.Second))
		e.Step(c, Input{Kind: KindIdentify, Traits: p}, now.Add(40*24*time.Hour))
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("the state does not encode: %v", err)
		}
	})
}

// FuzzHTMLEscape renders any trait value into an smtp send's html, inline
// and through a template: the
// value must arrive escaped exactly as html.EscapeString escapes it (after
// cty's normalisation), whatever it holds. (That the fast paths give what
// hclsyntax gives is TestFastPathMatchesHCL's.)
func FuzzHTMLEscape(f *testing.F) {
	for _, s := range []string{"", "Li", `<a href="https://evil.example/">`, "&amp; ' \"", "é\u0301<>", "${x}", "%{ if true }", "\xff<"} {
		f.Add(s)
	}
	p := compile(f, `
journey "j" {
  entry "go" {}
  stage "s" {
    send "inline" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      html    = "<p>${customer.first_name}</p>"
    }
    send "file" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      html    = template("t/mail.html")
    }
  }
}`, "t/mail.html", `<p>${customer.first_name}</p>`)
	e := newEngine(f, p, Options{})
	f.Fuzz(func(t *testing.T, name string) {
		want := "<p>" + html.EscapeString(cty.StringVal(name).AsString()) + "</p>"
		c := &Customer{ID: "c", Traits: map[string]any{"email": "a@example.com", "first_name": name}}
		res := e.Step(c, Input{Kind: KindEvent, Event: "go"}, t0)
		if len(res.Sends) != 2 {
			t.Fatalf("sends: %+v", res.Sends)
		}
		for _, s := range res.Sends {
			if got := s.Fields["html"]; got != want {
				t.Fatalf("%s: %q, want %q (%s %s)", s.Name, got, want, s.Fate, s.Reason)
			}
		}
	})
}
