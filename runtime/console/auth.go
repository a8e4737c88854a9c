package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sessions. With an admin token set, a person signs in once with the token
// and the browser keeps a cookie:
//
//	waymark_session = NONCE "." EXPIRY "." base64url(HMAC-SHA256(key, "session" NONCE EXPIRY))
//
// where key = SHA-256("waymark console" TOKEN). The cookie holds an HMAC of
// the token, never the token itself: a cookie copied out of a browser (a
// backup, a shared profile, a proxy log) opens the console until it
// expires, but does not give the bearer token, which also opens the admin
// API from anywhere and does not expire; and the token cannot be recovered
// from it. The server keeps no session table: it recomputes the HMAC,
// so a restart keeps people signed in and a new token signs everyone out.
// The cookie is HttpOnly (no script reads it), SameSite=Strict (no other
// site's page sends it, the first defence against cross-site requests)
// and Secure when the request came over TLS.
//
// Every form that changes something (requeue, sign-out) also carries the
// session's CSRF token, HMAC(key, "csrf" NONCE), checked on POST: a second
// defence for browsers that do not honour SameSite. Without an admin token
// there is no session; the CSRF token is then an HMAC under a key drawn at
// start, so a form from another site still cannot guess it.

const (
	cookieName = "waymark_session"
	sessionTTL = 12 * time.Hour
	csrfField  = "csrf"
)

type session struct{ nonce string }

func newKey(token string) []byte {
	if token == "" {
		k := make([]byte, 32)
		rand.Read(k)
		return k
	}
	sum := sha256.Sum256([]byte("waymark console" + token))
	return sum[:]
}

func (c *Console) mac(parts ...string) string {
	m := hmac.New(sha256.New, c.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession makes a session cookie value.
func (c *Console) newSession(now time.Time) string {
	b := make([]byte, 16)
	rand.Read(b)
	nonce := base64.RawURLEncoding.EncodeToString(b)
	exp := strconv.FormatInt(now.Add(sessionTTL).Unix(), 10)
	return nonce + "." + exp + "." + c.mac("session", nonce, exp)
}

// session returns the request's valid session, if any. Without an admin
// token every request has the one open session.
func (c *Console) session(r *http.Request) (session, bool) {
	if c.opts.AdminToken == "" {
		return session{}, true
	}
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 3 {
		return session{}, false
	}
	want := c.mac("session", parts[0], parts[1])
	if subtle.ConstantTimeCompare([]byte(want), []byte(parts[2])) != 1 {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || c.now().Unix() >= exp {
		return session{}, false
	}
	return session{nonce: parts[0]}, true
}

func (c *Console) csrfToken(s session) string { return c.mac("csrf", s.nonce) }

// checkCSRF reports whether a POST's form carries the session's token.
func (c *Console) checkCSRF(r *http.Request, s session) bool {
	got := r.PostFormValue(csrfField)
	return subtle.ConstantTimeCompare([]byte(got), []byte(c.csrfToken(s))) == 1
}

func (c *Console) validToken(tok string) bool {
	a := sha256.Sum256([]byte(tok))
	b := sha256.Sum256([]byte(c.opts.AdminToken))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: "/ui/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}
