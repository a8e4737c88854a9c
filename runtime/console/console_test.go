package console

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/runtime/cluster"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/manualclock"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/server"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

const token = "s3cret-admin-token"

var start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// fixture is the console over a real admin API: a real worker on a real
// SQLite file, a manual clock (so the pages' times are fixed), data put in
// through the API's ingest.
type fixture struct {
	t   testing.TB
	st  *sqlite.Store
	api *server.Server
	c   *Console
	now time.Time
	clk *manualclock.Clock
}

// newFixture builds the fixture; opts, when given, change the API's
// options (a cluster's status, say).
func newFixture(t testing.TB, opts ...func(*server.Options)) *fixture {
	t.Helper()
	res, diags := compiler.CompileDir("testdata/ws")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	var w *worker.Worker
	clock := manualclock.New(start, st, func(ctx context.Context, items []worker.Item) error { return w.Submit(ctx, items) })
	w = worker.New(st, eng, worker.Options{Now: clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	// A status as the reloader reports one after a migration and a
	// refused edit since.
	status := reload.Status{
		Workspace: "shop", Version: "0123456789abcdef0123", Journeys: []reload.JourneyVersion{{Name: "welcome", Version: res.Program.Journeys[0].Version}},
		Started: start.Add(-time.Hour), LastReload: start.Add(-30 * time.Minute), Reloads: 1, Refusals: 1,
		Migration: &reload.Migration{Version: "0123456789abcdef0123", Started: start.Add(-30 * time.Minute), Finished: start.Add(-29 * time.Minute), Woken: 3,
			Summary: &diff.Summary{InFlight: 3, Stay: 2, Moved: 1}},
		Refused: &reload.Refused{At: start.Add(-time.Minute), Errors: 1,
			Diagnostics: json.RawMessage(`[{"severity":"error","file":"shop.journey.hcl","line":30,"col":12,"message":"no stage \"cout\""}]`)},
	}
	so := server.Options{AdminToken: token, Clock: clock, Status: func() any { return status }}
	for _, o := range opts {
		o(&so)
	}
	api := server.New(st, w, so)
	f := &fixture{t: t, st: st, api: api, now: start, clk: clock}
	f.c = New(api, Options{AdminToken: token, Now: func() time.Time { return f.now }})
	return f
}

// ingest posts a body to the API's ingest route.
func (f *fixture) ingest(path, body string) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
	if rec.Code != 200 {
		f.t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
	}
	// A minute between inputs, so the timeline's order is the order of
	// what happened.
	if _, err := f.clk.Advance(context.Background(), f.clk.Now().Add(time.Minute)); err != nil {
		f.t.Fatal(err)
	}
}

// seed puts in three customers; one pinged twice (the loop), and one
// hello send dead (delivery gave up on it).
func (f *fixture) seed() {
	f.t.Helper()
	for _, id := range []string{"ann", "bob", "cy"} {
		f.ingest("/v1/identify", `{"userId":"`+id+`","traits":{"email":"`+id+`@example.com"},"messageId":"id-`+id+`"}`)
		f.ingest("/v1/track", `{"userId":"`+id+`","event":"signed_up","properties":{"source":"ad"},"messageId":"su-`+id+`"}`)
	}
	f.ingest("/v1/track", `{"userId":"ann","event":"ping","messageId":"p1"}`)
	f.ingest("/v1/track", `{"userId":"ann","event":"ping","messageId":"p2"}`)
	ctx := context.Background()
	items, err := f.st.ClaimOutbox(ctx, f.clk.Now(), time.Minute, 100)
	if err != nil || len(items) == 0 {
		f.t.Fatalf("claim: %v (%d items)", err, len(items))
	}
	for _, it := range items {
		if strings.HasPrefix(it.Send.Key, "bob/") {
			if err := f.st.Dead(ctx, it.Send.Key, 5, start.Add(time.Minute), "log channel: connection refused"); err != nil {
				f.t.Fatal(err)
			}
		} else if err := f.st.Delivered(ctx, it.Send.Key, start); err != nil {
			f.t.Fatal(err)
		}
	}
}

// do serves one request with the given cookies (and form, for a POST).
func (f *fixture) do(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	f.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	f.c.ServeHTTP(rec, r)
	return rec
}

// login signs in with the token and returns the session cookie.
func (f *fixture) login() *http.Cookie {
	f.t.Helper()
	rec := f.do("POST", "/ui/login", url.Values{"token": {token}, "next": {"/ui/status"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/status" {
		f.t.Fatalf("login: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	f.t.Fatal("login set no session cookie")
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the CSRF token a rendered page carries in its forms.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the page has no form with a CSRF token")
	}
	return m[1]
}

func goldenHTML(t *testing.T, name, got string) {
	t.Helper()
	// The CSRF token is random per session: the golden files hold a
	// placeholder.
	got = csrfRE.ReplaceAllString(got, `name="csrf" value="CSRF"`)
	path := filepath.Join("testdata", name+".html")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (go test -update rewrites it after a deliberate change); got:\n%s", name, path, got)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	f.seed()
	ck := f.login()
	tests := []struct {
		name, path string
		code       int
		want       []string // what a person must see, besides the golden file
	}{
		{"index", "/ui/", 200, []string{`<a href="/ui/journeys/welcome">welcome</a>`, `<td class="n">3</td>`, "Greets new customers &amp; counts their pings", "0.0%<div class=\"desc\">0 of 3</div>"}},
		{"journey", "/ui/journeys/welcome", 200, []string{"<svg", `aria-label="Stages of welcome`, "mail 50%, holdout 50% · 3 · 100%", "on ping · 2", "after 4w 2d", "3 active · 5 in",
			`aria-label="Entries into each stage`, `aria-label="Sends of welcome by fate"`, `aria-label="Paths through welcome`, "Split in greet, against holdout", `aria-label="Conversion lift`, "<th scope=\"row\" title=\"customers who entered the stage\">Reach",
			"Journey map", "Persona: A new customer trying the shop.", "<td>does not know what to do next</td>", "<td>interest</td><td>use</td><td></td>", `aria-label="Expected emotion at each stage of welcome, from -2 to 2"`}},
		{"journey_range", "/ui/journeys/welcome?until=2026-01-05T09:00:00Z", 200, []string{"Over this range: 0 entered", "Entries until 2026-01-05 09:00:00Z (the analytics count whole UTC hours)"}},
		// The API widens a range to whole hours: until 09:00:30 counts the
		// hour from 09:00, everyone's.
		{"journey_range_hours", "/ui/journeys/welcome?until=2026-01-05T09:00:30Z", 200, []string{"Over this range: 3 entered", "Entries until 2026-01-05 10:00:00Z (the analytics count whole UTC hours)"}},
		{"journey_bad_range", "/ui/journeys/welcome?since=yesterday", 200, []string{"Analytics: since: &#34;yesterday&#34; is not an RFC 3339 time"}},
		{"journey_missing", "/ui/journeys/nope", 404, []string{`No journey &#34;nope&#34;`}},
		{"customer", "/ui/customers/ann", 200, []string{"event ping", "welcome: (entry) → greet", "cause: ", "hello via log", "fate: deliver"}},
		{"customer_bob", "/ui/customers/bob", 200, []string{"delivery: dead", "last error: log channel: connection refused", `class="send warn"`}},
		{"customer_missing", "/ui/customers/zed", 404, []string{"no customer &#34;zed&#34;"}},
		{"status", "/ui/status", 200, []string{"Refused edit", `no stage \&#34;cout\&#34;`, "log channel: connection refused", "Requeue all", `<td class="n">3</td>`,
			"Failed sends", `<a href="/ui/customers/ann">ann</a></td><td>welcome/bump: tally</td><td>log</td><td>field data: Invalid template interpolation value`}},
		{"customers", "/ui/customers", 200, []string{`<a href="/ui/customers/ann">ann</a>`, `<a href="/ui/customers/cy">cy</a>`, "welcome: count", "email: bob@example.com"}},
		{"customers_q", "/ui/customers?q=email:cy@example.com", 200, []string{`<a href="/ui/customers/cy">cy</a>`, "matching email:cy@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do("GET", tt.path, nil, ck)
			if rec.Code != tt.code {
				t.Fatalf("GET %s: %d, want %d\n%s", tt.path, rec.Code, tt.code, rec.Body)
			}
			body := rec.Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: the page lacks %q", tt.path, w)
				}
			}
			goldenHTML(t, tt.name, body)
		})
	}
}

// TestTimelineOrder: the inputs of one batch are handled in one commit, at
// one time; the timeline still puts each input before what it caused and
// after what the inputs before it caused, whatever lists the API keeps
// them in.
func TestTimelineOrder(t *testing.T) {
	f := newFixture(t)
	ck := f.login()
	// A time with nanoseconds, as a real clock gives: the stores keep some
	// records' times to the microsecond and others' to the nanosecond.
	if _, err := f.clk.Advance(context.Background(), f.clk.Now().Add(time.Second+1234*time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	f.ingest("/v1/batch", `{"batch":[`+
		`{"type":"identify","userId":"dee","traits":{"email":"dee@example.com"},"messageId":"b1"},`+
		`{"type":"track","userId":"dee","event":"signed_up","messageId":"b2"},`+
		`{"type":"track","userId":"dee","event":"ping","messageId":"b3"},`+
		`{"type":"track","userId":"dee","event":"rated","properties":{"score":9},"messageId":"b3r"},`+
		`{"type":"track","userId":"dee","event":"ordered","messageId":"b4"},`+
		`{"type":"track","userId":"dee","event":"ping","messageId":"b5"}]}`)
	rec := f.do("GET", "/ui/customers/dee", nil, ck)
	if rec.Code != 200 {
		t.Fatalf("GET /ui/customers/dee: %d\n%s", rec.Code, rec.Body)
	}
	row := regexp.MustCompile(`<tr class="[a-z ]+"><td>([^<]*)</td><td>([a-z]+)</td><td>([^<]*)</td>`)
	var got []string
	times := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(rec.Body.String(), -1) {
		times[m[1]] = true
		got = append(got, m[2]+": "+m[3])
	}
	want := []string{
		"input: identify",
		"input: event signed_up",
		"transition: welcome: (entry) → greet",
		"send: welcome/greet: hello via log",
		"transition: welcome: greet → count",
		"input: event ping",
		"transition: welcome: count → bump",
		"error: welcome/bump: send tally data",
		"send: welcome/bump: tally via log",
		"transition: welcome: bump → count",
		"input: event rated",
		"response: nps: 9",
		"input: event ordered",
		"transition: welcome: count → end",
		"input: event ping",
	}
	if len(times) != 1 {
		t.Errorf("the batch's entries are at %d times, want 1 (one commit): the test would not test the order within a commit", len(times))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPaging: the long lists show a page at a time, with a link to the
// next page (the API's cursor) and back to the first, and every entry is
// on exactly one page.
func TestPaging(t *testing.T) {
	defer func(n int) { listPage = n }(listPage)
	listPage = 2
	f := newFixture(t)
	f.seed()
	f.ingest("/v1/track", `{"userId":"bob","event":"ping","messageId":"p3"}`)
	f.ingest("/v1/track", `{"userId":"cy","event":"ping","messageId":"p4"}`)
	// Two more dead letters beside bob's: dan's and eve's hello.
	for _, id := range []string{"dan", "eve"} {
		f.ingest("/v1/track", `{"userId":"`+id+`","event":"signed_up","messageId":"su-`+id+`"}`)
	}
	ctx := context.Background()
	items, err := f.st.ClaimOutbox(ctx, f.clk.Now(), time.Minute, 100)
	if err != nil || len(items) != 2 {
		t.Fatalf("claim: %v (%d items, want dan's and eve's)", err, len(items))
	}
	for _, it := range items {
		if err := f.st.Dead(ctx, it.Send.Key, 5, f.clk.Now(), "refused"); err != nil {
			t.Fatal(err)
		}
	}
	ck := f.login()
	item := map[string]*regexp.Regexp{
		"dead":      regexp.MustCompile(`<td><a href="/ui/customers/([a-z]+)">[a-z]+</a></td><td>welcome/hello</td>`),
		"customers": regexp.MustCompile(`<th scope="row"><a href="/ui/customers/([a-z]+)">`),
		"failed":    regexp.MustCompile(`<tr><td>[^<]+</td><td><a href="/ui/customers/([a-z]+)">[a-z]+</a></td><td>welcome/bump: tally`),
	}
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	tests := []struct {
		name, start, list string
		want              []string // every entry over the pages, in order
		pages             int
		label             string // the pager's name for a screen reader
	}{
		{"customers", "/ui/customers", "customers", []string{"ann", "bob", "cy", "dan", "eve"}, 3, "Pages of customers"},
		// In key order, the API's.
		{"dead letters", "/ui/status", "dead", []string{"bob", "dan", "eve"}, 2, "Pages of dead letters"},
		// The API gives a next cursor after a full page: a last, empty
		// page says there is nothing more.
		{"failed sends", "/ui/status", "failed", []string{"ann", "ann", "bob", "cy"}, 3, "Pages of failed sends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			pages := 0
			for path := tt.start; path != ""; pages++ {
				if pages > 10 {
					t.Fatal("more than 10 pages: the next link loops")
				}
				rec := f.do("GET", path, nil, ck)
				if rec.Code != 200 {
					t.Fatalf("GET %s: %d", path, rec.Code)
				}
				body := rec.Body.String()
				for _, m := range item[tt.list].FindAllStringSubmatch(body, -1) {
					got = append(got, m[1])
				}
				if pages > 0 && !strings.Contains(body, ">First page</a>") {
					t.Errorf("GET %s: no link to the first page", path)
				}
				if !strings.Contains(body, `<nav class="pager" aria-label="`+tt.label+`">`) {
					t.Errorf("GET %s: no pager named %q", path, tt.label)
				}
				// The list's own pager: the status page has two.
				path = ""
				if m := next.FindStringSubmatch(pagerOf(body, tt.label)); m != nil {
					path = html.UnescapeString(m[1])
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") || pages != tt.pages {
				t.Errorf("over %d pages: %v, want %v over %d", pages, got, tt.want, tt.pages)
			}
		})
	}
}

// pagerOf is the pager named label in body, "" when there is none.
func pagerOf(body, label string) string {
	_, rest, ok := strings.Cut(body, `<nav class="pager" aria-label="`+label+`">`)
	if !ok {
		return ""
	}
	nav, _, _ := strings.Cut(rest, "</nav>")
	return nav
}

// TestStatusCluster: on a cluster the status page shows its nodes, shards
// and a program skew; elsewhere (TestPages' status) the section is absent.
func TestStatusCluster(t *testing.T) {
	hb := start.Add(-2 * time.Second)
	cs := &cluster.Status{Node: "n1", ShardCount: 2, Programs: []string{"sha256:aaaaaaaaaaaaaaaa", "sha256:bbbbbbbbbbbbbbbb"},
		Nodes: []cluster.NodeInfo{
			{ID: "n1", Addr: "10.0.0.1:8080", Program: "sha256:aaaaaaaaaaaaaaaa", Heartbeat: hb, Live: true, Shards: []int{0}},
			{ID: "n2", Addr: "10.0.0.2:8080", Program: "sha256:bbbbbbbbbbbbbbbb", Heartbeat: hb, Live: true, Shards: []int{1}},
			{ID: "n3", Addr: "10.0.0.3:8080", Program: "sha256:aaaaaaaaaaaaaaaa", Heartbeat: hb.Add(-time.Minute), Shards: []int{}},
		},
		Shards: []cluster.ShardInfo{{Shard: 0, Owner: "n1", Epoch: 4, LeaseUntil: start.Add(10 * time.Second)}, {Shard: 1, Owner: "n2", Epoch: 7, LeaseUntil: start.Add(10 * time.Second)}},
	}
	tests := []struct {
		name    string
		cluster func(context.Context) (any, error)
		want    []string
		absent  []string
	}{
		{"cluster", func(context.Context) (any, error) { return cs, nil }, []string{
			`<h2 id="cluster-h">Cluster</h2>`, "<dt>Answered by</dt><dd>n1</dd>", "run 2 program versions",
			`<th scope="row">n2</th><td>10.0.0.2:8080</td>`, `<tr class="warn"><th scope="row">n3</th>`, "not live",
			`<td class="n">1</td><td>n2</td><td class="n">7</td>`}, nil},
		{"cluster unreadable", func(context.Context) (any, error) { return nil, errors.New("connection refused") }, []string{
			`<h2 id="cluster-h">Cluster</h2>`, "store: reading the cluster failed: connection refused"}, []string{"Answered by"}},
		{"no cluster", nil, nil, []string{"cluster-h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *server.Options) { o.Cluster = tt.cluster })
			body := f.do("GET", "/ui/status", nil, f.login()).Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("the status page lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("the status page shows %q", a)
				}
			}
			if t.Failed() {
				t.Log(body)
			}
		})
	}
}

// TestIndexPaging: the journeys page shows listPage journeys at a time and
// reads the analytics of those only (one read a journey shown), with links
// on to the next page and back to the first. The API here is a fake: the
// paging is the console's own, over a list the API gives whole.
func TestIndexPaging(t *testing.T) {
	defer func(n int) { listPage = n }(listPage)
	listPage = 2
	var analyticsReads []string
	api := http.NewServeMux()
	api.HandleFunc("GET /v1/journeys", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"journeys":[{"name":"j1","version":"v","active":0,"stages":[],"versions":[]},` +
			`{"name":"j2","version":"v","active":0,"stages":[],"versions":[]},{"name":"j3","version":"v","active":0,"stages":[],"versions":[]}]}`))
	})
	api.HandleFunc("GET /v1/journeys/{name}/analytics", func(w http.ResponseWriter, r *http.Request) {
		analyticsReads = append(analyticsReads, r.PathValue("name"))
		w.Write([]byte(`{"journey":"` + r.PathValue("name") + `","entered":4,"converted":1}`))
	})
	c := New(api, Options{})
	row := regexp.MustCompile(`<th scope="row"><a href="/ui/journeys/(j[0-9])">`)
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	tests := []struct {
		path, want, reads, next string
		first                   bool
	}{
		{"/ui/", "j1 j2", "j1 j2", "/ui/?from=2", false},
		{"/ui/?from=2", "j3", "j3", "", true},
		{"/ui/?from=9", "j1 j2", "j1 j2", "/ui/?from=2", true}, // out of range: the first page
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			analyticsReads = nil
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			body := rec.Body.String()
			var got []string
			for _, m := range row.FindAllStringSubmatch(body, -1) {
				got = append(got, m[1])
			}
			gotNext := ""
			if m := next.FindStringSubmatch(body); m != nil {
				gotNext = html.UnescapeString(m[1])
			}
			if strings.Join(got, " ") != tt.want || strings.Join(analyticsReads, " ") != tt.reads || gotNext != tt.next ||
				strings.Contains(body, ">First page</a>") != tt.first {
				t.Errorf("journeys %v, analytics read for %v, next %q, first page link %v; want %s, %s, %q, %v",
					got, analyticsReads, gotNext, strings.Contains(body, ">First page</a>"), tt.want, tt.reads, tt.next, tt.first)
			}
			if !strings.Contains(body, "25.0%") {
				t.Errorf("no conversion (1 of 4) shown:\n%s", body)
			}
		})
	}
}
