// Package server is Waymark's HTTP API: ingest in the shape of Segment's
// tracking API, the admin API that answers "why is this customer where they
// are", Prometheus metrics and a health check. It is an http.Handler built
// on net/http's pattern routing; the caller (`waymark run`) owns the
// listener and the shutdown sequence.
//
// # Routes
//
//	POST /v1/track                 one event                                  write key
//	POST /v1/identify              one trait update                           write key
//	POST /v1/batch                 {"batch": [calls]}                         write key
//	POST /v1/alias                 merge previousId into userId               write key
//	POST /v1/page, /v1/screen,     checked and accepted; journeys have no     write key
//	     /v1/group                 use for them
//	POST /v1/subscriptions         {"userId","topic","status","messageId"?}:  write key
//	                               the customer's consent to a declared topic
//	POST /u/{token}                one-click unsubscribe (RFC 8058 body       the token
//	                               List-Unsubscribe=One-Click), or the
//	                               preference page's form (its csrf value)
//	POST /v1/inbound/twilio        Twilio's incoming SMS webhook: STOP/START  X-Twilio-
//	                               (and synonyms) unsubscribe/resubscribe     Signature
//	                               the sender (Options.Twilio; 404 without)
//	GET  /u/{token}                the preference page: every topic, radio    the token
//	                               buttons, no JavaScript. Both /u routes
//	                               exist only with Options.Links; a token
//	                               this server did not sign is a 400
//	GET  /v1/journeys              journeys, versions, active per stage       admin token
//	GET  /v1/customers             customers in id order, by id prefix or    admin token
//	                               trait value (?after=ID&limit=N&q=QUERY)
//	GET  /v1/customers/{id}        traits, instances with their history,      admin token
//	                               sends with fate and delivery, inputs
//	                               received (id escaped); the latest 100 of
//	                               each list, page.next the older ones
//	                               (?limit=N&history_before=P&sends_before=P
//	                               &events_before=P&received_before=P)
//	DELETE /v1/customers/{id}      erase the customer: state, traits,         admin token
//	                               history, sends not yet delivered
//	                               (cancelled); in order with its inputs
//	GET  /v1/status                program version, last reload, diagnostics  admin token
//	                               of a refused edit
//	GET  /v1/cluster               nodes (id, address, heartbeat, shards),   admin token
//	                               each shard's owner and epoch (a cluster on
//	                               PostgreSQL; 404 otherwise)
//	GET  /v1/dead-letters          sends delivery gave up on, by key          admin token
//	                               (?after=KEY&limit=N; ?fields=1 the message;
//	                               ?journey=&channel=&error= filter them)
//	POST /v1/dead-letters/requeue  {"keys": [...]} or {"filter": {...}}:      admin token
//	                               deliver them again, same idempotency keys
//	GET  /v1/failed-sends          sends that failed at run time (a field     admin token
//	                               that did not evaluate), every customer's,
//	                               oldest first (?after=CURSOR&limit=N;
//	                               ?fields=1 the fields that evaluated)
//	GET  /v1/program               the running program's IR (its version in   admin token
//	                               the Waymark-Program-Version header)
//	POST /v1/plan                  body: a candidate IR -> waymark.plan/v1:   admin token
//	                               the diff and, counted, what it would do to
//	                               the customers in flight (a dry run)
//	GET  /v1/clock                 the runtime's clock: manual or real, now   admin token
//	POST /v1/clock                 {"advance": "1h"} or {"to": TIME}: move a  admin token
//	                               manual clock, firing what falls due in
//	                               order (409 on the real clock)
//	GET  /metrics                  Prometheus text format                     admin token
//	GET  /healthz                  {"status":"ok"} when the store answers a read, else 503; open
//	                               and can write (store.WriteHealth: a full
//	                               disk is 503 "failing": "store writes")
//
// The write key (Options.WriteKey) is the HTTP Basic user name, Segment's
// convention, the X-Write-Key header, or the writeKey member of the JSON
// body (Segment's third way; a key in a header is checked before the body
// is read, and wins); the admin token is a bearer token. Either is only
// required when set, and both are compared in constant time.
//
// # Ingest: data flow
//
//	body (≤ 32 KB a call, ≤ 500 KB a batch: http.MaxBytesReader; 413 above;
//	      Content-Encoding gzip decompressed, the limits applying after too)
//	  -> parse: one JSON object per call, every field checked, a 400 naming the field
//	     (properties/traits: ≤ MaxNesting levels, numbers a float64 can hold);
//	     in a batch only the body can be refused (not a {"batch": [...]} object):
//	     a bad item is set aside with its index and reason, the others go on
//	  -> calls -> worker.Items in request order, a messageId repeated in the request kept once
//	  -> worker.Submit (blocks until the group commit holding them is durable)
//	  -> 200 {"success":true}, with "errors": [{"index", "reason"}] listing refused batch
//	     items (counted in waymark_ingest_invalid_total); or 503 with Retry-After when the
//	     commit failed or the worker stops (a full disk: store.ErrNoSpace, logged once an
//	     interval with a count of the rest, runtime/lograte)
//
// A client may retry anything that did not get a 200: the worker drops an
// input whose messageId was committed before (store.SeenMessages, which
// keeps only a hash of each id, store.DedupKey; kept for
// DefaultDedupWindow; PruneMessages forgets older ids), so a retry never
// applies an event twice. A customer's calls are handled in the order they
// arrive: the worker runs one queue.
//
// Bodies are JSON whatever the Content-Type says (curl's default form type
// included): tracking libraries all send JSON. The fields read, as Segment
// defines them: userId (the customer id) or,
// when it is absent, anonymousId (an anonymous visitor is a customer of its
// own until an alias, or an identify naming both ids, merges it into the
// known customer: merge.go); previousId (alias); event and properties
// (track); traits (identify, and on track merged before the event is
// handled, an extension); messageId; timestamp (checked, not used: every
// input runs at the moment the server handles it, so that timers, quiet
// hours and caps count on one clock; one without a zone is accepted);
// writeKey; type in batch items. Other members
// (context, integrations, sentAt, ...) are ignored. Calls of type page,
// screen and group (single or in a batch) are valid Segment calls that
// journeys have no use for: checked, accepted and ignored. An event the workspace does not declare
// is accepted too; the engine handles it like any other, and since no
// journey names it, nothing happens (a pipeline sends everything it tracks).
//
// # Admin
//
// The admin documents are built from the store's history (store.Store's
// Transitions and Sends, and store.EventHistory's refusals, errors and
// emitted events and store.ReceivedHistory's inputs where the store keeps
// them) and the worker's running engine. The customer list reads
// store.CustomerLister (customers.go says what q means). Status comes from Options.Status (the reloader's), metrics from
// the server's own counters plus Options.Metrics (worker, dispatcher,
// scheduler, reloader: prometheus.Collectors built by WorkerMetrics and
// the others over each component's Stats), in a registry of the server's
// own written by client_golang's promhttp in the text exposition format.
// Metric names are the dashboards' API: TestMetricNames lists every one.
// The dead-letter routes read and requeue through store.DeadLetterQueue;
// the failed sends are read through store.FailedSendLister.
//
// # Retention
//
// PruneMessages (ingest message ids, DefaultDedupWindow) and PruneHistory
// (history and delivered outbox items, the retention `waymark run
// --retention` sets; off by default) run hourly beside the server, each only
// where the store implements it.
package server
