package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/waymark-dev/waymark/internal/testtool"
)

var screenshots = flag.Bool("screenshots", false, "write screenshots of the console's pages to docs/console/*.png")

// browserWatch records what a person would not want to see in a page:
// console errors, uncaught exceptions, error log entries (a CSP
// violation, a failed load) and any request to an address that is not
// this machine's.
type browserWatch struct {
	mu       sync.Mutex
	problems []string
	requests int
}

func (b *browserWatch) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		// The console runs no script of its own: any console call is
		// the browser's (a CSP violation, a failed load) or a bug.
		var args []string
		for _, a := range ev.Args {
			args = append(args, string(a.Value))
		}
		b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
	case *cdpruntime.EventExceptionThrown:
		b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		b.requests++
		if !loopbackURL(ev.Request.URL) {
			b.problems = append(b.problems, "request leaving the machine: "+ev.Request.URL)
		}
	}
}

func (b *browserWatch) check(t *testing.T, where string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("%s: %s", where, p)
	}
	b.problems = nil
}

// loopbackURL reports whether a request stays on this machine: http(s) or
// ws(s) to a loopback address, or a data: URL (no request at all).
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "about":
		return true
	case "http", "https", "ws", "wss":
		if u.Hostname() == "localhost" {
			return true
		}
		ip := net.ParseIP(u.Hostname())
		return ip != nil && ip.IsLoopback()
	}
	return false
}

func TestLoopbackURL(t *testing.T) {
	for raw, want := range map[string]bool{"http://127.0.0.1:8080/ui/": true, "http://[::1]/": true, "data:,": true,
		"https://fonts.googleapis.com/css": false, "http://10.0.0.1/": false, "ftp://127.0.0.1/": false, "//evil": false} {
		if got := loopbackURL(raw); got != want {
			t.Errorf("loopbackURL(%q) = %v, want %v", raw, got, want)
		}
	}
}

// browser is a headless Chromium on one server, with a watch on every
// page it loads; its methods fail the test on an error.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	watch *browserWatch
}

// newBrowser starts Chromium (stopped when the test ends) for pages of
// the server at base.
func newBrowser(ctx context.Context, t *testing.T, chromium, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1366, 900),
		chromedp.UserDataDir(t.TempDir()),
		// Nothing of Chromium's own (safe browsing, updates, metrics) may
		// go out either: it would be a request leaving the machine.
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true), chromedp.Flag("safebrowsing-disable-auto-update", true))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	b := &browser{t: t, ctx: bctx, base: base, watch: &browserWatch{}}
	if err := chromedp.Listen(bctx, b.watch.listen); err != nil {
		t.Fatal(err)
	}
	return b
}

// open loads a page and waits for it (a navigation and a click on a
// submit both end in a load event).
func (b *browser) open(path string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(b.base+path)); err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
}

