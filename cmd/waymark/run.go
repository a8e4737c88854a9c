package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/waymark-dev/waymark/lang/timespec"
	"github.com/waymark-dev/waymark/runtime/cluster"
	"github.com/waymark-dev/waymark/runtime/consent/linktoken"
	"github.com/waymark-dev/waymark/runtime/console"
	"github.com/waymark-dev/waymark/runtime/deliver"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/heap"
	"github.com/waymark-dev/waymark/runtime/manualclock"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/server"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/pebble"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

var runCommand = &command{
	name:     "run",
	summary:  "run a workspace: take events over HTTP, fire timers, deliver sends, reload on edits",
	synopsis: "[--listen ADDR] [--store sqlite:FILE|pebble:DIR|postgres://…] [--deliver live|log] [--write-key K] [--admin-token T] [--timezone TZ] [--retention DURATION] [--clock real|manual] DIR",
	help: `
Run serves the workspace in DIR. It takes events over HTTP in the shape of
Segment's tracking API (POST /v1/track, /v1/identify, /v1/batch), so Segment,
RudderStack or Jitsu can point at it; runs every customer through the
journeys; fires their timers; delivers their sends; and answers the admin API
(GET /v1/journeys, /v1/customers/ID, /v1/status, /v1/dead-letters,
/v1/failed-sends, /v1/program, /v1/clock, /metrics, /healthz; POST
/v1/dead-letters/requeue, /v1/plan, /v1/clock).

An event is acknowledged (200) only once it is committed to the store. When
a file of the workspace changes, run compiles it again: a workspace with
errors is refused (the diagnostics are logged and shown by /v1/status) and
the running program keeps serving; a good one is swapped in, and active
customers move to the new version by stage name.

Channel settings, env() included, are read when the channels are set up: at
start and at each reload. A process's environment cannot change while it
runs, so to rotate a twilio auth_token without a restart, put the new token
in another variable before starting (or restart with it), and edit the
workspace to read that one: from the reload on, sends use it and POST
/v1/inbound/twilio checks Twilio's signatures against it (the old token is
no longer accepted).

Run refuses to start on a workspace with errors, printing them as validate
does, and exits 1. --deliver log writes every send as a JSON line on
standard output instead of sending it, and needs none of the channels'
settings. The write key and the admin token may come from the environment
(WAYMARK_WRITE_KEY, WAYMARK_ADMIN_TOKEN), which keeps them out of the
process list; blanks and line breaks around them (a file's final newline)
are trimmed with a warning, and one with a blank or a control character
within is refused. Without them the API is open, so keep it on the loopback
address. Logs go to standard error. SIGINT or SIGTERM stops run gracefully:
it stops accepting, answers the requests in flight, commits what it holds,
lets deliveries under way finish, and closes the store; a second signal
stops it at once.

With --store postgres://USER@HOST:PORT/DB?sslmode=… (better: the URL in
WAYMARK_STORE, out of the process list) the process is one node of a cluster:
every node on the database shares its customers, hashed into 64 shards (or
--cluster-shards, fixed when the cluster is created) that the live nodes
running the newest program own in turn under leases; any node takes any
event (a 200 once it is durable in the shared inbox; the shard's owner
applies it), and GET /v1/cluster shows the nodes and shards. SIGTERM hands
this node's shards to the others at once; a node that dies is taken over
when its leases run out (--cluster-lease, renewed every --cluster-tick).

--clock manual is for demos and integration tests: the runtime's clock
starts at the current time (whole seconds) and then moves only when told,
with POST /v1/clock {"advance": "1h"} or {"to": "2026-03-02T23:30:00Z"}
(admin token). Each advance fires everything that falls due on the way,
in time order, as scenario tests do, and answers with the new time and the
number of timers fired; GET /v1/clock reads it. Timers never fire on their
own. Since a manual clock writes times that never happened, it runs on a
temporary SQLite store, removed at exit; with --store (or $WAYMARK_STORE)
it is refused unless --force-manual-clock is given too. Never use it in
production.`,
	examples: `
# Try a workspace on this machine: sends are logged, nothing leaves.
waymark run --deliver log examples/phone_activation
# Production: keys from the environment, a store on a volume, all interfaces.
WAYMARK_WRITE_KEY=... WAYMARK_ADMIN_TOKEN=... waymark run --listen :8080 --store sqlite:/var/lib/waymark/waymark.db journeys/`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o runOptions
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "serve HTTP on `ADDR`, host:port; port 0 picks a free one (default 127.0.0.1:8080)")
		fs.StringVar(&o.store, "store", "", "the store: sqlite:FILE, pebble:DIR, or a PostgreSQL URL postgres://USER@HOST:PORT/DB?sslmode=… shared by the nodes of a cluster (default sqlite:./waymark.db, or $WAYMARK_STORE when set)")
		deliverMode := newChoice(fs, "deliver", []string{"live", "log"}, "send through the channels, or log every send on standard output")
		fs.StringVar(&o.writeKey, "write-key", "", "require `KEY` on ingest, as the HTTP Basic user, X-Write-Key or writeKey in the JSON body (default $WAYMARK_WRITE_KEY)")
		fs.StringVar(&o.adminToken, "admin-token", "", "require `TOKEN` as a bearer token on the admin API and /metrics (default $WAYMARK_ADMIN_TOKEN)")
		fs.StringVar(&o.publicURL, "public-url", "", "the `URL` customers reach this server at, e.g. https://waymark.example.com: unsubscribe links point there (/u/TOKEN) and are signed with $WAYMARK_LINK_SECRET; both are required when email of a topic goes out")
		fs.StringVar(&o.timezone, "timezone", "UTC", "the time zone (`TZ`, an IANA name) of customers without a valid timezone trait (default UTC)")
		logFormat := newChoice(fs, "log-format", []string{"text", "json"}, "how to write the logs on standard error")
		fs.StringVar(&o.retention, "retention", "0", "forget history records and delivered outbox items older than `DURATION` (like 90d), checked hourly; 0 keeps everything")
		clock := newChoice(fs, "clock", []string{"real", "manual"}, "the runtime's clock: the system's, or one that moves only with POST /v1/clock (demos and tests; a temporary store)")
		fs.BoolVar(&o.forceManualClock, "force-manual-clock", false, "allow --clock manual with --store or $WAYMARK_STORE, whose records will hold times that never happened")
		fs.IntVar(&o.cluster.shards, "cluster-shards", 0, "with a PostgreSQL store: the number of shards (`N`, 1 to 4096) a new cluster is created with (default 64); fixed once created: a node asking for another count is refused")
		fs.DurationVar(&o.cluster.lease, "cluster-lease", 0, "with a PostgreSQL store: how long a shard's lease runs from its last renewal (`DURATION`, default 5s; at least 1s and 3 ticks): a dead node's shards are taken over within a lease plus a tick")
		fs.DurationVar(&o.cluster.tick, "cluster-tick", 0, "with a PostgreSQL store: the time between heartbeats, lease renewals and rebalancing (`DURATION`, default 1s; at least 100ms)")
		fs.DurationVar(&o.cluster.skewGrace, "cluster-skew-grace", 0, "with a PostgreSQL store: how long this node may run another program than the other nodes before it says so in the log and /v1/status (`DURATION`, default 30s; at least a tick)")
		return func(e *env, args []string) int {
			o.deliver, o.logFormat, o.clock = deliverMode.value, logFormat.value, clock.value
			return runRun(e, args, o)
		}
	},
}

