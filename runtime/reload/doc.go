// Package reload is hot reload: it watches a workspace, compiles every
// change, and swaps a good program into the running worker while events
// keep flowing; a program with errors is refused and the running one keeps
// serving.
//
// # Data flow
//
//	fsnotify events on DIR and every subdirectory (new ones are watched as they appear;
//	  hidden files and editor backups are ignored; DIR moved away or deleted
//	  is watched again once it is back, checked every Options.Rewatch)
//	  -> debounce (200ms of quiet: one save, or a checkout of ten files, is one reload)
//	  -> compiler.CompileDir
//	       errors: refused. Logged with the diagnostics, kept for GET /v1/status
//	               (Status.Refused, the JSON of `waymark validate --format json`);
//	               the running program keeps serving
//	  -> same IR as running: nothing to do (an edit undone clears the refusal)
//	  -> engine.New; for journeys that pin (in_flight = "pin") with instances
//	     on other versions, engine.New again with those versions' programs
//	     (Pin: the running program, the ones it ran pinned instances on,
//	     then store.Programs; which versions from store.StageCounts)
//	  -> Options.Prepare (the delivery channels; an error refuses),
//	     store.SaveProgram (a failure is retried after 5s)
//	  -> worker.Swap(engine): every batch prepared from now on runs on it
//	  -> if a journey's version changed or a journey is gone: a Wake input for
//	     every active customer (store.ActiveCustomers, a page per Submit)
//	  -> the account: every engine.Migration committed after the swap (Observe,
//	     on the worker's OnCommit) counted by runtime/plan's Aggregator, pinned
//	     instances counted from the store at the end of the pass; shown in
//	     Status.Migration (journeys, summary: the shape of waymark.plan/v1) and
//	     logged. A plan on the same state (CandidateEngine builds its engine as
//	     a reload does) counts the same
//
// # Why nothing is lost or handled twice
//
// Ingest never stops: requests go on flowing into the same worker, and the
// worker prepares each batch on one engine, the old or the new, never a
// mix. Nothing is replayed by a reload, so nothing can be handled twice.
// The wake pass only hurries what engine.Step does anyway on a customer's
// first input under the new program: migrate its active instances by stage
// name (an instance whose stage is gone ends exited, cause
// "stage_removed"; one whose journey is gone, "journey_removed"), and
// recompute their timers. Without the pass, a customer waiting for an event
// would keep a stale timer until that event came. A pass cut short (a
// failed Submit, a stop) leaves the rest to migrate at their next input,
// and is tried again at the next reload; Install tells a restart that the
// store last ran other journey versions, so the pass then runs at start
// (Options.WakeOnStart).
//
// A journey with in_flight = "pin" keeps its customers on the version they
// entered: the wake pass leaves them there (engine.Migrate reports them
// "pinned"), and the engine runs each earlier version that still has
// active instances. `waymark run` does the same at start (Pin after
// Install), from the store's programs. Once the last instance of an
// earlier version ends, the next reload or restart stops loading it.
//
// In a cluster (runtime/cluster) a node's wake pass reaches only the
// shards it owns; Adopt does the same for the shards it takes later, from
// a node that may have run another program: it loads the earlier versions
// their pinned instances run (found in the store even when another node
// saved them after this one started) and wakes the customers a lister
// names (an active instance on a version this engine does not run).
//
// Program versions: a journey's version (ir.Hash) says whether its
// behaviour changed; the program's (Version, the hash of the IR document)
// names exactly what runs and keys the stored program.
package reload
