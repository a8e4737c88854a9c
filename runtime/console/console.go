package console

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed assets templates
var files embed.FS

// Options configure a Console.
type Options struct {
	// AdminToken, when set, is required to sign in, and is what the
	// console sends to the admin API in process. The same token as the
	// API's (server.Options.AdminToken).
	AdminToken string
	// Now is the clock for session expiry (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Console is the web console, an http.Handler for the paths under /ui/.
type Console struct {
	api  http.Handler
	opts Options
	key  []byte
	tpl  map[string]*template.Template
	mux  *http.ServeMux
	log  *slog.Logger
}

// New returns the console over the admin API api (a *server.Server).
func New(api http.Handler, opts Options) *Console {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Console{api: api, opts: opts, key: newKey(opts.AdminToken), mux: http.NewServeMux(), log: opts.Logger}
	c.tpl = parseTemplates()
	assets, _ := fs.Sub(files, "assets")
	c.mux.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", cacheFor(http.FileServerFS(assets))))
	c.mux.HandleFunc("GET /ui/login", c.handleLoginForm)
	c.mux.HandleFunc("POST /ui/login", c.handleLogin)
	c.mux.HandleFunc("POST /ui/logout", c.signedIn(c.handleLogout))
	c.mux.HandleFunc("GET /ui/{$}", c.signedIn(c.handleIndex))
	c.mux.HandleFunc("GET /ui/journeys/{name}", c.signedIn(c.handleJourney))
	c.mux.HandleFunc("GET /ui/customers", c.signedIn(c.handleFindCustomer))
	c.mux.HandleFunc("GET /ui/customers/{id}", c.signedIn(c.handleCustomer))
	c.mux.HandleFunc("GET /ui/status", c.signedIn(c.handleStatus))
	c.mux.HandleFunc("POST /ui/dead-letters/requeue", c.signedIn(c.handleRequeue))
	return c
}

func (c *Console) now() time.Time { return c.opts.Now() }

// ServeHTTP serves the console. Every page says it may not be framed
// (clickjacking) and loads nothing from elsewhere (CSP), which also keeps
// the console working offline.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// page is what every template gets: its own data in Data.
type page struct {
	Title    string
	Nav      string // which item of the navigation is current
	CSRF     string
	SignedIn bool // with a token: shows the sign-out button
	Error    string
	Flash    string
	Data     any
}

type pageHandler func(w http.ResponseWriter, r *http.Request, s session) (name string, p page)

// signedIn wraps a page: without a valid session (when a token is set) a
// GET goes to the sign-in form and a POST is refused; a POST must carry the
// session's CSRF token.
func (c *Console) signedIn(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.session(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not signed in: sign in at /ui/login", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && !c.checkCSRF(r, s) {
			http.Error(w, "the form's CSRF token is missing or wrong: reload the page and submit it again", http.StatusForbidden)
			return
		}
		name, p := h(w, r, s)
		if name == "" {
			return // answered (a redirect)
		}
		p.CSRF = c.csrfToken(s)
		p.SignedIn = c.opts.AdminToken != ""
		c.render(w, http.StatusOK, name, p)
	}
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	var b strings.Builder
	if err := c.tpl[name].ExecuteTemplate(&b, "layout", p); err != nil {
		c.log.Error("console: rendering failed", "page", name, "err", err)
		http.Error(w, "rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// errText is what a page shows for a failed API read.
func errText(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Msg
	}
	return err.Error()
}

func (c *Console) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if c.opts.AdminToken == "" {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	c.render(w, http.StatusOK, "login", page{Title: "Sign in", Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

type loginData struct{ Next string }

// handleLogin checks the token and sets the session cookie. The form needs
// no CSRF token: signing someone in with a token the attacker would have
// to know already gains them nothing.
func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	if c.opts.AdminToken == "" {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if !c.validToken(r.PostFormValue("token")) {
		c.render(w, http.StatusUnauthorized, "login", page{Title: "Sign in", Error: "That token is not the admin token (WAYMARK_ADMIN_TOKEN).", Data: loginData{Next: next}})
		return
	}
	c.setCookie(w, r, c.newSession(c.now()), int(sessionTTL/time.Second))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request, s session) (string, page) {
	c.setCookie(w, r, "", -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
	return "", page{}
}

// safeNext keeps a redirect target inside the console, so that the sign-in
// form cannot be used to send someone elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/ui/"
	}
	return next
}