type runOptions struct {
	listen, store, deliver string
	writeKey, adminToken   string
	timezone, logFormat    string
	publicURL              string
	links                  *linktoken.Signer // from --public-url and $WAYMARK_LINK_SECRET; nil without them
	twilio                 *server.TwilioInbound
	retention              string
	keep                   time.Duration // retention, parsed
	clock                  string        // real | manual
	forceManualClock       bool
	tempStore              string // the manual clock's temporary store, removed at exit
	cluster                clusterFlags
}

// shutdownTimeout bounds a graceful stop: past it, requests still in flight
// are cut and parts that have not stopped are left behind.
const shutdownTimeout = 30 * time.Second

func runRun(e *env, args []string, o runOptions) int {
	// Flags first: a typo in a flag should not wait for a compile.
	zone, err := time.LoadLocation(o.timezone)
	if err != nil || o.timezone == "" || o.timezone == "Local" {
		return e.failf(exitUsage, "--timezone %q is not an IANA time zone name like Europe/Paris or UTC", o.timezone)
	}
	manual := o.clock == "manual"
	storeGiven := o.store != "" || os.Getenv("WAYMARK_STORE") != ""
	switch {
	case manual && storeGiven && !o.forceManualClock:
		// The store's value is not repeated: a PostgreSQL URL may hold a password.
		return e.failf(exitUsage, "--clock manual with --store or $WAYMARK_STORE: refused, since the store would keep times that never happened and timers set by them; leave the store out for a temporary one removed at exit, or add --force-manual-clock")
	case !manual && o.forceManualClock:
		return e.failf(exitUsage, "--force-manual-clock goes with --clock manual only")
	}
	if o.store == "" {
		// From the environment: a PostgreSQL URL may hold a password,
		// which a command line would show in the process list.
		o.store = cmp.Or(os.Getenv("WAYMARK_STORE"), "sqlite:./waymark.db")
	}
	storeKind, dbPath, err := parseStore(o.store)
	if err != nil {
		return e.failf(exitUsage, "--store: %v", err)
	}
	if manual && storeKind == "postgres" {
		// The nodes of a cluster each have a clock; one manual clock
		// cannot move them all, nor fire only its own shards' timers.
		return e.failf(exitUsage, "--clock manual runs one process on its own store: a PostgreSQL store (a cluster) cannot take it, even with --force-manual-clock")
	}
	if err := o.cluster.check(storeKind); err != nil {
		return e.failf(exitUsage, "%v", err)
	}
	mode, err := deliver.ParseMode(o.deliver)
	if err != nil {
		return e.failf(exitUsage, "--deliver: %v", err)
	}
	if o.retention != "0" {
		// Not under the ingest dedup window: a delivered outbox item is what
		// stops a replayed input from sending again once its message id is
		// forgotten, so it must outlive the id.
		d, err := timespec.ParseDuration(o.retention)
		if err != nil || d < server.DefaultDedupWindow {
			return e.failf(exitUsage, "--retention %q: want a duration of 7d or more (the ingest dedup window), like 90d or 12w, or 0 to keep everything", o.retention)
		}
		o.keep = d
	}
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return e.failf(exitUsage, "--listen %q: want HOST:PORT, like 127.0.0.1:8080 or :8080", o.listen)
	}
	var trimmed []string // where a secret had blanks around it, logged once the logger exists
	for _, sec := range []struct {
		v         *string
		flag, env string
	}{{&o.writeKey, "--write-key", "WAYMARK_WRITE_KEY"}, {&o.adminToken, "--admin-token", "WAYMARK_ADMIN_TOKEN"}} {
		from := sec.flag
		if *sec.v == "" {
			*sec.v, from = os.Getenv(sec.env), "$"+sec.env
		}
		v, trim, err := cleanSecret(*sec.v)
		if err != nil {
			return e.failf(exitUsage, "%s: %v", from, err)
		}
		if trim {
			trimmed = append(trimmed, from)
		}
		*sec.v = v
	}

	w, code := e.compileArg(args)
	if w == nil {
		return code
	}
	if w.diags.HasErrors() {
		w.printText(e.stderr, w.diags)
		fmt.Fprintf(e.stderr, "waymark run: %s has errors; fix them and start again\n", w.dir)
		return exitProblem
	}
	if len(w.diags) > 0 {
		w.printText(e.stderr, w.diags)
	}
	linkSigner, unsubscribeURL, err := links(w.result.Program, o.publicURL, os.Getenv(linkSecretEnv), mode != deliver.Log)
	if err != nil {
		return e.failf(exitUsage, "%v", err)
	}
	o.links = linkSigner
	engOpts := engine.Options{DefaultZone: zone, UnsubscribeURL: unsubscribeURL}
	prog, err := reload.FromResult(w.result, engOpts)
	if err != nil {
		return e.failf(exitProblem, "%v", err)
	}

	var handler slog.Handler
	if o.logFormat == "json" {
		handler = slog.NewJSONHandler(e.stderr, nil)
	} else {
		handler = slog.NewTextHandler(e.stderr, nil)
	}
	log := slog.New(handler)
	// A node runs for long: memory for the collector's CPU (runtime/heap).
	if paced := heap.Pace(); paced.GCPercent >= 0 {
		log.Info("the garbage collector is paced for a long-running node (GOGC or GOMEMLIMIT overrides it)",
			"gc_percent", paced.GCPercent, "memory_limit_mib", paced.Limit>>20, "limit_from", paced.Why)
	}
	for _, from := range trimmed {
		log.Warn("a secret had blanks or a line break around it (a file written with a final newline?); they were trimmed", "from", from)
	}

	// The channels are checked before anything starts: a webhook whose
	// env() variable is unset is a deployment error to fix now, not a dead
	// letter an hour later.
	sendLog := slog.New(slog.NewJSONHandler(e.stdout, nil))
	channels, err := deliver.Setup(prog.IR, os.LookupEnv, mode, deliver.WithLogger(sendLog))
	if err != nil {
		fmt.Fprintf(e.stderr, "waymark run: the channels of %s cannot be set up:\n%v\n", w.dir, err)
		if mode == deliver.Live {
			fmt.Fprintf(e.stderr, "(--deliver log runs the workspace without them)\n")
		}
		return exitProblem
	}
	// Twilio signs its inbound webhooks over the URL it calls: the route
	// needs the public URL, and the twilio channels' tokens.
	if tokens := deliver.TwilioAuthTokens(channels); len(tokens) > 0 && o.publicURL != "" {
		o.twilio = &server.TwilioInbound{PublicURL: o.publicURL, AuthTokens: tokens}
	}

	// Listen before touching the store: an address in use fails the start
	// without creating a database. Connections wait in the backlog until
	// the server is ready.
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return e.failf(exitProblem, "cannot listen on %s: %v", o.listen, err)
	}
	if manual && !storeGiven {
		dir, err := os.MkdirTemp("", "waymark-manual-clock-")
		if err != nil {
			ln.Close()
			return e.failf(exitProblem, "a temporary store for the manual clock: %v", err)
		}
		defer os.RemoveAll(dir) // after serve has closed the store
		storeKind, dbPath = "sqlite", filepath.Join(dir, "waymark.db")
		o.tempStore = dbPath
	}
	var st store.Store
	if storeKind == "postgres" {
		st, err = postgres.OpenWith(dbPath, postgres.Options{Shards: o.cluster.shards})
	} else {
		st, err = openStore(storeKind, dbPath)
	}
	if err != nil {
		ln.Close()
		return e.failf(exitProblem, "%v", err)
	}
	start := time.Now().UTC()
	if manual {
		start = start.Truncate(time.Second) // easier to read in every record
	}
	migrate, err := reload.Install(context.Background(), st, prog, start)
	if err == nil {
		// Journeys that pin keep customers on the versions they entered:
		// the engine needs those versions from the store's programs.
		err = reload.Pin(context.Background(), st, prog, engOpts, nil)
	}
	if err != nil {
		ln.Close()
		st.Close()
		return e.failf(exitProblem, "%v", err)
	}
	var node *cluster.Node
	var rtp atomic.Pointer[runner]
	if pst, ok := st.(*postgres.Store); ok {
		if node, err = joinCluster(pst, ln.Addr(), log, &rtp, o.cluster); err != nil {
			ln.Close()
			st.Close()
			return e.failf(exitProblem, "%v", err)
		}
	}
	rt := newRunner(st, prog, channels, sendLog, o, log, engOpts, w.dir, migrate, start, node)
	rtp.Store(rt)
	return rt.serve(ln) // closes the store
}

