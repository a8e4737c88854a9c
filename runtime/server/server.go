package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waymark-dev/waymark/runtime/consent/linktoken"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/lograte"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Worker is what the server needs of the worker (*worker.Worker): a durable
// Submit for ingest, and the engine it runs for the admin API's view of the
// program.
type Worker interface {
	// Submit returns nil once the commit holding every item is durable.
	Submit(ctx context.Context, items []worker.Item) error
	Engine() *engine.Engine
}

// Options configure a Server. The zero value serves an open API (no write
// key, no admin token): fine on the loopback interface, which is where
// `waymark run` listens by default.
type Options struct {
	// WriteKey, when set, is required on ingest, as the HTTP Basic user
	// (Segment's convention: the password is empty) or in X-Write-Key.
	WriteKey string
	// AdminToken, when set, is required on the admin API and /metrics as
	// "Authorization: Bearer TOKEN". /healthz is always open, for load
	// balancers.
	AdminToken string
	// Status returns what GET /v1/status shows: the program version, the
	// last reload and the diagnostics of a refused edit
	// (reload.(*Reloader).Status). Nil serves only the running program's
	// journey versions.
	Status func() any
	// Metrics are the other components' figures (WorkerMetrics,
	// DispatcherMetrics, ...), registered beside the server's own and
	// written on GET /metrics.
	Metrics []prometheus.Collector
	// Requeued, when set, is called after dead letters were made pending
	// again: the delivery dispatcher's Notify, so they go out at once.
	Requeued func()
	// Engine is what a candidate program's engine is built with on POST
	// /v1/plan: the options the reloads use (the default time zone), so
	// that a plan runs the migration a reload would.
	Engine engine.Options
	// Clock, when set, is the manual clock that POST /v1/clock advances
	// (`waymark run --clock manual`). Without it the server runs on the
	// real clock and POST /v1/clock is a 409.
	Clock Clock
	// Cluster, when set, answers GET /v1/cluster (runtime/cluster's
	// Status: nodes, shards, owners and epochs); without it the route is
	// 404, a server of one node.
	Cluster func(ctx context.Context) (any, error)
	// Links, when set, checks the tokens of unsubscribe links and serves
	// /u/{token}: the one-click POST and the preference page. Nil: the
	// routes are 404 (no public URL or link secret configured).
	Links *linktoken.Signer
	// Twilio, when set, serves POST /v1/inbound/twilio (SMS STOP and
	// START); nil: 404.
	Twilio *TwilioInbound
	// RetryAfter is the Retry-After a 503 carries (default 1s).
	RetryAfter time.Duration
	Logger     *slog.Logger
}

// Server is the HTTP API. It is an http.Handler; the caller owns the
// listener and the http.Server, and so the shutdown sequence.
type Server struct {
	st       store.Store
	w        Worker
	opts     Options
	log      *slog.Logger
	lim      *lograte.Limiter // a failure repeated by every request: one line an interval
	mux      *http.ServeMux
	writeKey [32]byte
	admin    [32]byte
	started  time.Time
	m        *serverMetrics
	// twilioTokens are the tokens inbound Twilio requests are checked
	// against: Options.Twilio's, then SetTwilioAuthTokens's.
	twilioTokens atomic.Pointer[[]string]
}

// New returns a server over st that hands ingested calls to w.
func New(st store.Store, w Worker, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	s := &Server{
		st: st, w: w, opts: opts, log: opts.Logger, mux: http.NewServeMux(), started: time.Now(),
		lim: lograte.New(0, nil),
	}
	s.m = newServerMetrics(s, opts.Logger)
	// Secrets are compared as digests: equal lengths, so that the compare
	// is constant-time whatever the length of the guess.
	s.writeKey = sha256.Sum256([]byte(opts.WriteKey))
	s.admin = sha256.Sum256([]byte(opts.AdminToken))

	s.mux.HandleFunc("POST /v1/track", s.ingest(typeTrack, MaxEventBytes, s.handleTrack))
	s.mux.HandleFunc("POST /v1/identify", s.ingest(typeIdentify, MaxEventBytes, s.handleIdentify))
	s.mux.HandleFunc("POST /v1/batch", s.ingest("batch", MaxBatchBytes, s.handleBatch))
	for _, kind := range []string{typeAlias, "page", "screen", "group"} {
		s.mux.HandleFunc("POST /v1/"+kind, s.ingest(kind, MaxEventBytes, s.handleCall(kind)))
	}

	s.mux.HandleFunc("POST /v1/subscriptions", s.ingest("subscriptions", MaxEventBytes, s.handleSubscription))
	if opts.Twilio != nil {
		tokens := slices.Clone(opts.Twilio.AuthTokens)
		s.twilioTokens.Store(&tokens)
		s.mux.HandleFunc("POST /v1/inbound/twilio", s.handleTwilioInbound)
	}
	if opts.Links != nil {
		s.mux.HandleFunc("POST /u/{token}", s.handleUnsubscribePost)
		s.mux.HandleFunc("GET /u/{token}", s.handleUnsubscribePage)
	}

	s.mux.HandleFunc("GET /v1/journeys", s.admined(s.handleJourneys))
	s.mux.HandleFunc("GET /v1/journeys/{name}/analytics", s.admined(s.handleAnalytics))
	s.mux.HandleFunc("GET /v1/journeys/{name}/paths", s.admined(s.handlePaths))
	s.mux.HandleFunc("GET /v1/metrics/{name}", s.admined(s.handleMetricScore))
	s.mux.HandleFunc("GET /v1/customers/{id}", s.admined(s.handleCustomer))
	s.mux.HandleFunc("GET /v1/customers", s.admined(s.handleCustomers))
	s.mux.HandleFunc("DELETE /v1/customers/{id}", s.admined(s.handleErase))
	s.mux.HandleFunc("GET /v1/status", s.admined(s.handleStatus))
	s.mux.HandleFunc("GET /v1/cluster", s.admined(s.handleCluster))
	s.mux.HandleFunc("GET /v1/dead-letters", s.admined(s.handleDeadLetters))
	s.mux.HandleFunc("POST /v1/dead-letters/requeue", s.admined(s.handleRequeue))
	s.mux.HandleFunc("GET /v1/failed-sends", s.admined(s.handleFailedSends))
	s.mux.HandleFunc("GET /v1/program", s.admined(s.handleProgram))
	s.mux.HandleFunc("POST /v1/plan", s.admined(s.handlePlan))
	s.mux.HandleFunc("GET /v1/clock", s.admined(s.handleGetClock))
	s.mux.HandleFunc("POST /v1/clock", s.admined(s.handleAdvanceClock))
	s.mux.HandleFunc("GET /metrics", s.admined(s.handleMetrics))
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	return s
}

