package deliver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// received is one request as a webhook receiver saw it.
type received struct {
	header http.Header
	body   []byte
	method string
	path   string
}

// hookServer records every request and answers with the status that
// respond returns for the n-th one (0-based).
type hookServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newHookServer(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		n := len(h.reqs)
		h.reqs = append(h.reqs, received{header: r.Header.Clone(), body: body, method: r.Method, path: r.URL.RequestURI()})
		h.mu.Unlock()
		respond(n, w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.reqs...)
}

// verify checks a request's signature the way a receiver would: HMAC-SHA256
// over the exact body bytes it read, compared in constant time.
func verify(secret string, r received) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(r.body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(r.header.Get("X-Waymark-Signature")))
}

func newTestWebhook(t *testing.T, url, secret string, timeout time.Duration) *Webhook {
	t.Helper()
	w, err := NewWebhook(WebhookConfig{Channel: "crm", URL: url, Secret: secret, Timeout: timeout,
		Now: func() time.Time { return t0.Add(1500 * time.Millisecond) }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookRequest(t *testing.T) {
	const secret = "whsec-test-3f9a"
	srv := newHookServer(t, func(int, http.ResponseWriter, *http.Request) {})
	w := newTestWebhook(t, srv.URL+"/hooks/waymark?tenant=7", secret, 0)
	send := testSend("c-1/onboarding/1/2/call_request", "crm")
	send.Fields = map[string]any{
		"data":    map[string]any{"customer": "c-1", "reason": "activation", "amount": int64(4999), "tags": []any{"a", "b"}},
		"headers": map[string]any{"x-tenant": "acme", "X-Priority": int64(2)},
	}
	if err := w.Deliver(context.Background(), send); err != nil {
		t.Fatal(err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/hooks/waymark?tenant=7" {
		t.Errorf("%s %s", r.method, r.path)
	}
	for k, want := range map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": send.Key,
		"X-Tenant":        "acme",
		"X-Priority":      "2",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !verify(secret, r) {
		t.Errorf("signature %q does not verify over the body", r.header.Get("X-Waymark-Signature"))
	}
	if verify("another-secret", r) {
		t.Error("signature verifies under the wrong secret")
	}
	var payload map[string]any
	if err := json.Unmarshal(r.body, &payload); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range payload {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"channel", "data", "instance", "journey", "key", "name", "sent_at", "stage"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("payload keys %v, want %v", keys, want)
	}
	want := map[string]any{
		"key": send.Key, "journey": "onboarding", "instance": "c-1/onboarding/1", "stage": "welcome",
		"name": "welcome_email", "channel": "crm", "sent_at": "2026-03-02T10:00:01.5Z",
		"data": map[string]any{"customer": "c-1", "reason": "activation", "amount": float64(4999), "tags": []any{"a", "b"}},
	}
	if !reflect.DeepEqual(payload, want) {
		t.Errorf("payload\n got %v\nwant %v", payload, want)
	}
}

func TestWebhookUnsignedWithoutSecret(t *testing.T) {
	srv := newHookServer(t, func(int, http.ResponseWriter, *http.Request) {})
	if err := newTestWebhook(t, srv.URL, "", 0).Deliver(context.Background(), testSend("k", "crm")); err != nil {
		t.Fatal(err)
	}
	if h := srv.requests()[0].header; h.Get("X-Waymark-Signature") != "" || h.Get("Idempotency-Key") != "k" {
		t.Errorf("headers %v", h)
	}
}

func TestWebhookStatusClasses(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter string
		ok, perm   bool
		wantAfter  time.Duration
	}{
		{status: 200, ok: true},
		{status: 202, ok: true},
		{status: 204, ok: true},
		{status: 400, perm: true},
		{status: 401, perm: true},
		{status: 404, perm: true},
		{status: 410, perm: true},
		{status: 422, perm: true},
		{status: 408},
		{status: 425},
		{status: 429, retryAfter: "7", wantAfter: 7 * time.Second},
		{status: 500},
		{status: 502},
		{status: 503, retryAfter: "Mon, 02 Mar 2026 10:01:01 GMT", wantAfter: 59500 * time.Millisecond},
		{status: 504},
		{status: 301, perm: true},
		{status: 307, perm: true},
	}
	for _, c := range cases {
		other := newHookServer(t, func(int, http.ResponseWriter, *http.Request) {})
		srv := newHookServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			if c.retryAfter != "" {
				w.Header().Set("Retry-After", c.retryAfter)
			}
			if c.status >= 300 && c.status < 400 {
				w.Header().Set("Location", other.URL+"/elsewhere")
			}
			w.WriteHeader(c.status)
			io.WriteString(w, `{"error":"nope"}`)
		})
		err := newTestWebhook(t, srv.URL, "s", 0).Deliver(context.Background(), testSend("k", "crm"))
		switch {
		case c.ok && err != nil:
			t.Errorf("%d: %v", c.status, err)
		case !c.ok && err == nil:
			t.Errorf("%d: no error", c.status)
		case !c.ok && IsPermanent(err) != c.perm:
			t.Errorf("%d: permanent = %v, want %v (%v)", c.status, IsPermanent(err), c.perm, err)
		case !c.ok && RetryAfterOf(err) != c.wantAfter:
			t.Errorf("%d: retry after %v, want %v", c.status, RetryAfterOf(err), c.wantAfter)
		}
		if err != nil && !strings.Contains(err.Error(), http.StatusText(c.status)) {
			t.Errorf("%d: error %q does not say the status", c.status, err)
		}
		if n := len(other.requests()); n != 0 {
			t.Errorf("%d: the redirect was followed", c.status)
		}
	}
}

// The receiver answers 503, then 200: the dispatcher retries, and both
// requests carry the same Idempotency-Key and a valid signature.
func TestWebhookRetriedDeliveryKeepsKey(t *testing.T) {
	const secret = "retry-secret"
	srv := newHookServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	st := newMemStore()
	send := testSend("c-1/onboarding/1/1/welcome", "crm")
	st.add(send, t0)
	d := New(st, map[string]Channel{"crm": newTestWebhook(t, srv.URL, secret, 0)}, Options{
		PollInterval: 2 * time.Millisecond, Rand: func() float64 { return 0 }, Logger: quietLogger(),
	})
	startDispatcher(t, d)
	s := waitSettled(t, st, 2)
	if s[0].Op != "retry" || s[0].Attempt != 1 || !strings.Contains(s[0].Error, "503") || s[1].Op != "delivered" {
		t.Fatalf("settlements %+v", s)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, r := range reqs {
		if k := r.header.Get("Idempotency-Key"); k != send.Key {
			t.Errorf("request %d: Idempotency-Key %q, want %q", i, k, send.Key)
		}
		if !verify(secret, r) {
			t.Errorf("request %d: signature does not verify", i)
		}
	}
}

func TestWebhookBadRequestIsDead(t *testing.T) {
	srv := newHookServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unknown customer c-1", http.StatusBadRequest)
	})
	st := newMemStore()
	st.add(testSend("k", "crm"), t0)
	d := New(st, map[string]Channel{"crm": newTestWebhook(t, srv.URL, "s", 0)}, Options{Logger: quietLogger()})
	startDispatcher(t, d)
	s := waitSettled(t, st, 1)[0]
	if s.Op != "dead" || s.Attempt != 1 || !strings.Contains(s.Error, "400 Bad Request: unknown customer c-1") {
		t.Fatalf("settlement %+v", s)
	}
	if st.item("k").state != "dead" {
		t.Errorf("item %+v", st.item("k"))
	}
}

