package server

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// BenchmarkTwilioStop is one inbound STOP among n customers (SQLite): the
// lookup of the sender's customer by phone trait, and the unsubscription.
// How it grows with n shows whether the lookup reads every customer.
func BenchmarkTwilioStop(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			const public = "https://waymark.example.com"
			h := newHarness(b, Options{Twilio: &TwilioInbound{PublicURL: public, AuthTokens: []string{"tw-token"}}}, withWorkspace("consent"))
			for i := 0; i < n; i += 500 {
				var ws []store.CustomerWrite
				for j := i; j < min(i+500, n); j++ {
					ws = append(ws, store.CustomerWrite{State: &engine.Customer{ID: fmt.Sprintf("u%06d", j),
						Traits: map[string]any{"phone": fmt.Sprintf("+1555%07d", j), "plan": "free"}}})
				}
				if err := h.st.Commit(context.Background(), &store.Batch{Customers: ws}); err != nil {
					b.Fatal(err)
				}
			}
			form := url.Values{"From": {fmt.Sprintf("+1555%07d", n/2)}, "To": {"+15559999"}, "Body": {"STOP"}, "MessageSid": {"SM1"}}
			hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
				"X-Twilio-Signature": TwilioSignature("tw-token", public+"/v1/inbound/twilio", form)}
			body := []byte(form.Encode())
			b.ResetTimer()
			for b.Loop() {
				if r := h.do("POST", "/v1/inbound/twilio", body, hdr); r.code != 200 {
					b.Fatalf("%d %s", r.code, r.body)
				}
			}
		})
	}
}