// ServeHTTP serves the API and counts every request by route and status.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	// The mux set r.Pattern; an unmatched request has none. Labelling by
	// pattern, never by path, keeps the label set bounded.
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	s.m.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
	s.m.durations.WithLabelValues(route).Observe(time.Since(start).Seconds())
	if rec.code >= 500 {
		s.log.Warn("request failed", "route", route, "status", rec.code, "remote", r.RemoteAddr)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController (and MaxBytesReader's connection
// close) reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ingest makes an ingest endpoint: it reads the body (at most limit bytes)
// as one JSON object, checks the write key, and hands the object to h.
//
// The write key may come three ways, as Segment documents: the HTTP Basic
// user, X-Write-Key, or the body's writeKey member. A key in a header is
// checked before the body is read; only a request without one has its
// body read to look for it, within the same size limit.
func (s *Server) ingest(kind string, limit int64, h func(http.ResponseWriter, *http.Request, map[string]json.RawMessage)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		headerKey, inHeader := headerWriteKey(r)
		needKey := s.opts.WriteKey != ""
		if needKey && inHeader && !s.validWriteKey(headerKey) {
			s.refuseWriteKey(w)
			return
		}
		body, herr := readBody(w, r, kind, limit)
		if herr != nil {
			writeError(w, herr.status, herr.msg)
			return
		}
		obj, herr := parseObject(body, kind)
		if needKey && !inHeader {
			var key string
			if herr == nil {
				key, _, _ = stringField(obj, "writeKey", kind)
			}
			if !s.validWriteKey(key) {
				s.refuseWriteKey(w)
				return
			}
		}
		if herr != nil {
			writeError(w, herr.status, herr.msg)
			return
		}
		h(w, r, obj)
	}
}

// headerWriteKey returns the write key a request carries in a header, and
// whether it carries one there at all (an empty Basic user counts: it is a
// wrong key, not a missing one).
func headerWriteKey(r *http.Request) (string, bool) {
	if key := r.Header.Get("X-Write-Key"); key != "" {
		return key, true
	}
	user, _, ok := r.BasicAuth()
	return user, ok
}

func (s *Server) validWriteKey(key string) bool {
	sum := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(sum[:], s.writeKey[:]) == 1
}

func (s *Server) refuseWriteKey(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="waymark"`)
	writeError(w, http.StatusUnauthorized, "write key missing or wrong: send it as the HTTP Basic user name, in X-Write-Key, or as writeKey in the JSON body")
}

// admined wraps an admin handler with the bearer-token check.
func (s *Server) admined(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.AdminToken != "" {
			tok, ok := bearerToken(r.Header.Get("Authorization"))
			sum := sha256.Sum256([]byte(tok))
			if !ok || subtle.ConstantTimeCompare(sum[:], s.admin[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="waymark"`)
				writeError(w, http.StatusUnauthorized, "admin token missing or wrong: send Authorization: Bearer TOKEN")
				return
			}
		}
		h(w, r)
	}
}

// bearerToken reads "Bearer TOKEN". The scheme is case-insensitive (RFC
// 9110, 11.1: "bearer" and "BEARER" are the same scheme), and the blanks
// around the token are not part of it.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func (s *Server) handleTrack(w http.ResponseWriter, r *http.Request, obj map[string]json.RawMessage) {
	s.handleOne(w, r, obj, typeTrack)
}