func (b *browser) submit(sel string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// sees checks the page shows each of want, and that the watch saw no
// problem so far.
func (b *browser) sees(where string, want ...string) {
	b.t.Helper()
	body := b.text()
	for _, w := range want {
		if !strings.Contains(body, w) {
			b.t.Errorf("%s: the page does not show %q; it shows:\n%s", where, w, body)
		}
	}
	b.watch.check(b.t, where)
}

func (b *browser) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(s, b.base)
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// layoutShift is the page's cumulative layout shift since it loaded: the
// sum of the layout-shift entries the browser buffered (none is the aim:
// the pages fix the size of everything they draw). Read through a
// PerformanceObserver with buffered entries, so that it counts shifts
// during the load too.
func (b *browser) layoutShift() float64 {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`new Promise(done => {
		let sum = 0;
		new PerformanceObserver(list => {
			for (const e of list.getEntries()) if (!e.hadRecentInput) sum += e.value;
		}).observe({type: "layout-shift", buffered: true});
		// Two frames: the observer's buffered entries arrive in a task.
		requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(sum), 50)));
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// noLayoutShift fails the test when the page moved after it started to
// draw.
func (b *browser) noLayoutShift(where string) {
	b.t.Helper()
	if cls := b.layoutShift(); cls != 0 {
		b.t.Errorf("%s: the layout shifted (cumulative layout shift %.4f, want 0)", where, cls)
	}
}

// rows returns the text of each row matching sel, a row its cells joined
// by " | ", a cell its first child's text (a header without its hint).
func (b *browser) rows(sel string) []string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelectorAll(%q)].map(
		r => [...r.cells].map(c => (c.firstChild ? c.firstChild.textContent : "").trim()).join(" | "))`, sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// sawRequests fails the test when the watch saw no request at all: its
// network listener would not be working.
func (b *browser) sawRequests() {
	b.t.Helper()
	b.watch.mu.Lock()
	defer b.watch.mu.Unlock()
	if b.watch.requests == 0 {
		b.t.Error("the browser made no request the watch saw: the network listener is not working")
	}
}

// TestConsoleInBrowser drives headless Chromium through the web console of
// a real `waymark run` with an admin token, with data put in through the
// HTTP API: the sign-in, the journeys, a journey's graph, a customer's
// timeline, the status page with a dead letter requeued, the sign-out.
func TestConsoleInBrowser(t *testing.T) {
	chromium := testtool.Require(t, "chromium", "chromium")
	const token = "console-e2e-token"
	// The webhook receiver refuses bob's sends (a 400 is permanent: they go
	// to the dead letters at once) and takes everyone else's.
	var bobTries atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"bob"`) {
			bobTries.Add(1)
			http.Error(w, "no such address", http.StatusBadRequest)
			return
		}
	}))
	defer hook.Close()
	ws := copyDir(t, filepath.Join("testdata", "ws"))
	addJourneyMap(t, filepath.Join(ws, "counter.journey.hcl"))
	addSurveyAndFailingSend(t, ws)
	p := startWaymark(t, []string{"WAYMARK_ADMIN_TOKEN=" + token, "E2E_HOOK_URL=" + hook.URL, "E2E_HOOK_SECRET=s"}, nil,
		"--store", "sqlite:"+filepath.Join(t.TempDir(), "waymark.db"), "--deliver", "live", ws)
	c := newClient(p.base)
	c.token = token
	// Generous: the machine may be shared, and Chromium is slow to start.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	calls := []call{}
	for _, id := range []string{"ann", "bob", "cy", "dee"} {
		calls = append(calls, call{Type: "track", UserID: id, Event: "signed_up", MessageID: "su-" + id})
	}
	calls = append(calls,
		call{Type: "track", UserID: "ann", Event: "ping", MessageID: "p1", Properties: map[string]any{"n": 1}},
		call{Type: "track", UserID: "ann", Event: "ping", MessageID: "p2", Properties: map[string]any{"n": 2}},
		call{Type: "track", UserID: "cy", Event: "park", MessageID: "park-cy"})
	// Survey answers from the customers counting (ann, bob, dee): the CX
	// lanes score them at the stage they were in, count. NPS: two
	// promoters, one detractor of three, 33.3; CSAT: 4 or 5 from two of
	// three, 66.7; CES: the mean effort, (2+3+6)/3 = 3.7.
	for _, r := range []struct {
		id            string
		nps, csat, ce int
	}{{"ann", 10, 5, 2}, {"bob", 9, 4, 3}, {"dee", 3, 2, 6}} {
		calls = append(calls, call{Type: "track", UserID: r.id, Event: "surveyed", MessageID: "sv-" + r.id,
			Properties: map[string]any{"nps": r.nps, "csat": r.csat, "effort": r.ce}})
	}
	if err := c.batch(ctx, calls); err != nil {
		t.Fatal(err)
	}
	// Wait for bob's welcome to be dead-lettered.
	for {
		var dl struct {
			DeadLetters []struct{ Customer string } `json:"dead_letters"`
		}
		if err := c.tryJSON("/v1/dead-letters", &dl); err == nil && len(dl.DeadLetters) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("bob's send was never dead-lettered:\n%s", p.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}

	br := newBrowser(ctx, t, chromium, p.base)
	bctx, watch := br.ctx, br.watch
	open, submit, text, sees, location, count := br.open, br.submit, br.text, br.sees, br.location, br.count
	shoot := func(name string) {
		t.Helper()
		if !*screenshots {
			return
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join("..", "..", "docs", "console")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// 1. Signed out, the console shows the sign-in form, and no data.
	open("/ui/")
	if loc := location(); loc != "/ui/login?next=%2Fui%2F" {
		t.Errorf("signed out, /ui/ went to %q, want the sign-in form", loc)
	}
	sees("sign-in form", "Admin token", "Sign in")
	if strings.Contains(text(), "counter") {
		t.Error("the sign-in form shows a journey")
	}
	shoot("login")
	// A wrong token is refused.
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("token"), "wrong")); err != nil {
		t.Fatal(err)
	}
	submit(`form.login button[type=submit]`)
	b := text()
	if !strings.Contains(b, "not the admin token") {
		t.Errorf("a wrong token: the page says:\n%s", b)
	}
	watch.mu.Lock()
	watch.problems = nil // the 401 of the refused sign-in is logged as a failed load: expected
	watch.mu.Unlock()
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("token"), token)); err != nil {
		t.Fatal(err)
	}
	submit(`form.login button[type=submit]`)
	if loc := location(); loc != "/ui/" {
		t.Errorf("after signing in: at %q, want /ui/", loc)
	}

	// 2. The journeys.
	sees("journeys", "counter", "Counts pings", "greet", "count 3", "parked 1", "Conversion", "0 of 4")
	if n := count(`table.journeys tbody tr`); n != 1 {
		t.Errorf("journeys table: %d rows, want 1", n)
	}
	br.noLayoutShift("journeys")
	shoot("journeys")

	// 3. The journey: its graph, with every stage and its live count.
	open("/ui/journeys/counter")
	sees("journey page", "Stages and moves", "Funnel", "Active customers by stage", "Sends by fate", "Paths", "Journey map",
		"Persona: A customer trying the counter", "Touchpoint", "welcome webhook", "does not know the count", "Reach", "Drop-off", "Time in stage")
	// The graph, the funnel, the active bars, the sends by fate, the Sankey.
	for _, label := range []string{"Stages of counter", "Entries into each stage", "Active customers by stage", "Sends of counter by fate", "Paths through counter", "Expected emotion at each stage of counter"} {
		if n := count(`main svg[role=img][aria-label^="` + label + `"]`); n != 1 {
			t.Errorf("journey page: %d SVG charts labelled %q, want 1", n, label)
		}
	}
	if n := count(`main svg .flow`); n == 0 {
		t.Error("the Sankey of paths has no flows")
	}
	// The emotion curve's points sit under their stages' columns: the
	// style sheet and the curve agree on the column width.
	misaligned, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => {
		const heads = [...document.querySelectorAll(".maplanes thead th")].slice(1);
		const pts = [...document.querySelectorAll(".maplanes svg circle.point")];
		const out = [];
		for (const p of pts) {
			const r = p.getBoundingClientRect(), cx = r.left + r.width / 2;
			const name = p.querySelector("title").textContent.split(":")[0];
			const h = heads.find(h => h.textContent === name);
			if (!h) { out.push(name + ": no column"); continue; }
			const hr = h.getBoundingClientRect();
			if (Math.abs(cx - (hr.left + hr.width / 2)) > 2) out.push(name + ": point at " + cx + ", column centre " + (hr.left + hr.width / 2));
		}
		return pts.length ? out.join("; ") : "no points";
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if misaligned != "" {
		t.Errorf("the emotion curve does not line up with the stages: %s", misaligned)
	}
	graph, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(`main svg`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"greet", "count", "bump", "parked", "end", "3 active · 6 in", "1 active · 1 in", "on ping · 2", "after 4w 2d"} {
		if !strings.Contains(graph, w) {
			t.Errorf("the journey graph lacks %q: %s", w, graph)
		}
	}
	// The journey map: the designed lanes from the map blocks, a column a
	// stage (greet, count, bump, parked), above the measured ones with
	// the CX metrics scored at count, where the answers came in.
	lanes := br.rows(".maplanes tbody tr")
	for _, want := range []string{
		"Phase | interest | use |  | use",
		"Touchpoint | welcome webhook | app |  | none: parked",
		"Pain points |  | does not know the count |  | ",
		"Opportunities | say what a ping does |  |  | ",
		"NPS nps", "| – | 33.3 (n 3) | – | –",
		"CSAT csat", "| – | 66.7 (n 3) | – | –",
		"CES effort", "| – | 3.7 (n 3) | – | –",
	} {
		if !slices.ContainsFunc(lanes, func(r string) bool { return strings.Contains(r, want) }) {
			t.Errorf("the journey map has no row with %q; its rows:\n%s", want, strings.Join(lanes, "\n"))
		}
	}
	br.noLayoutShift("journey")
	shoot("journey")

	// 4. A customer, found with the search box: the timeline.
	open("/ui/")
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("find-id"), "ann")); err != nil {
		t.Fatal(err)
	}
	submit(`form.find button`)
	if loc := location(); loc != "/ui/customers/ann" {
		t.Errorf("the search went to %q", loc)
	}
	sees("customer ann", "Where they are", "event signed_up", "event ping", "counter: (entry) → greet", "cause: on:ping", "welcome via hook", "fate: deliver")
	// One batch brought ann's inputs: each comes before what it caused, the
	// survey's answers too.
	tl := br.rows("table.timeline tbody tr")
	var order []string
	for _, r := range tl {
		cells := strings.Split(r, " | ")
		if len(cells) >= 3 {
			order = append(order, cells[1]+": "+cells[2])
		}
	}
	wantOrder := []string{
		"input: event signed_up",
		"transition: counter: (entry) → greet",
		"send: counter/greet: welcome via hook",
		"transition: counter: greet → count",
		"input: event ping",
		"transition: counter: count → bump",
		"send: counter/bump: pinged via hook",
		"transition: counter: bump → count",
		"input: event ping",
		"transition: counter: count → bump",
		"send: counter/bump: pinged via hook",
		"transition: counter: bump → count",
		"input: event surveyed",
		"response: nps: 10",
		"response: csat: 5",
		"response: effort: 2",
	}
	if len(order) < len(wantOrder) || strings.Join(order[:len(wantOrder)], "\n") != strings.Join(wantOrder, "\n") {
		t.Errorf("ann's timeline:\n%s\nwant it to start:\n%s", strings.Join(order, "\n"), strings.Join(wantOrder, "\n"))
	}
	br.noLayoutShift("customer")
	shoot("customer")
	open("/ui/customers/bob")
	sees("customer bob", "delivery: dead", "no such address")

	// 5. Status: the running version and the dead letter, requeued.
	open("/ui/status")
	sees("status", "Running program", "The files on disk are what runs.", "Dead letters", "bob", "counter/welcome", "no such address",
		"Failed sends", "counter/parked: note")
	if n := count(`main svg`); n != 0 {
		t.Errorf("status page: %d SVGs, want none", n)
	}
	// SQLite: not a cluster, so no cluster section.
	if n := count(`#cluster-h`); n != 0 {
		t.Errorf("status page on SQLite: %d cluster sections, want none", n)
	}
	if got := br.rows("table.failed tbody tr"); len(got) != 1 || !strings.Contains(got[0], "cy") {
		t.Errorf("failed sends: %q, want cy's note", got)
	}
	br.noLayoutShift("status")
	shoot("status")
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`input[name=key]`))); err != nil {
		t.Fatal(err)
	}
	submit(`table.dead ~ button[type=submit]:not([name])`)
	sees("after the requeue", "1 dead letter(s) requeued")
	// Requeued, bob's welcome goes to the receiver again.
	for bobTries.Load() < 2 {
		if ctx.Err() != nil {
			t.Fatalf("the requeued dead letter was not sent again (%d tries)", bobTries.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The customers list, with their stages.
	open("/ui/customers")
	sees("customers", "ann", "bob", "cy", "dee", "counter: count", "counter: parked")
	br.noLayoutShift("customers")
	shoot("customers")

	// The layout-shift measure can see a shift: a block pushed in above
	// the content moves it (on a page just loaded: a screenshot before
	// changes the viewport).
	open("/ui/customers")
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => {
		const d = document.createElement("div");
		d.style.height = "200px";
		document.querySelector("main").prepend(d);
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	if cls := br.layoutShift(); cls <= 0 {
		t.Errorf("a block pushed in above the content measured no layout shift (%.4f): the measure does not work", cls)
	}

	// 6. Sign out: the console asks for the token again.
	submit(`header form[action="/ui/logout"] button`)
	open("/ui/status")
	if loc := location(); !strings.HasPrefix(loc, "/ui/login") {
		t.Errorf("after signing out, /ui/status is at %q, want the sign-in form", loc)
	}
	watch.check(t, "sign-out")
	br.sawRequests()
}

// addJourneyMap gives the counter journey (in a test's copy of the
// workspace) a persona and map blocks, for the journey map lanes.
func addJourneyMap(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for _, r := range [][2]string{
		{`reentry     = "never"`, `reentry     = "never"
  persona     = "A customer trying the counter"`},
		{`stage "greet" {`, `stage "greet" {
    map {
      phase         = "interest"
      touchpoint    = "welcome webhook"
      emotion       = 1
      opportunities = ["say what a ping does"]
    }`},
		{`stage "count" {`, `stage "count" {
    map {
      phase       = "use"
      touchpoint  = "app"
      emotion     = 0
      pain_points = ["does not know the count"]
    }`},
		{`stage "parked" {`, `stage "parked" {
    map {
      phase      = "use"
      touchpoint = "none: parked"
      emotion    = -2
    }`},
	} {
		if !strings.Contains(src, r[0]) {
			t.Fatalf("%s has no %q to add the map after", path, r[0])
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// addSurveyAndFailingSend gives a test's copy of the workspace a survey
// event scored by three CX metrics (NPS, CSAT, CES), and a send in parked
// whose field reads a trait nobody has, so that it fails (the failed
// sends on the status page).
func addSurveyAndFailingSend(t *testing.T, ws string) {
	t.Helper()
	schema := filepath.Join(ws, "schema.journey.hcl")
	b, err := os.ReadFile(schema)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), `trait "pings" { type = number }`, `trait "pings" { type = number }
  trait "phone" { type = string }`, 1) + `
event "surveyed" {
  property "nps" { type = number }
  property "csat" { type = number }
  property "effort" { type = number }
}
metric "nps" {
  kind  = "nps"
  event = "surveyed"
  value = event.nps
}
metric "csat" {
  kind  = "csat"
  event = "surveyed"
  value = event.csat
}
metric "effort" {
  kind  = "ces"
  event = "surveyed"
  value = event.effort
}
`
	if err := os.WriteFile(schema, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	journey := filepath.Join(ws, "counter.journey.hcl")
	b, err = os.ReadFile(journey)
	if err != nil {
		t.Fatal(err)
	}
	const at = `on "unpark" { goto = stage.count }`
	if !strings.Contains(string(b), at) {
		t.Fatalf("%s has no %q to add the send before", journey, at)
	}
	src = strings.Replace(string(b), at, `send "note" {
      channel = channel.hook
      data    = { text = "call ${customer.phone}" }
    }
    `+at, 1)
	if err := os.WriteFile(journey, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
