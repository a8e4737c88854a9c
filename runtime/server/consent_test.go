package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/runtime/consent/linktoken"
)

func withWorkspace(dir string) harnessOption { return func(c *harnessConfig) { c.ws = dir } }

func testSigner(t testing.TB, key string) *linktoken.Signer {
	t.Helper()
	s, err := linktoken.New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fates lists the customer's sends as name:fate, oldest first.
func (h *harness) fates(id string) []string {
	h.t.Helper()
	var out []string
	for _, s := range h.customer(id).Sends {
		out = append(out, s.Name+":"+s.Fate)
	}
	return out
}

func TestSubscriptionsEndpoint(t *testing.T) {
	h := newHarness(t, Options{WriteKey: "wk"}, withWorkspace("consent"))
	auth := map[string]string{"X-Write-Key": "wk"}
	post := func(body string) response { return h.do("POST", "/v1/subscriptions", []byte(body), auth) }

	if r := h.do("POST", "/v1/subscriptions", []byte(`{"userId":"u1","topic":"marketing","status":"unsubscribed"}`), nil); r.code != 401 {
		t.Fatalf("without the write key: %d %s", r.code, r.body)
	}
	for body, want := range map[string]string{
		`{"topic":"marketing","status":"unsubscribed"}`:                  "userId is required",
		`{"userId":"u1","topic":"marketng","status":"unsubscribed"}`:     `topic "marketng" is not declared`,
		`{"userId":"u1","topic":"marketing","status":"off"}`:             `status must be "subscribed" or "unsubscribed"`,
		`{"userId":"u1","topic":"marketing","status":"unsubscribed","x"`: "JSON",
	} {
		r := post(body)
		if r.code != 400 || !strings.Contains(r.errorText(t), want) {
			t.Errorf("%s: %d %s, want 400 naming %q", body, r.code, r.body, want)
		}
	}

	h.mustPost("/v1/track", `{"writeKey":"wk","userId":"u1","event":"promo"}`)
	if r := post(`{"userId":"u1","topic":"marketing","status":"unsubscribed","messageId":"m1"}`); r.code != 200 {
		t.Fatalf("unsubscribe: %d %s", r.code, r.body)
	}
	if got := h.customer("u1").Subscriptions; got["marketing"] != "unsubscribed" || got["beta"] != "unsubscribed" {
		t.Errorf("subscriptions %v, want marketing and beta unsubscribed (beta by default)", got)
	}
	h.mustPost("/v1/track", `{"writeKey":"wk","userId":"u1","event":"promo"}`)
	// Subscribe again, then replay the unsubscribe's messageId: a no-op.
	post(`{"userId":"u1","topic":"marketing","status":"subscribed","messageId":"m2"}`)
	post(`{"userId":"u1","topic":"marketing","status":"unsubscribed","messageId":"m1"}`)
	h.mustPost("/v1/track", `{"writeKey":"wk","userId":"u1","event":"promo"}`)
	want := []string{"offer:deliver", "offer:unsubscribed", "offer:deliver"}
	if got := h.fates("u1"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sends %v, want %v", got, want)
	}
}

func (r response) body2() string { return string(r.body) }

func TestUnsubscribeLink(t *testing.T) {
	links := testSigner(t, "0123456789abcdef-key")
	h := newHarness(t, Options{Links: links}, withWorkspace("consent"))
	h.mustPost("/v1/track", `{"userId":"u1","event":"promo"}`)
	tok := links.Token("u1", "marketing")
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	// Tampered and foreign tokens: 400, nothing changes.
	flip := []byte(tok)
	flip[len(flip)-3] ^= 1
	for name, bad := range map[string]string{
		"tampered": string(flip),
		"foreign":  testSigner(t, "another-key-0123456789").Token("u1", "marketing"),
		"garbage":  "v1.x.y",
	} {
		for _, method := range []string{"GET", "POST"} {
			if r := h.do(method, "/u/"+bad, []byte("List-Unsubscribe=One-Click"), form); r.code != 400 {
				t.Errorf("%s token, %s: %d %s", name, method, r.code, r.body)
			}
		}
	}
	// A POST that is neither one-click nor the page's form: 400.
	if r := h.do("POST", "/u/"+tok, []byte("hello=1"), form); r.code != 400 {
		t.Errorf("POST without List-Unsubscribe=One-Click: %d", r.code)
	}
	if got := h.customer("u1").Subscriptions["marketing"]; got != "subscribed" {
		t.Fatalf("after refused requests: marketing %q, want subscribed", got)
	}

	// One-click, as a mailbox provider does it.
	if r := h.do("POST", "/u/"+tok, []byte("List-Unsubscribe=One-Click"), form); r.code != 200 {
		t.Fatalf("one-click: %d %s", r.code, r.body)
	}
	if got := h.customer("u1").Subscriptions["marketing"]; got != "unsubscribed" {
		t.Fatalf("after one-click: marketing %q", got)
	}
	h.mustPost("/v1/track", `{"userId":"u1","event":"promo"}`)

	// The preference page shows the topics, and its form needs its CSRF value.
	page := h.get("/u/" + tok)
	if page.code != 200 || !strings.Contains(page.body2(), `name="topic.beta"`) || page.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("page: %d %v %s", page.code, page.header, page.body)
	}
	if !regexp.MustCompile(`name="topic.marketing" value="unsubscribed" checked`).MatchString(page.body2()) {
		t.Errorf("the page does not show marketing unsubscribed:\n%s", page.body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body2())
	if csrf == nil {
		t.Fatalf("no csrf field:\n%s", page.body)
	}
	otherCSRF := links.CSRF(links.Token("u2", "marketing"))
	if r := h.do("POST", "/u/"+tok, []byte("csrf="+url.QueryEscape(otherCSRF)+"&topic.marketing=subscribed"), form); r.code != 400 {
		t.Errorf("another link's CSRF value: %d", r.code)
	}
	noRedirect := *h.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h.client = &noRedirect
	r := h.do("POST", "/u/"+tok, []byte("csrf="+url.QueryEscape(csrf[1])+"&topic.marketing=subscribed&topic.beta=subscribed"), form)
	if r.code != 303 {
		t.Fatalf("page form: %d %s", r.code, r.body)
	}
	if got := h.customer("u1").Subscriptions; got["marketing"] != "subscribed" || got["beta"] != "subscribed" {
		t.Errorf("after the form: %v", got)
	}
	h.mustPost("/v1/track", `{"userId":"u1","event":"promo"}`)
	want := []string{"offer:deliver", "offer:unsubscribed", "offer:deliver"}
	if got := h.fates("u1"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sends %v, want %v", got, want)
	}
}

func TestUnsubscribeRoutesNeedLinks(t *testing.T) {
	h := newHarness(t, Options{}, withWorkspace("consent"))
	if r := h.post("/u/v1.x.y", "List-Unsubscribe=One-Click"); r.code != 404 {
		t.Errorf("without Links: %d", r.code)
	}
}