// A receiver that does not answer within the channel's timeout: the attempt
// fails as retryable and is put back.
func TestWebhookTimeoutRetries(t *testing.T) {
	srv := newHookServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	st := newMemStore()
	st.add(testSend("k", "crm"), t0)
	d := New(st, map[string]Channel{"crm": newTestWebhook(t, srv.URL, "s", 100*time.Millisecond)}, Options{
		Logger: quietLogger(), Rand: func() float64 { return 0.5 },
	})
	start := time.Now()
	startDispatcher(t, d)
	s := waitSettled(t, st, 1)[0]
	if s.Op != "retry" || s.Attempt != 1 || !strings.Contains(s.Error, "no response within 100ms") {
		t.Fatalf("settlement %+v", s)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("the timeout took %v", el)
	}
}

// Connection errors are retryable, and messages show the URL's scheme,
// host and path, without the query or the path segments that look like a
// token: webhook URLs often carry one.
func TestWebhookConnectionErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook/T0KEN-in-path?sig=T0KEN-in-query"
	srv.Close()
	err := newTestWebhook(t, url, "", time.Second).Deliver(context.Background(), testSend("k", "crm"))
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "T0KEN") {
		t.Errorf("error shows the URL's token: %v", err)
	}
	if !strings.Contains(err.Error(), "POST "+srv.URL+"/hook/…: ") {
		t.Errorf("error does not name the host and path: %v", err)
	}
}

