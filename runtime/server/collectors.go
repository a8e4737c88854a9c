package server

import (
	"slices"

	"github.com/waymark-dev/waymark/runtime/deliver"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// The collectors below turn the other components' Stats into metric
// families for Options.Metrics. They take the Stats functions rather than
// the components, so that a test can feed them figures.

// WorkerMetrics reports the worker: inputs, batches, cache, commit latency.
func WorkerMetrics(stats func() worker.Stats) func() []Family {
	return func() []Family {
		s := stats()
		return []Family{
			CounterFamily("waymark_worker_inputs_total", "Inputs run through the engine and committed.", float64(s.Inputs)),
			CounterFamily("waymark_worker_duplicates_total", "Inputs skipped because their messageId was already committed.", float64(s.Duplicates)),
			CounterFamily("waymark_worker_failed_total", "Inputs whose Submit got an error (failed commit, failed load, stopped).", float64(s.Failed)),
			CounterFamily("waymark_worker_abandoned_total", "Inputs dropped before any work because their caller had gone.", float64(s.Abandoned)),
			CounterFamily("waymark_worker_customer_writes_total", "Customer states committed (one per customer per batch).", float64(s.Customers)),
			CounterFamily("waymark_worker_batches_total", "Group commits that succeeded.", float64(s.Batches)),
			CounterFamily("waymark_worker_errors_total", "Group commits that failed, and batches failed without a commit.", float64(s.Errors)),
			CounterFamily("waymark_worker_swaps_total", "Engines installed by a reload.", float64(s.Swaps)),
			CounterFamily("waymark_worker_cache_hits_total", "Customer states found in the worker's cache.", float64(s.CacheHits)),
			CounterFamily("waymark_worker_cache_loads_total", "Customer states read from the store.", float64(s.CacheLoads)),
			GaugeFamily("waymark_worker_queued", "Submits waiting to be collected into a batch.", float64(s.Queued)),
			histFamily("waymark_worker_commit_seconds", "Latency of the worker's group commits (store.Commit).", s.Commit),
		}
	}
}

// SchedulerMetrics reports the scheduler: wakes fired and how late.
func SchedulerMetrics(stats func() sched.Stats) func() []Family {
	return func() []Family {
		s := stats()
		return []Family{
			CounterFamily("waymark_sched_fired_total", "Timer wakes committed.", float64(s.Fired)),
			CounterFamily("waymark_sched_errors_total", "Failed wake submits and failed due-time queries.", float64(s.Errors)),
			CounterFamily("waymark_sched_polls_total", "Queries of the store's due-time index.", float64(s.Polls)),
			CounterFamily("waymark_sched_poll_rows_total", "Rows those queries returned.", float64(s.PollRows)),
			CounterFamily("waymark_sched_hints_total", "Next-wake hints from the worker's commits.", float64(s.Hints)),
			CounterFamily("waymark_sched_stuck_total", "Due rows whose wake had already committed: the store did not move the customer's next wake.", float64(s.Stuck)),
			GaugeFamily("waymark_sched_known", "Wakes held in memory.", float64(s.Known)),
			GaugeFamily("waymark_sched_inflight", "Wakes submitted and not yet committed.", float64(s.Inflight)),
			histFamily("waymark_sched_lag_seconds", "Time from a wake's due time to its commit.", s.Lag),
		}
	}
}

// DispatcherMetrics reports delivery: outcomes per channel, time spent.
func DispatcherMetrics(stats func() deliver.Stats) func() []Family {
	return func() []Family {
		s := stats()
		names := make([]string, 0, len(s.Channels))
		for n := range s.Channels {
			names = append(names, n)
		}
		slices.Sort(names)
		perChannel := func(name, help, typ string, v func(deliver.ChannelStats) float64) Family {
			f := Family{Name: name, Help: help, Type: typ}
			for _, n := range names {
				f.Samples = append(f.Samples, Sample{Labels: []Label{{"channel", n}}, Value: v(s.Channels[n])})
			}
			return f
		}
		return []Family{
			CounterFamily("waymark_deliver_delivered_total", "Sends the receiver took.", float64(s.Delivered)),
			CounterFamily("waymark_deliver_retried_total", "Failed delivery attempts put back for a retry.", float64(s.Retried)),
			CounterFamily("waymark_deliver_dead_total", "Sends given up on (dead letters): a permanent failure or too many attempts.", float64(s.Dead)),
			CounterFamily("waymark_deliver_interrupted_total", "Deliveries cut short by shutdown and put back.", float64(s.Interrupted)),
			CounterFamily("waymark_deliver_claim_errors_total", "Failed outbox claims.", float64(s.ClaimErrors)),
			CounterFamily("waymark_deliver_settle_errors_total", "Failed settlements (the lease brings the item back).", float64(s.SettleErrors)),
			GaugeFamily("waymark_deliver_in_flight", "Deliveries under way.", float64(s.InFlight)),
			perChannel("waymark_deliver_channel_delivered_total", "Sends delivered, by channel.", Counter, func(c deliver.ChannelStats) float64 { return float64(c.Delivered) }),
			perChannel("waymark_deliver_channel_retried_total", "Delivery attempts retried, by channel.", Counter, func(c deliver.ChannelStats) float64 { return float64(c.Retried) }),
			perChannel("waymark_deliver_channel_dead_total", "Sends dead-lettered, by channel.", Counter, func(c deliver.ChannelStats) float64 { return float64(c.Dead) }),
			perChannel("waymark_deliver_channel_seconds_total", "Time spent delivering, by channel, over every attempt.", Counter, func(c deliver.ChannelStats) float64 { return c.Seconds }),
		}
	}
}

// ReloadMetrics reports hot reloads and the running program's version.
func ReloadMetrics(status func() reload.Status) func() []Family {
	return func() []Family {
		s := status()
		refused := 0.0
		if s.Refused != nil {
			refused = 1
		}
		fams := []Family{
			CounterFamily("waymark_reload_swaps_total", "Programs swapped in by a reload since start.", float64(s.Reloads)),
			CounterFamily("waymark_reload_refusals_total", "Edits refused since start (errors in the workspace, or an install that failed).", float64(s.Refusals)),
			GaugeFamily("waymark_reload_refused", "1 while the workspace on disk is refused and an older program serves.", refused),
			{Name: "waymark_program_info", Help: "The running program's version (its IR hash).", Type: Gauge,
				Samples: []Sample{{Labels: []Label{{"version", s.Version}}, Value: 1}}},
		}
		if !s.LastReload.IsZero() {
			fams = append(fams, GaugeFamily("waymark_reload_last_seconds", "When the running program was swapped in, in Unix seconds.", float64(s.LastReload.UnixMilli())/1e3))
		}
		return fams
	}
}

// histFamily writes a worker.Histogram (cumulative counts per bound).
func histFamily(name, help string, h worker.Histogram) Family {
	f := Family{Name: name, Help: help, Type: Histogram}
	for i, b := range h.Bounds {
		c := uint64(0)
		if i < len(h.Counts) {
			c = h.Counts[i]
		}
		f.Samples = append(f.Samples, Sample{Suffix: "_bucket", Labels: []Label{{"le", formatValue(b)}}, Value: float64(c)})
	}
	f.Samples = append(f.Samples,
		Sample{Suffix: "_bucket", Labels: []Label{{"le", "+Inf"}}, Value: float64(h.Count)},
		Sample{Suffix: "_sum", Value: h.Sum},
		Sample{Suffix: "_count", Value: float64(h.Count)})
	return f
}