func (s *Server) handleIdentify(w http.ResponseWriter, r *http.Request, obj map[string]json.RawMessage) {
	s.handleOne(w, r, obj, typeIdentify)
}

func (s *Server) handleOne(w http.ResponseWriter, r *http.Request, obj map[string]json.RawMessage, kind string) {
	c, herr := parseCall(obj, kind, kind)
	if herr != nil {
		writeError(w, herr.status, herr.msg)
		return
	}
	s.submitCalls(w, r, []call{c}, nil)
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request, obj map[string]json.RawMessage) {
	calls, bad, herr := parseBatch(obj)
	if herr != nil {
		writeError(w, herr.status, herr.msg)
		return
	}
	if len(bad) > 0 {
		s.m.invalid.Add(float64(len(bad)))
		s.log.Warn("batch items refused; the batch's valid calls are applied", "refused", len(bad), "calls", len(calls), "first", bad[0].Reason)
	}
	s.submitCalls(w, r, calls, bad)
}

// submitCalls hands the calls to the worker in their order (so a customer's
// events are handled in the order the request lists them) and answers 200
// only once they are durable; the answer lists bad, the batch items that
// were refused. A messageId repeated within the request is
// handled once: the first call with it counts. Ids seen in earlier requests
// are the worker's to drop (it asks the store), which makes a client's retry
// of a request whose answer it lost harmless.
func (s *Server) submitCalls(w http.ResponseWriter, r *http.Request, calls []call, bad []itemError) {
	// The calls in order, cut where a merge comes: a merge waits for the
	// items before it, and the items after it wait for the merge.
	type segment struct {
		items      []worker.Item
		from, into string // a merge, when from is set
		msg        string // the messageId of the call that asked for the merge
	}
	segs := []segment{{}}
	var seen map[string]bool
	dups := 0
	for _, c := range calls {
		if ignoredTypes[c.kind] {
			s.m.ignored.WithLabelValues(c.kind).Inc()
			continue
		}
		if c.messageID != "" {
			if seen[c.messageID] {
				dups++
				continue
			}
			if seen == nil {
				seen = make(map[string]bool, len(calls))
			}
			seen[c.messageID] = true
		}
		if c.mergeFrom != "" {
			segs = append(segs, segment{from: c.mergeFrom, into: c.item.CustomerID, msg: c.messageID}, segment{})
		}
		if c.kind != typeAlias {
			last := &segs[len(segs)-1]
			last.items = append(last.items, c.item)
		}
	}
	if dups > 0 {
		s.m.dups.Add(float64(dups))
	}
	for _, seg := range segs {
		if seg.from != "" {
			if err := s.merge(r.Context(), seg.from, seg.into, seg.msg); err != nil {
				s.notStored(w, r, 1, err)
				return
			}
			continue
		}
		if len(seg.items) == 0 {
			continue
		}
		start := time.Now()
		err := s.w.Submit(r.Context(), seg.items)
		s.m.submit.Observe(time.Since(start).Seconds())
		if err != nil {
			s.notStored(w, r, len(seg.items), err)
			return
		}
		for _, it := range seg.items {
			s.m.events.WithLabelValues(it.Input.Kind).Inc()
		}
	}
	if len(bad) > 0 {
		writeJSON(w, http.StatusOK, struct {
			Success bool        `json:"success"`
			Errors  []itemError `json:"errors"`
		}{true, bad})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"success":true}` + "\n"))
}

// notStored answers a request whose calls were not all committed: 503, to
// be retried (messageId makes the retry safe; a merge done already is a
// no-op the second time).
func (s *Server) notStored(w http.ResponseWriter, r *http.Request, calls int, err error) {
	if r.Context().Err() != nil {
		return // the client left; it will retry
	}
	msg := "not stored, retry later: " + err.Error()
	if errors.Is(err, worker.ErrClosed) {
		msg = "not stored: the server is shutting down, retry later"
	} else if ok, n := s.lim.Allow("ingest"); ok {
		s.log.Warn("ingest not committed", "calls", calls, "err", err, "suppressed", n)
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((s.opts.RetryAfter+time.Second-1)/time.Second)))
	writeError(w, http.StatusServiceUnavailable, msg)
}

// handleHealth answers ok when the store answers a read (a probe of the
// message-id index, the cheapest read every store has) within two seconds
// and, for a store that can tell (store.WriteHealth), can write: a store
// on a full disk is "failing": "store writes", so that a load balancer
// sends events elsewhere until it recovers. The endpoint is open, so a
// failure says only which part failed; the error itself goes to the log
// (once an interval).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	failing := ""
	_, err := s.st.SeenMessages(ctx, []string{"waymark-healthz"})
	if err != nil {
		failing = "store"
	} else if wh, ok := s.st.(store.WriteHealth); ok {
		if err = wh.WriteError(); err != nil {
			failing = "store writes"
		}
	}
	if failing != "" {
		if ok, n := s.lim.Allow("health"); ok {
			s.log.Error("health check: the "+failing+" failed", "err", err, "suppressed", n)
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "failing": failing})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.m.handler.ServeHTTP(w, r)
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
