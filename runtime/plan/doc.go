// Package plan is the dry run of a reload: what a candidate program would
// do to the customers in flight, counted, never committed.
//
// # Data flow
//
//	store.StageCounts: no active instance on a version the candidate lacks, and
//	  no policy changed -> nothing would migrate: the plan is the diff, no state read
//	store.ActiveStates (one query a page: SQLite, PostgreSQL; else
//	                    ActiveCustomers + Customer, as on Pebble)
//	  -> a reader goroutine -> pages -> Options.Workers goroutines:
//	       decode the state (the copy: nothing is written back) with
//	         decodeState: json.Unmarshal's result, the engine's shape walked
//	         by hand, anything else left to json.Unmarshal itself
//	       Customer: held sends the diff concerns (diff.HeldChange),
//	                 engine.Migrate with the candidate's engine (built as a
//	                 reload builds it: reload.CandidateEngine, with the
//	                 earlier versions pinned instances keep running),
//	                 each engine.Migration counted, timers that fall due earlier
//	       into an Aggregator per worker
//	  -> merged -> Aggregator.Journeys -> diff.Plan (waymark.plan/v1)
//
// One code path: POST /v1/plan (runtime/server), `waymark plan --store`
// (cmd/waymark) and the reload's own account of its migration
// (runtime/reload, which feeds the Migrations of its real Steps into an
// Aggregator) all count with this package, so a plan and the reload that
// follows on the same state cannot count differently. The engine is pure,
// so the dry run is the real migration on copies. Read does the same
// reading and decoding without migrating: the baseline a plan's time is
// compared with (BenchmarkPlan).
//
// A plan holds counts only: never a customer's id, traits or messages.
package plan