// An answer's error names the endpoint, path included: two webhooks on one
// host are told apart.
func TestWebhookErrorShowsPath(t *testing.T) {
	srv := newHookServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) })
	for path, want := range map[string]string{
		"/api/v1/orders?token=abc":          "/api/v1/orders",
		"/hooks/crm-events#frag":            "/hooks/crm-events",
		"/services/T0123ABC/B0456DEF/xyzzy": "/services/…/…/xyzzy",
		"/t/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "/t/…",
		"/orders/123456":                    "/orders/123456",
	} {
		err := newTestWebhook(t, srv.URL+path, "", time.Second).Deliver(context.Background(), testSend("k", "crm"))
		if w := "POST " + srv.URL + want + ": 400 Bad Request"; err == nil || err.Error() != w {
			t.Errorf("%s: error %v, want %q", path, err, w)
		}
	}
}

func TestShownURLHidesUserInfo(t *testing.T) {
	u, _ := url.Parse("https://user:pa55word@hooks.example.com/in?x=1")
	if got := shownURL(u); got != "https://hooks.example.com/in" {
		t.Errorf("shownURL = %q", got)
	}
}

// A send whose key cannot be a header (a customer id with a line break,
// stored before ingest refused them) fails at once, permanently, saying
// why, instead of as a network error retried to the last attempt.
func TestWebhookKeyWithLineBreakIsPermanent(t *testing.T) {
	srv := newHookServer(t, func(int, http.ResponseWriter, *http.Request) {})
	err := newTestWebhook(t, srv.URL, "s", 0).Deliver(context.Background(), testSend("u1\r\nX: y/j/1/1/hello", "crm"))
	if !IsPermanent(err) || !strings.Contains(err.Error(), "has a control character (a line break in the customer id?)") {
		t.Errorf("err = %v, want a permanent error naming the control character", err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests went out", n)
	}
}

func TestWebhookRefusesBadSendFields(t *testing.T) {
	srv := newHookServer(t, func(int, http.ResponseWriter, *http.Request) {})
	w := newTestWebhook(t, srv.URL, "s", 0)
	for _, headers := range []any{
		map[string]any{"Idempotency-Key": "mine"},
		map[string]any{"x-waymark-signature": "sha256=forged"},
		map[string]any{"content-type": "text/plain"},
		map[string]any{"X-Note": "line one\r\nX-Injected: yes"},
		map[string]any{"Bad Name": "v"},
		map[string]any{"X-Obj": map[string]any{"a": "b"}},
		"not an object",
	} {
		send := testSend("k", "crm")
		send.Fields["headers"] = headers
		if err := w.Deliver(context.Background(), send); !IsPermanent(err) {
			t.Errorf("headers %v: err = %v, want permanent", headers, err)
		}
	}
	send := testSend("k", "crm")
	send.Fields["data"] = func() {}
	if err := w.Deliver(context.Background(), send); !IsPermanent(err) {
		t.Errorf("unencodable data: err = %v, want permanent", err)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d requests went out", n)
	}
}

func TestNewWebhookRefusesBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "https://", "crm.example.com/hook", "http://a b/%zz"} {
		if _, err := NewWebhook(WebhookConfig{Channel: "crm", URL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestSignature(t *testing.T) {
	// A fixed vector from outside Go: printf '{"a":1}' | openssl dgst -sha256 -hmac key
	const want = "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
	if got := Signature([]byte("key"), []byte(`{"a":1}`)); got != want {
		t.Errorf("%s != %s", got, want)
	}
}
