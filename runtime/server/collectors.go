package server

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waymark-dev/waymark/runtime/deliver"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// The collectors below turn the other components' Stats into metrics for
// Options.Metrics. They take the Stats functions rather than the
// components, so that a test can feed them figures.

// WorkerMetrics reports the worker: inputs, batches, cache, commit latency,
// and the send decisions it committed, by fate, with the failed ones by
// journey and send.
func WorkerMetrics(stats func() worker.Stats) prometheus.Collector {
	return statsCollector(func(e emitter) {
		s := stats()
		e.counter("waymark_worker_inputs_total", "Inputs run through the engine and committed.", float64(s.Inputs))
		e.counter("waymark_worker_duplicates_total", "Inputs skipped because their messageId was already committed.", float64(s.Duplicates))
		e.counter("waymark_worker_failed_total", "Inputs whose Submit got an error (failed commit, failed load, stopped).", float64(s.Failed))
		e.counter("waymark_worker_abandoned_total", "Inputs dropped before any work because their caller had gone.", float64(s.Abandoned))
		e.counter("waymark_worker_customer_writes_total", "Customer states committed (one per customer per batch).", float64(s.Customers))
		e.counter("waymark_worker_batches_total", "Group commits that succeeded.", float64(s.Batches))
		e.counter("waymark_worker_errors_total", "Group commits that failed, and batches failed without a commit.", float64(s.Errors))
		e.counter("waymark_worker_swaps_total", "Engines installed by a reload.", float64(s.Swaps))
		e.counter("waymark_worker_cache_hits_total", "Customer states found in the worker's cache.", float64(s.CacheHits))
		e.counter("waymark_worker_cache_loads_total", "Customer states read from the store.", float64(s.CacheLoads))
		e.gauge("waymark_worker_queued", "Submits waiting to be collected into a batch.", float64(s.Queued))
		e.histogram("waymark_worker_commit_seconds", "Latency of the worker's group commits (store.Commit).", s.Commit)
		for _, fate := range sortedKeys(s.Sends, cmp.Compare[string]) {
			e.counter("waymark_sends_total", "Send decisions committed, by fate: deliver, held, suppressed, capped, dropped, failed (a held send counts again when it is decided).",
				float64(s.Sends[fate]), Label{"fate", fate})
		}
		for _, n := range sortedKeys(s.FailedSends, func(a, b worker.SendName) int {
			return cmp.Or(cmp.Compare(a.Journey, b.Journey), cmp.Compare(a.Send, b.Send))
		}) {
			e.counter("waymark_sends_failed_total", "Sends that failed at run time (a field that did not evaluate, like an email address never set), by journey and send: GET /v1/failed-sends lists them.",
				float64(s.FailedSends[n]), Label{"journey", n.Journey}, Label{"send", n.Send})
		}
	})
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	return keys
}

// SchedulerMetrics reports the scheduler: wakes fired and how late.
func SchedulerMetrics(stats func() sched.Stats) prometheus.Collector {
	return statsCollector(func(e emitter) {
		s := stats()
		e.counter("waymark_sched_fired_total", "Timer wakes committed.", float64(s.Fired))
		e.counter("waymark_sched_errors_total", "Failed wake submits and failed due-time queries.", float64(s.Errors))
		e.counter("waymark_sched_polls_total", "Queries of the store's due-time index.", float64(s.Polls))
		e.counter("waymark_sched_poll_rows_total", "Rows those queries returned.", float64(s.PollRows))
		e.counter("waymark_sched_hints_total", "Next-wake hints from the worker's commits.", float64(s.Hints))
		e.counter("waymark_sched_stuck_total", "Due rows whose wake had already committed: the store did not move the customer's next wake.", float64(s.Stuck))
		e.gauge("waymark_sched_known", "Wakes held in memory.", float64(s.Known))
		e.gauge("waymark_sched_inflight", "Wakes submitted and not yet committed.", float64(s.Inflight))
		e.histogram("waymark_sched_lag_seconds", "Time from a wake's due time to its commit.", s.Lag)
	})
}

// DispatcherMetrics reports delivery: outcomes per channel, time spent.
func DispatcherMetrics(stats func() deliver.Stats) prometheus.Collector {
	return statsCollector(func(e emitter) {
		s := stats()
		e.counter("waymark_deliver_delivered_total", "Sends the receiver took.", float64(s.Delivered))
		e.counter("waymark_deliver_retried_total", "Failed delivery attempts put back for a retry.", float64(s.Retried))
		e.counter("waymark_deliver_dead_total", "Sends given up on (dead letters): a permanent failure or too many attempts.", float64(s.Dead))
		e.counter("waymark_deliver_interrupted_total", "Deliveries cut short by shutdown and put back.", float64(s.Interrupted))
		e.counter("waymark_deliver_claim_errors_total", "Failed outbox claims.", float64(s.ClaimErrors))
		e.counter("waymark_deliver_settle_errors_total", "Failed settlements (the lease brings the item back).", float64(s.SettleErrors))
		e.counter("waymark_deliver_cancelled_total", "Claimed sends not attempted: no longer pending (their customer was erased).", float64(s.Cancelled))
		e.gauge("waymark_deliver_in_flight", "Deliveries under way.", float64(s.InFlight))
		for _, n := range sortedKeys(s.Channels, cmp.Compare[string]) {
			c, l := s.Channels[n], Label{"channel", n}
			e.counter("waymark_deliver_channel_delivered_total", "Sends delivered, by channel.", float64(c.Delivered), l)
			e.counter("waymark_deliver_channel_retried_total", "Delivery attempts retried, by channel.", float64(c.Retried), l)
			e.counter("waymark_deliver_channel_dead_total", "Sends dead-lettered, by channel.", float64(c.Dead), l)
			e.counter("waymark_deliver_channel_seconds_total", "Time spent delivering, by channel, over every attempt.", c.Seconds, l)
		}
	})
}

// ReloadMetrics reports hot reloads and the running program's version.
func ReloadMetrics(status func() reload.Status) prometheus.Collector {
	return statsCollector(func(e emitter) {
		s := status()
		refused := 0.0
		if s.Refused != nil {
			refused = 1
		}
		e.counter("waymark_reload_swaps_total", "Programs swapped in by a reload since start.", float64(s.Reloads))
		e.counter("waymark_reload_refusals_total", "Edits refused since start (errors in the workspace, or an install that failed).", float64(s.Refusals))
		e.gauge("waymark_reload_refused", "1 while the workspace on disk is refused and an older program serves.", refused)
		e.gauge("waymark_program_info", "The running program's version (its IR hash).", 1, Label{"version", s.Version})
		if !s.LastReload.IsZero() {
			e.gauge("waymark_reload_last_seconds", "When the running program was swapped in, in Unix seconds.", float64(s.LastReload.UnixMilli())/1e3)
		}
	})
}