// cleanSecret trims the blanks and line breaks around a write key or an
// admin token (trimmed reports it) and refuses one that holds a blank, a
// control character or bytes that are not UTF-8 within: a token read from
// a file often ends in a newline, which no client sends back, so an
// untrimmed token would lock every operator out without a word. The error
// never shows the value.
func cleanSecret(v string) (clean string, trimmed bool, err error) {
	clean = strings.TrimSpace(v)
	if !utf8.ValidString(clean) {
		return "", false, fmt.Errorf("the value is not UTF-8 text: set a token of printable characters")
	}
	for i, r := range clean {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", false, fmt.Errorf("the value holds a blank or a control character (%U) at byte %d: a token is one word of printable characters", r, i)
		}
	}
	return clean, clean != v, nil
}

// parseStore reads --store: sqlite:FILE, pebble:DIR, or a postgres:// or
// postgresql:// URL (kind "postgres", path the URL). An error never repeats
// a URL, which may hold a password.
func parseStore(s string) (kind, path string, err error) {
	if postgres.IsDSN(s) {
		if _, err := pgconn.ParseConfig(s); err != nil {
			return "", "", fmt.Errorf("the PostgreSQL URL does not parse: want postgres://USER@HOST:PORT/DB?sslmode=…")
		}
		return "postgres", s, nil
	}
	kind, path, ok := strings.Cut(s, ":")
	switch {
	case kind == "postgres" || kind == "postgresql":
		return "", "", fmt.Errorf("a PostgreSQL store is a URL: postgres://USER@HOST:PORT/DB?sslmode=…")
	case !ok:
		return "", "", fmt.Errorf("%q: want KIND:PATH, like sqlite:./waymark.db", s)
	case kind != "sqlite" && kind != "pebble":
		return "", "", fmt.Errorf("%q: unknown store kind %q (this build has sqlite, pebble and postgres://)", s, kind)
	case path == "":
		return "", "", fmt.Errorf("%q: the path is empty", s)
	}
	return kind, path, nil
}

