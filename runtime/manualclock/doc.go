// Package manualclock is a clock that moves only when told to, for demos
// and integration tests of a running server (`waymark run --clock
// manual`, POST /v1/clock): a wait of days can be watched firing without
// editing a duration.
//
// The worker, the delivery dispatcher and the reloader read Clock.Now
// instead of the system clock, so the engine's `now`, every due time
// and every delivery run on it. The scheduler does not run: Advance is
// what fires timers, the way scenario tests do (runtime/simtest):
//
//	Advance(ctx, target)
//	  loop: store.Due(target) -> the earliest wake time t
//	        clock = t; the wakes due at or before t -> worker Submit (blocks until committed)
//	        (their commits may set new wakes before target: the next Due sees them)
//	  clock = target
//
// So everything due up to the target happens in time order, across
// customers, before Advance returns; what it fired is counted. The clock
// never moves back. Deliveries follow as the dispatcher claims the sends
// those commits wrote, as they always do.
package manualclock
