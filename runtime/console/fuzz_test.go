package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzConsole sends the console requests it has never seen: any method,
// path, form and cookie. Whatever comes, it answers without a panic or a
// 5xx, and without a session it shows no customer's data (the seeded
// customers' traits).
func FuzzConsole(f *testing.F) {
	fx := newFixture(f)
	fx.seed()
	for _, seed := range []struct{ method, path, form, cookie string }{
		{"GET", "/ui/", "", ""},
		{"GET", "/ui/customers/ann", "", "x.y.z"},
		{"GET", "/ui/journeys/welcome?since=2026-01-01T00:00:00Z&until=bad", "", ""},
		{"POST", "/ui/login", "token=wrong&next=//evil.example/", ""},
		{"POST", "/ui/login", "token=" + token + "&next=/ui/%2e%2e/v1", ""},
		{"POST", "/ui/dead-letters/requeue", "all=1&csrf=x", "a.9999999999.b"},
		{"POST", "/ui/logout", "csrf=", ""},
		{"GET", "/ui/customers/%00%ff", "", ""},
		{"GET", "/ui/assets/../templates/layout.html", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.form, seed.cookie)
	}
	f.Fuzz(func(t *testing.T, method, path, form, cookie string) {
		if method != "GET" && method != "POST" {
			method = "GET"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		r, err := http.NewRequest(method, "http://waymark"+path, strings.NewReader(form))
		if err != nil {
			return // not a request a client can send
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.Header.Set("Cookie", cookieName+"="+cookie)
		}
		rec := httptest.NewRecorder()
		fx.c.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d\n%s", method, path, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "@example.com") {
			t.Fatalf("%s %s with cookie %q, signed in with no valid session, shows a customer's traits", method, path, cookie)
		}
	})
}
