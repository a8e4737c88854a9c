package deliver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// fakeTwilio speaks the shape of Twilio's Messages API: a form POST to
// /2010-04-01/Accounts/{sid}/Messages.json with Basic auth, answering 201
// and a JSON message, or the status the test asks for next.
type fakeTwilio struct {
	mu       sync.Mutex
	statuses []int // answered in turn; 201 when empty
	got      []map[string]string
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if r.Method != "POST" || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" {
		http.Error(w, `{"code":20404,"message":"not found"}`, 404)
		return
	}
	if !ok || user != "AC123" || pass != "tok-secret" {
		http.Error(w, `{"code":20003,"message":"Authenticate"}`, 401)
		return
	}
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		http.Error(w, `{"code":21000,"message":"bad form"}`, 400)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, map[string]string{"To": r.PostForm.Get("To"), "From": r.PostForm.Get("From"), "Body": r.PostForm.Get("Body")})
	status := 201
	if len(f.statuses) > 0 {
		status, f.statuses = f.statuses[0], f.statuses[1:]
	}
	if status == 429 {
		w.Header().Set("Retry-After", "7")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(`{"sid":"SM1","status":"queued"}`))
}

func smsSend(to, body string) engine.Send {
	return engine.Send{Key: "c-1/j/1/1/sms", Journey: "j", Name: "sms", Channel: "sms", ChannelType: "twilio", Fields: map[string]any{"to": to, "body": body}}
}

func TestTwilio(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		token     string
		send      engine.Send
		permanent bool
		ok        bool
		retryIn   time.Duration
	}{
		{name: "accepted", send: smsSend("+15550001", "Hi there"), ok: true, token: "tok-secret"},
		{name: "rate limited: retried after its Retry-After", statuses: []int{429}, send: smsSend("+15550001", "x"), token: "tok-secret", retryIn: 7 * time.Second},
		{name: "server error: retried", statuses: []int{503}, send: smsSend("+15550001", "x"), token: "tok-secret"},
		{name: "a bad number: permanent", statuses: []int{400}, send: smsSend("nope", "x"), token: "tok-secret", permanent: true},
		{name: "wrong token: permanent", send: smsSend("+15550001", "x"), token: "wrong", permanent: true},
		{name: "no body: permanent, nothing posted", send: engine.Send{Key: "k", Fields: map[string]any{"to": "+1"}}, token: "tok-secret", permanent: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeTwilio{statuses: tc.statuses}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c, err := NewTwilio(TwilioConfig{Channel: "sms", AccountSID: "AC123", AuthToken: tc.token, From: "+15559999", BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Deliver(context.Background(), tc.send)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Deliver: %v", err)
			case !tc.ok && err == nil:
				t.Fatal("Deliver succeeded")
			case err != nil && IsPermanent(err) != tc.permanent:
				t.Fatalf("permanent = %v, want %v (%v)", IsPermanent(err), tc.permanent, err)
			case err != nil && strings.Contains(err.Error(), "tok-secret"):
				t.Fatalf("the error shows the token: %v", err)
			}
			if got := RetryAfterOf(err); got != tc.retryIn {
				t.Errorf("retry after %v, want %v", got, tc.retryIn)
			}
			if tc.ok {
				want := map[string]string{"To": "+15550001", "From": "+15559999", "Body": "Hi there"}
				if len(fake.got) != 1 || fake.got[0]["To"] != want["To"] || fake.got[0]["From"] != want["From"] || fake.got[0]["Body"] != want["Body"] {
					t.Errorf("Twilio got %v, want %v", fake.got, want)
				}
			}
		})
	}
	if _, err := NewTwilio(TwilioConfig{Channel: "sms", AccountSID: "AC1/../x", AuthToken: "t", From: "+1"}); err == nil {
		t.Error("an account SID with a path in it is accepted")
	}
}

// A twilio channel of a compiled program comes up from env(); a missing
// token is named, and its value never shows in an error.
func TestSetupTwilio(t *testing.T) {
	p := &ir.Program{Format: ir.Format, Channels: []ir.Channel{{Name: "sms", Type: "twilio", Settings: []ir.Setting{
		{Name: "account_sid", Expr: ir.Expr{Src: `env("TWILIO_ACCOUNT_SID")`}},
		{Name: "auth_token", Expr: ir.Expr{Src: `env("TWILIO_AUTH_TOKEN")`}},
		{Name: "from", Expr: ir.Expr{Src: `"+15559999"`}},
	}}}}
	chs, err := Setup(p, envOf(map[string]string{"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "tok-secret"}), Live)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := chs["sms"].(*Twilio); !ok {
		t.Fatalf("channel sms is %T", chs["sms"])
	}
	_, err = Setup(p, envOf(map[string]string{"TWILIO_ACCOUNT_SID": "AC123"}), Live)
	if err == nil || !strings.Contains(err.Error(), "TWILIO_AUTH_TOKEN") {
		t.Errorf("a missing token: %v", err)
	}
}
