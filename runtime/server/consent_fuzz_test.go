package server

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/waymark-dev/waymark/runtime/consent/linktoken"
)

// FuzzConsentRoutes posts arbitrary bodies (and, for /u/, tokens) to the
// one-click unsubscribe and Twilio's inbound webhook: nothing may panic, a
// request that is not signed is refused, and only a valid link or signature
// reaches the worker (checkingWorker checks every subscription input).
func FuzzConsentRoutes(f *testing.F) {
	links, err := linktoken.New([]byte("fuzz-link-secret-0123"))
	if err != nil {
		f.Fatal(err)
	}
	good := links.Token("u1", "marketing")
	stop := url.Values{"From": {"+15550001"}, "Body": {"STOP"}}
	f.Add(false, good, []byte("List-Unsubscribe=One-Click"), "")
	f.Add(false, good, []byte("csrf="+links.CSRF(good)+"&topic.marketing=unsubscribed"), "")
	f.Add(false, good+"x", []byte("List-Unsubscribe=One-Click"), "")
	f.Add(false, "v1..", []byte("%zz"), "")
	f.Add(true, "", []byte(stop.Encode()), TwilioSignature("tw-token", "https://w.example/v1/inbound/twilio", stop))
	f.Add(true, "", []byte(stop.Encode()), "bad")
	f.Fuzz(func(t *testing.T, twilio bool, token string, body []byte, sig string) {
		srv := New(nil, checkingWorker{t}, Options{Links: links, Twilio: &TwilioInbound{PublicURL: "https://w.example", AuthTokens: []string{"tw-token"}}})
		path := "/v1/inbound/twilio"
		if !twilio {
			path = "/u/" + url.PathEscape(token)
		}
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 303, 400, 403, 404, 405, 413:
		default:
			t.Fatalf("POST %s: status %d: %s", path, rec.Code, rec.Body)
		}
		if !twilio && rec.Code/100 == 2 {
			if _, _, err := links.Parse(token); err != nil {
				t.Fatalf("POST %s accepted a token Parse refuses", path)
			}
		}
	})
}
