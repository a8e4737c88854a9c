// Package console is Waymark's web console, served by `waymark run` under
// /ui/: server-rendered pages (html/template) with charts drawn as inline
// SVG in Go (runtime/console/svgchart), one embedded style sheet and no
// script, so it works offline and loads nothing from elsewhere (its
// Content-Security-Policy forbids it).
//
// # Data flow
//
// The console is a client of the admin API: each page runs the API's own
// requests in process, through the server's handler (Console.call), and
// decodes the answers into the API's exported types (server.JourneysDoc,
// server.CustomerDoc, reload.Status, cluster.Status, ...). It keeps no
// query of its own, so a page shows exactly what GET /v1/... answers; a
// list that can be long is read a page at a time with the API's cursor,
// and the page links to the next one.
//
//	GET  /ui/?from=N                journeys: version, active, conversion,        /v1/journeys,
//	                                active by stage; a page of 50                 /v1/journeys/{name}/analytics
//	GET  /ui/journeys/{name}        the journey's graph (layered, from the IR)    /v1/journeys, /v1/program,
//	     ?since=&until=             with live counts on stages and edges; the     /v1/journeys/{name}/analytics,
//	                                funnel, sends by fate, the Sankey of paths,   /v1/journeys/{name}/paths
//	                                experiments with interval bars, the stages'
//	                                measured lanes
//	GET  /ui/customers?q=&after=    customers, a page at a time (or ?id=: one)    /v1/customers
//	GET  /ui/customers/{id}         the customer's timeline: inputs, transitions  /v1/customers/{id}
//	     ?history_before=...        with causes, sends with fates, refusals,      (its paging, passed on)
//	                                errors, each input before what it caused
//	                                (the records' seq); where they wait now
//	GET  /ui/status                 running version, last reload and migration,   /v1/status, /v1/cluster,
//	     ?dead_after=&failed_after= a refused edit's diagnostics; on a cluster    /v1/dead-letters,
//	                                its nodes, shards and program skew; dead      /v1/failed-sends
//	                                letters and failed sends, a page of each
//	POST /ui/dead-letters/requeue   requeue the checked dead letters, or all      POST /v1/dead-letters/requeue
//	GET, POST /ui/login; POST /ui/logout
//
// # Auth
//
// With an admin token set, every page needs a session: a sign-in form
// checks the token and sets an HttpOnly, SameSite=Strict cookie (Secure
// over TLS) holding an HMAC of the token, not the token; POSTs carry a
// per-session CSRF token. auth.go says why each piece is there.
package console
