package server

import (
	"net/url"
	"strings"
	"testing"
)

func TestTwilioInboundStopStart(t *testing.T) {
	const public = "https://waymark.example.com"
	h := newHarness(t, Options{Twilio: &TwilioInbound{PublicURL: public, AuthTokens: []string{"tw-token"}}}, withWorkspace("consent"))
	h.mustPost("/v1/identify", `{"userId":"u1","traits":{"phone":"+15550001"}}`)
	h.mustPost("/v1/identify", `{"userId":"u2","traits":{"phone":"+15550002"}}`)
	inbound := func(body, token string) response {
		form := url.Values{"From": {"+15550001"}, "To": {"+15559999"}, "Body": {body}, "MessageSid": {"SM1"}}
		sig := TwilioSignature(token, public+"/v1/inbound/twilio", form)
		return h.do("POST", "/v1/inbound/twilio", []byte(form.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})
	}
	marketing := func(id string) string { return h.customer(id).Subscriptions["marketing"] }

	if r := inbound("STOP", "another-token"); r.code != 403 {
		t.Fatalf("a request signed with another token: %d %s", r.code, r.body)
	}
	if marketing("u1") != "subscribed" {
		t.Fatal("a refused request changed the subscription")
	}
	for _, tc := range []struct{ body, want string }{
		{" stop ", "unsubscribed"}, {"Hello", "unsubscribed"}, {"START", "subscribed"}, {"quit", "unsubscribed"},
		{"unstop", "subscribed"}, {"STOPALL", "unsubscribed"},
	} {
		if r := inbound(tc.body, "tw-token"); r.code != 200 || !strings.Contains(string(r.body), "<Response>") {
			t.Fatalf("%q: %d %s", tc.body, r.code, r.body)
		}
		if got := marketing("u1"); got != tc.want {
			t.Errorf("after %q: u1 marketing %q, want %q", tc.body, got, tc.want)
		}
	}
	if got := marketing("u2"); got != "subscribed" {
		t.Errorf("another number's customer changed: %q", got)
	}
	h.mustPost("/v1/track", `{"userId":"u1","event":"sms_promo"}`)
	if got := h.fates("u1"); len(got) != 1 || got[0] != "text:unsubscribed" {
		t.Errorf("u1's sends %v, want the SMS dropped as unsubscribed", got)
	}
}

// The signature is Twilio's documented algorithm: HMAC-SHA1 over the URL
// and the sorted parameters, base64 (the example of Twilio's security docs).
func TestTwilioSignatureKnownAnswer(t *testing.T) {
	params := map[string][]string{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"},
	}
	got := TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("signature %q", got)
	}
}

// After SetTwilioAuthTokens (a reload that set up the channels with a
// rotated token), requests signed with the new token are accepted and ones
// signed with the old token refused. Before it, the tokens read at start
// were kept until a restart, so every STOP signed with the rotated token
// was refused.
func TestTwilioTokenRotation(t *testing.T) {
	const public = "https://waymark.example.com"
	h := newHarness(t, Options{Twilio: &TwilioInbound{PublicURL: public, AuthTokens: []string{"old-token"}}}, withWorkspace("consent"))
	h.mustPost("/v1/identify", `{"userId":"u1","traits":{"phone":"+15550001"}}`)
	inbound := func(body, token string) int {
		form := url.Values{"From": {"+15550001"}, "To": {"+15559999"}, "Body": {body}, "MessageSid": {"SM1"}}
		sig := TwilioSignature(token, public+"/v1/inbound/twilio", form)
		return h.do("POST", "/v1/inbound/twilio", []byte(form.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig}).code
	}
	if code := inbound("START", "old-token"); code != 200 {
		t.Fatalf("signed with the token given at start: %d", code)
	}
	h.srv.SetTwilioAuthTokens([]string{"new-token"})
	if code := inbound("STOP", "old-token"); code != 403 {
		t.Errorf("signed with the replaced token: %d, want 403", code)
	}
	if code := inbound("STOP", "new-token"); code != 200 {
		t.Errorf("signed with the new token: %d, want 200", code)
	}
	if got := h.customer("u1").Subscriptions["marketing"]; got != "unsubscribed" {
		t.Errorf("u1 marketing %q after a STOP signed with the new token, want unsubscribed", got)
	}
}