// openStore opens the store parseStore named.
func openStore(kind, path string) (store.Store, error) {
	switch kind {
	case "pebble":
		return pebble.Open(path)
	case "postgres":
		return postgres.Open(path)
	}
	return sqlite.Open(path)
}

// runner is every part of a running server, wired together:
//
//	HTTP ingest ──Submit──► worker ──Commit──► store ◄──ClaimOutbox── dispatcher ──► channels
//	scheduler ───Submit──►    │  OnCommit: dispatcher.Notify, scheduler.OnCommit
//	reloader ──Swap, Submit──►┘
//
// With --clock manual, POST /v1/clock drives manualclock in the scheduler's
// place: it submits the due wakes to the worker itself, and the worker,
// dispatcher and reloader read its time.
type runner struct {
	st    store.Store
	w     *worker.Worker
	clock *manualclock.Clock // nil: the real clock, and the scheduler fires timers
	sch   *sched.Scheduler
	disp  *deliver.Dispatcher
	rl    *reload.Reloader
	srv   *server.Server
	log   *slog.Logger
	o     runOptions
	// cl is the node's part of a cluster (a PostgreSQL store); nil alone.
	cl *clusterParts
}

func newRunner(st store.Store, prog *reload.Program, channels map[string]deliver.Channel, sendLog *slog.Logger,
	o runOptions, log *slog.Logger, engOpts engine.Options, dir string, migrate bool, start time.Time, node *cluster.Node) *runner {
	rt := &runner{st: st, log: log, o: o}
	var now func() time.Time // nil: each part's default, the system clock
	if o.clock == "manual" {
		rt.clock = manualclock.New(start, st, func(ctx context.Context, items []worker.Item) error {
			return rt.w.Submit(ctx, items)
		})
		now = rt.clock.Now
	}
	mode, _ := deliver.ParseMode(o.deliver)
	rt.disp = deliver.New(st, channels, deliver.Options{Logger: log.With("component", "deliver"), Now: now})
	// The scheduler submits to the worker, and the worker tells the
	// scheduler of new wake times: the closure breaks the cycle.
	rt.sch = sched.New(st, func(ctx context.Context, items []worker.Item) error {
		if rt.cl != nil {
			// Wakes held for a shard the node lost are the new owner's.
			if items = rt.cl.node.OwnedItems(items); len(items) == 0 {
				return nil
			}
		}
		return rt.w.Submit(ctx, items)
	}, sched.Options{Logger: log})
	cacheSize, pipeline := 0, false
	var ownership func(string) (int64, bool)
	if _, ok := st.(*postgres.Store); ok {
		// A commit there is a network round trip or more: the next batch
		// is prepared meanwhile. Other nodes write the same customers once
		// a shard moves: a state is cached only while the shard stays with
		// this node, at the epoch it was read at.
		pipeline = true
		if node != nil {
			ownership = node.Ownership
		} else {
			cacheSize = -1
		}
	}
	rt.w = worker.New(st, prog.Engine, worker.Options{
		CacheSize: cacheSize,
		Ownership: ownership,
		Pipeline:  pipeline,
		Logger:    log,
		Now:       now,
		OnCommit: func(b *store.Batch) {
			rt.disp.Notify()
			if rt.clock == nil {
				rt.sch.OnCommit(b)
			}
			rt.rl.Observe(b)
			if mode == deliver.Log {
				// Beside the sends the log channel prints, why the others
				// did not go out (held by quiet hours, suppressed, ...).
				deliver.LogUndelivered(context.Background(), sendLog, b)
			}
		},
	})
	rt.rl = reload.New(dir, st, rt.w, prog, reload.Options{
		Now:         now,
		Engine:      engOpts,
		WakeOnStart: migrate,
		Logger:      log.With("component", "reload"),
		// A reload must not swap in a program whose channels cannot be
		// set up (a new webhook whose env() variable is unset): it is
		// refused like a workspace with errors.
		Prepare: func(p *reload.Program) (func(), error) {
			if send := topicEmail(p.IR); o.links == nil && mode != deliver.Log && send != "" {
				return nil, fmt.Errorf("send %s is email of a topic, which needs --public-url and $%s for its unsubscribe link: restart with both", send, linkSecretEnv)
			}
			chs, err := deliver.Setup(p.IR, os.LookupEnv, mode, deliver.WithLogger(sendLog))
			if err != nil {
				return nil, fmt.Errorf("channels: %w", err)
			}
			return func() {
				rt.disp.SetChannels(chs)
				// Inbound Twilio requests are signed with the token the
				// sends now use (a workspace edited for a rotated one).
				if rt.srv != nil {
					rt.srv.SetTwilioAuthTokens(deliver.TwilioAuthTokens(chs))
				}
			}, nil
		},
	})
	var front server.Worker = rt.w
	status := func() any { return rt.rl.Status() }
	metrics := []prometheus.Collector{
		server.WorkerMetrics(rt.w.Stats),
		server.SchedulerMetrics(rt.sch.Stats),
		server.DispatcherMetrics(rt.disp.Stats),
		server.ReloadMetrics(rt.rl.Status),
	}
	var clusterStatus func(context.Context) (any, error)
	if pst, ok := st.(*postgres.Store); ok && node != nil {
		rt.cl = newClusterParts(pst, node, rt, log)
		front = rt.cl.ingest
		status = rt.cl.status
		metrics = append(metrics, rt.cl.collectors()...)
		clusterStatus = func(ctx context.Context) (any, error) { return rt.cl.node.Status(ctx) }
	}
	rt.srv = server.New(st, front, server.Options{
		WriteKey:   o.writeKey,
		AdminToken: o.adminToken,
		Status:     status,
		Cluster:    clusterStatus,
		Metrics:    metrics,
		Requeued:   rt.disp.Notify,
		Engine:     engOpts,
		Links:      o.links,
		Twilio:     o.twilio,
		Clock:      rt.serverClock(),
		Logger:     log.With("component", "http"),
	})
	return rt
}

