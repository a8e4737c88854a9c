package worker

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Stats are the worker's counters since New, for /metrics. Counters only
// grow; Queued is a gauge.
type Stats struct {
	Submits    uint64 // Submits enqueued
	Inputs     uint64 // inputs run through the engine and committed
	Duplicates uint64 // inputs skipped because their MessageID was already committed (or earlier in the batch)
	Failed     uint64 // inputs whose Submit got an error (failed commit, failed load, engine panic, stopped)
	Abandoned  uint64 // inputs dropped before any work because their Submit's context had ended
	Customers  uint64 // customer writes committed (one per customer per batch)
	Batches    uint64 // commits that returned nil
	Errors     uint64 // commits that failed, and batches failed without a commit (see Failed)
	Swaps      uint64 // engines installed by Swap
	CacheHits  uint64 // customer states found in the cache
	CacheLoads uint64 // customer states read from the store (cache misses, new customers included)
	Queued     int    // Submits waiting for their batch to be prepared, now
	// Sends counts the send decisions committed, by fate (engine.FateDeliver,
	// FateFailed, ...); a held send counts again when it is decided.
	Sends map[string]uint64
	// FailedSends counts the sends that failed at run time (fate failed:
	// a field that did not evaluate), by journey and send name.
	FailedSends map[SendName]uint64
	// Commit is the latency of store.Commit, failed ones included.
	Commit Histogram
}

// SendName names a send of a journey.
type SendName struct{ Journey, Send string }

// sendCounts are the counters behind Stats.Sends and Stats.FailedSends,
// added to once per committed batch.
type sendCounts struct {
	mu     sync.Mutex
	fates  map[string]uint64
	failed map[SendName]uint64
}

func (c *sendCounts) add(b *store.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range b.Customers {
		for k := range b.Customers[i].Results {
			for _, sd := range b.Customers[i].Results[k].Sends {
				if c.fates == nil {
					c.fates, c.failed = map[string]uint64{}, map[SendName]uint64{}
				}
				c.fates[sd.Fate]++
				if sd.Fate == engine.FateFailed {
					c.failed[SendName{sd.Journey, sd.Name}]++
				}
			}
		}
	}
}

func (c *sendCounts) snapshot() (map[string]uint64, map[SendName]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.fates), maps.Clone(c.failed)
}

// Histogram is a latency histogram in seconds in Prometheus' shape: Counts[i]
// is the number of observations <= Bounds[i] (cumulative); Count is the
// number of all observations (the +Inf bucket) and Sum their total.
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// LatencyBounds are the bucket bounds of the worker's and the scheduler's
// latency histograms: 100µs to 10s, wide enough for an fsync-bound commit on
// a slow disk and for a timer firing late after a restart.
var LatencyBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Recorder collects a latency histogram with LatencyBounds; safe for
// concurrent use, lock-free, so that observing costs the hot path nothing.
// The zero value is ready.
type Recorder struct {
	buckets [17]atomic.Uint64 // len(LatencyBounds)+1: the last is +Inf
	sumNs   atomic.Int64
}

// Observe records one duration.
func (r *Recorder) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBounds) && s > LatencyBounds[i] {
		i++
	}
	r.buckets[i].Add(1)
	r.sumNs.Add(int64(d))
}

// Snapshot returns the histogram so far.
func (r *Recorder) Snapshot() Histogram {
	h := Histogram{Bounds: LatencyBounds, Counts: make([]uint64, len(LatencyBounds))}
	var cum uint64
	for i := range LatencyBounds {
		cum += r.buckets[i].Load()
		h.Counts[i] = cum
	}
	h.Count = cum + r.buckets[len(LatencyBounds)].Load()
	h.Sum = time.Duration(r.sumNs.Load()).Seconds()
	return h
}

// Quantile estimates the q-quantile (0 < q <= 1) from the buckets the way
// Prometheus' histogram_quantile does: linear within the bucket that holds
// it. It returns the last finite bound when the quantile falls in +Inf.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 {
		return 0
	}
	rank := q * float64(h.Count)
	lower, prev := 0.0, uint64(0)
	for i, c := range h.Counts {
		if float64(c) >= rank {
			in := float64(c - prev)
			if in == 0 {
				return h.Bounds[i]
			}
			return lower + (h.Bounds[i]-lower)*(rank-float64(prev))/in
		}
		lower, prev = h.Bounds[i], c
	}
	return h.Bounds[len(h.Bounds)-1]
}

// counters are the worker's live counters behind Stats.
type counters struct {
	submits, inputs, duplicates, failed, abandoned atomic.Uint64
	customers                                      atomic.Uint64
	batches, errors, swaps, cacheHits, cacheLoads  atomic.Uint64
	commit                                         Recorder
	sends                                          sendCounts
}
