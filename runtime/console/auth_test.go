package console

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

func TestSignInRequired(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/ui/", "/ui/journeys/welcome", "/ui/customers/ann", "/ui/status"} {
		rec := f.do("GET", path, nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/login?next="+url.QueryEscape(path) {
			t.Errorf("GET %s without a session: %d to %q, want 303 to the sign-in form", path, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := f.do("POST", "/ui/dead-letters/requeue", url.Values{"all": {"1"}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", rec.Code)
	}
	rec := f.do("GET", "/ui/login?next=/ui/status", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `<label for="token">Admin token</label>`) {
		t.Fatalf("the sign-in form: %d\n%s", rec.Code, rec.Body)
	}
	goldenHTML(t, "login", rec.Body.String())
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	rec := f.do("POST", "/ui/login", url.Values{"token": {"wrong"}, "next": {"/ui/status"}})
	if rec.Code != http.StatusUnauthorized || len(rec.Result().Cookies()) != 0 || !strings.Contains(rec.Body.String(), "not the admin token") {
		t.Fatalf("a wrong token: %d, cookies %v", rec.Code, rec.Result().Cookies())
	}
	ck := f.login()
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/ui/" {
		t.Errorf("cookie over plain HTTP: HttpOnly %v SameSite %v Secure %v Path %q; want HttpOnly, Strict, not Secure, /ui/", ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path)
	}
	if strings.Contains(ck.Value, token) {
		t.Errorf("the cookie %q holds the token itself", ck.Value)
	}
	if rec := f.do("GET", "/ui/", nil, ck); rec.Code != 200 {
		t.Errorf("GET /ui/ signed in: %d", rec.Code)
	}

	// Over TLS the cookie is Secure.
	r := httptest.NewRequest("POST", "/ui/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.TLS = &tls.ConnectionState{}
	tr := httptest.NewRecorder()
	f.c.ServeHTTP(tr, r)
	if cs := tr.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("cookie over TLS: %v, want one Secure cookie", cs)
	}

	// A tampered, a forged or an expired cookie is no session.
	parts := strings.Split(ck.Value, ".")
	later := parts[0] + "." + "9999999999" + "." + parts[2]
	for name, v := range map[string]string{"tampered expiry": later, "garbage": "x.y.z", "token itself": token} {
		if rec := f.do("GET", "/ui/", nil, &http.Cookie{Name: cookieName, Value: v}); rec.Code != http.StatusSeeOther {
			t.Errorf("%s cookie: %d, want 303 to sign in", name, rec.Code)
		}
	}
	f.now = f.now.Add(sessionTTL + time.Second)
	if rec := f.do("GET", "/ui/", nil, ck); rec.Code != http.StatusSeeOther {
		t.Errorf("expired session: %d, want 303 to sign in", rec.Code)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"/ui/status": "/ui/status", "": "/ui/", "https://evil.example/": "/ui/", "//evil.example/ui/": "/ui/", `/ui/\evil`: "/ui/", "/v1/journeys": "/ui/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// A POST needs the session's CSRF token; with it, the requeue goes
// through the API and the dead letter is pending again.
func TestRequeueCSRF(t *testing.T) {
	f := newFixture(t)
	f.seed()
	ck := f.login()
	q := store.DeadLetterQueue(f.st)
	ctx := context.Background()
	dead, err := q.DeadLetters(ctx, "", 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters before: %v %v", dead, err)
	}
	key := dead[0].Send.Key
	for name, form := range map[string]url.Values{"no token": {"key": {key}}, "wrong token": {"key": {key}, "csrf": {"forged"}}} {
		if rec := f.do("POST", "/ui/dead-letters/requeue", form, ck); rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, rec.Code)
		}
	}
	// Another session's token does not do either.
	other := f.login()
	otherCSRF := csrfOf(t, f.do("GET", "/ui/status", nil, other).Body.String())
	if rec := f.do("POST", "/ui/dead-letters/requeue", url.Values{"key": {key}, "csrf": {otherCSRF}}, ck); rec.Code != http.StatusForbidden {
		t.Errorf("another session's CSRF token: %d, want 403", rec.Code)
	}
	if d, _ := q.DeadLetters(ctx, "", 10); len(d) != 1 {
		t.Fatalf("a refused POST requeued: %v", d)
	}
	csrf := csrfOf(t, f.do("GET", "/ui/status", nil, ck).Body.String())
	rec := f.do("POST", "/ui/dead-letters/requeue", url.Values{"key": {key}, "csrf": {csrf}}, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/status?requeued=1" {
		t.Fatalf("requeue: %d to %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if d, _ := q.DeadLetters(ctx, "", 10); len(d) != 0 {
		t.Errorf("still dead after the requeue: %v", d)
	}
	if body := f.do("GET", "/ui/status?requeued=1", nil, ck).Body.String(); !strings.Contains(body, "1 dead letter(s) requeued") || !strings.Contains(body, "No dead letters") {
		t.Errorf("the status page after a requeue does not say so:\n%s", body)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	ck := f.login()
	csrf := csrfOf(t, f.do("GET", "/ui/", nil, ck).Body.String())
	rec := f.do("POST", "/ui/logout", url.Values{"csrf": {csrf}}, ck)
	cs := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cs) != 1 || cs[0].MaxAge >= 0 || cs[0].Value != "" {
		t.Fatalf("logout: %d, cookies %v; want 303 and the cookie cleared", rec.Code, cs)
	}
}

// Without an admin token the console is open, like the API, and POSTs
// still need the CSRF token of the page.
func TestOpenConsole(t *testing.T) {
	open := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"journeys":[]}`))
	}), Options{})
	rec := httptest.NewRecorder()
	open.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/", nil))
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "Sign out") || !strings.Contains(rec.Body.String(), "no journeys") {
		t.Fatalf("open console: %d\n%s", rec.Code, rec.Body)
	}
	r := httptest.NewRequest("POST", "/ui/dead-letters/requeue", strings.NewReader("all=1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	open.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("open console, POST without CSRF token: %d, want 403", rec.Code)
	}
	rec = httptest.NewRecorder()
	open.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/login", nil))
	if rec.Code != http.StatusSeeOther {
		t.Errorf("sign-in form without a token: %d, want 303 to /ui/", rec.Code)
	}
}

func TestHeadersAndAssets(t *testing.T) {
	f := newFixture(t)
	rec := f.do("GET", "/ui/assets/console.css", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("the style sheet: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers: CSP %q, X-Frame-Options %q", csp, rec.Header().Get("X-Frame-Options"))
	}
	// Nothing the pages load comes from elsewhere.
	ck := f.login()
	for _, path := range []string{"/ui/", "/ui/journeys/welcome", "/ui/status"} {
		body := f.do("GET", path, nil, ck).Body.String()
		if m := externalRE.FindString(body); m != "" {
			t.Errorf("%s loads %s from elsewhere", path, m)
		}
	}
}

// externalRE finds a src or href that leaves the console: absolute URLs
// and protocol-relative ones (the SVG namespace is an identifier, not a
// load).
var externalRE = regexp.MustCompile(`(?:src|href)="(?:https?:)?//[^"]*"`)