// handler serves the web console under /ui/ (runtime/console, which
// reads through the admin API with the same token) and the API elsewhere.
func (rt *runner) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.New(rt.srv, console.Options{AdminToken: rt.o.adminToken, Logger: rt.log.With("component", "console")}))
	mux.Handle("/", rt.srv)
	return mux
}

// serverClock is the clock the admin API may move: none on the real clock.
func (rt *runner) serverClock() server.Clock {
	if rt.clock == nil {
		return nil
	}
	return rt.clock
}

// serve runs until SIGINT or SIGTERM, then shuts down in dependency order:
// nothing stops while something upstream may still hand it work.
func (rt *runner) serve(ln net.Listener) int {
	sigCtx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	// Each part runs under its own context, cancelled in order below. A
	// vital part that stops by itself (the worker, the dispatcher, the
	// scheduler) stops the server: serving without it would acknowledge
	// nothing, or deliver nothing, while looking healthy. Hot reload and
	// pruning are not vital: their failure is logged and serving goes on.
	type part struct {
		name   string
		cancel context.CancelFunc
		done   chan struct{}
	}
	died := make(chan string, 1)
	start := func(name string, vital bool, run func(ctx context.Context) error) *part {
		ctx, cancel := context.WithCancel(context.Background())
		p := &part{name: name, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(p.done)
			err := run(ctx)
			if ctx.Err() != nil {
				return
			}
			rt.log.Error("stopped unexpectedly", "component", name, "err", err)
			if vital {
				select {
				case died <- name:
				default:
				}
			}
		}()
		return p
	}
	wk := start("worker", true, rt.w.Run)
	var clusterRun, pump, adopt *part
	if rt.cl != nil {
		clusterRun = start("cluster", true, rt.cl.node.Run)
		pump = start("inbox", true, rt.cl.pump.Run)
		adopt = start("adopt", false, rt.cl.runAdopt)
	}
	disp := start("deliver", true, rt.disp.Run)
	var sch *part // nil on a manual clock: timers fire when POST /v1/clock moves it
	if rt.clock == nil {
		sch = start("sched", true, rt.sch.Run)
	} else {
		rt.log.Warn("manual clock: time moves only with POST /v1/clock; for demos and tests, never production",
			"now", rt.clock.Now(), "temporary_store", rt.o.tempStore)
	}
	rl := start("reload", false, rt.rl.Run)
	prune := start("prune", false, func(ctx context.Context) error {
		var wg sync.WaitGroup
		wg.Go(func() { server.PruneHistory(ctx, rt.st, rt.o.keep, time.Hour, rt.log) })
		server.PruneMessages(ctx, rt.st, server.DefaultDedupWindow, time.Hour, rt.log)
		<-ctx.Done() // both return at once when there is nothing to prune
		wg.Wait()
		return nil
	})

	httpSrv := &http.Server{
		Handler:           rt.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(rt.log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	rt.log.Info("listening", "addr", ln.Addr().String(), "version", rt.rl.Status().Version,
		"deliver", rt.o.deliver, "write_key", rt.o.writeKey != "", "admin_token", rt.o.adminToken != "")
	if rt.o.adminToken == "" && !isLoopback(ln.Addr()) {
		rt.log.Warn("the admin API is open to the network: set WAYMARK_ADMIN_TOKEN", "addr", ln.Addr().String())
	}

	code := exitOK
	select {
	case <-sigCtx.Done():
		rt.log.Info("shutting down")
	case err := <-serveErr:
		rt.log.Error("the HTTP server failed", "err", err)
		code = exitProblem
	case name := <-died:
		rt.log.Error("shutting down: a vital part stopped", "component", name)
		code = exitProblem
	}
	// A second signal now kills the process: the default behaviour again.
	stopSignals()
	if rt.cl != nil {
		// The others leave this node out of their rebalancing at once.
		if err := rt.cl.node.MarkLeaving(context.Background()); err != nil {
			rt.log.Warn("telling the cluster this node leaves failed", "err", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// 1. Stop accepting and answer the requests in flight: they wait on the
	// worker, which still runs.
	if err := httpSrv.Shutdown(ctx); err != nil {
		rt.log.Warn("requests still in flight at the deadline were cut", "err", err)
		httpSrv.Close()
	}
	// 2. Stop what submits to the worker, 3. the worker (it commits what it
	// holds), 4. the dispatcher (deliveries under way finish), then the rest.
	stop := func(ps ...*part) {
		var wg sync.WaitGroup
		for _, p := range ps {
			if p == nil {
				continue
			}
			p.cancel()
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-p.done:
				case <-ctx.Done():
					rt.log.Warn("did not stop in time", "component", p.name)
				}
			}()
		}
		wg.Wait()
	}
	stop(rl, sch, prune, adopt)
	if pump != nil {
		stop(pump)
	}
	stop(wk)
	stop(disp)
	if rt.cl != nil {
		// The writers have stopped: hand the shards over now rather than
		// let the others wait for the leases to run out.
		stop(clusterRun)
		if err := rt.cl.node.Leave(ctx); err != nil {
			rt.log.Warn("handing the shards over failed: the others take them when the leases run out", "err", err)
		}
	}
	if err := rt.st.Close(); err != nil {
		rt.log.Error("closing the store", "err", err)
		code = exitProblem
	}
	rt.log.Info("stopped")
	return code
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
