package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Channel delivers sends of one configured channel.
type Channel interface {
	// Deliver makes one attempt. nil means the receiver has the message.
	// An error should be an *Error (see Permanent, Retryable) so that the
	// dispatcher knows whether to retry; an unclassified error is retried.
	// Deliver must return when ctx ends.
	Deliver(ctx context.Context, s engine.Send) error
}

// Backoff is the retry schedule: after the n-th failed attempt the next one
// waits a random time in [0, min(Cap, Base*Factor^(n-1))) ("full jitter"),
// so that sends that failed together do not all come back together.
type Backoff struct {
	Base   time.Duration // default 1s
	Factor float64       // default 2
	Cap    time.Duration // default 1h
}

// Max returns the upper bound of the wait after attempt n (1-based).
func (b Backoff) Max(n int) time.Duration {
	b = b.withDefaults()
	if n < 1 {
		n = 1
	}
	d := float64(b.Base) * math.Pow(b.Factor, float64(n-1))
	if d >= float64(b.Cap) || math.IsInf(d, 0) || math.IsNaN(d) {
		return b.Cap
	}
	return time.Duration(d)
}

// Delay returns the wait after attempt n for a random r in [0, 1).
func (b Backoff) Delay(n int, r float64) time.Duration {
	r = min(max(r, 0), 1)
	return time.Duration(r * float64(b.Max(n)))
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = time.Second
	}
	if b.Factor < 1 {
		b.Factor = 2
	}
	if b.Cap <= 0 {
		b.Cap = time.Hour
	}
	return b
}

// Options tune a Dispatcher. Zero values take the defaults.
type Options struct {
	Workers      int           // deliveries at once; default 8
	Lease        time.Duration // how long a claimed item is ours; default 30s
	PollInterval time.Duration // how often to look for due items without a Notify; default 200ms
	MaxAttempts  int           // attempts before a send goes to the dead letters; default 10
	Backoff      Backoff
	// Rand returns a number in [0, 1) for the backoff jitter; default
	// math/rand/v2. Tests pass a fixed value.
	Rand func() float64
	// Now is the clock for the store's times (claims, next attempts,
	// settlements); default time.Now in UTC. Timeouts run on real time.
	Now func() time.Time
	// ShutdownGrace is how long deliveries in flight may go on after Run's
	// context ends; default 10s. One cut short is put back for a prompt
	// retry without counting as an attempt.
	ShutdownGrace time.Duration
	Logger        *slog.Logger // default slog.Default()
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 200 * time.Millisecond
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	o.Backoff = o.Backoff.withDefaults()
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Dispatcher drains the outbox: it claims due items, delivers each through
// its channel, and settles it in the store.
type Dispatcher struct {
	st       store.Store
	opts     Options
	channels atomic.Pointer[map[string]Channel]
	notify   chan struct{}
	running  atomic.Bool

	mu    sync.Mutex
	stats Stats
}

// Stats are the dispatcher's counters since it was made, for metrics.
type Stats struct {
	Delivered uint64 // sends the receiver took
	Retried   uint64 // failed attempts put back for a later retry
	Dead      uint64 // sends given up on: a permanent failure or too many attempts
	InFlight  int    // deliveries under way now
	// Interrupted counts deliveries cut short by shutdown (put back, not
	// counted as attempts).
	Interrupted  uint64
	ClaimErrors  uint64 // failed ClaimOutbox calls
	SettleErrors uint64 // failed Delivered/Retry/Dead calls (the lease brings the item back)
	// Cancelled counts claimed items found gone just before their attempt
	// (store.Eraser.Deliverable): their customer was erased meanwhile.
	Cancelled uint64
	Channels  map[string]ChannelStats
}

// ChannelStats are one channel's counters.
type ChannelStats struct {
	Delivered, Retried, Dead uint64
	InFlight                 int
	// Seconds is the time spent in Deliver, summed over every attempt:
	// divided by the attempts it gives the mean latency.
	Seconds float64
}

// New returns a dispatcher over st delivering through channels (by name).
func New(st store.Store, channels map[string]Channel, opts Options) *Dispatcher {
	d := &Dispatcher{st: st, opts: opts.withDefaults(), notify: make(chan struct{}, 1)}
	d.stats.Channels = map[string]ChannelStats{}
	d.SetChannels(channels)
	return d
}

// SetChannels replaces the channels (a reload set them up anew). Deliveries
// under way finish on the channel they started with.
func (d *Dispatcher) SetChannels(channels map[string]Channel) {
	m := make(map[string]Channel, len(channels))
	budget := d.attemptBudget()
	for k, v := range channels {
		m[k] = v
		if t, ok := v.(interface{ Timeout() time.Duration }); ok && t.Timeout() > budget {
			d.opts.Logger.Warn("deliver: the channel's timeout is longer than an attempt may take; attempts are cut at the limit (raise Options.Lease)",
				"channel", k, "timeout", t.Timeout(), "limit", budget)
		}
	}
	d.channels.Store(&m)
}

// attemptBudget is how long one attempt may take: well inside the lease,
// since past it another dispatcher may claim the item and send it again.
func (d *Dispatcher) attemptBudget() time.Duration { return d.opts.Lease * 3 / 4 }

// Notify tells the dispatcher that the outbox may have new items: the worker
// calls it after a commit, so a send goes out at once instead of at the
// next poll. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// Stats returns a copy of the counters.
func (d *Dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.Channels = make(map[string]ChannelStats, len(d.stats.Channels))
	for k, v := range d.stats.Channels {
		s.Channels[k] = v
	}
	return s
}

// Run delivers until ctx ends, then lets the deliveries in flight finish
// (for up to ShutdownGrace) and settles them before it returns. It claims
// only as many items as it has free workers, so an item is never waiting in
// memory while its lease runs.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return fmt.Errorf("deliver: the dispatcher is already running")
	}
	defer d.running.Store(false)
	o := d.opts
	// Deliveries do not end with ctx: a message half sent when the process
	// is asked to stop is better finished than repeated. They end after the
	// grace period at the latest.
	dctx, cancelDeliveries := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDeliveries()

	var wg sync.WaitGroup
	done := make(chan struct{}, o.Workers)
	inFlight := 0
	more := true // there may be due items: claim when a worker is free
	poll := time.NewTimer(o.PollInterval)
	defer poll.Stop()
	for {
		if more && inFlight < o.Workers && ctx.Err() == nil {
			want := o.Workers - inFlight
			items, err := d.st.ClaimOutbox(ctx, o.Now(), o.Lease, want)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					d.count(func(s *Stats) { s.ClaimErrors++ })
					o.Logger.Error("deliver: claiming from the outbox failed", "err", err)
				}
				more = false // try again at the next poll, not in a tight loop
			default:
				more = len(items) == want
				for _, it := range items {
					inFlight++
					wg.Add(1)
					go func() {
						defer wg.Done()
						d.deliver(dctx, it)
						done <- struct{}{}
					}()
				}
				if more && inFlight < o.Workers {
					continue
				}
			}
		}
		select {
		case <-ctx.Done():
			grace := time.AfterFunc(o.ShutdownGrace, cancelDeliveries)
			defer grace.Stop()
			finished := make(chan struct{})
			go func() { wg.Wait(); close(finished) }()
			for {
				// Keep taking done signals so that no delivery blocks on
				// them, however many a misbehaving store handed out.
				select {
				case <-done:
				case <-finished:
					return nil
				}
			}
		case <-d.notify:
			more = true
		case <-done:
			inFlight--
		case <-poll.C:
			more = true
			poll.Reset(o.PollInterval)
		}
	}
}

// deliver makes one attempt and settles it.
func (d *Dispatcher) deliver(dctx context.Context, it store.OutboxItem) {
	o := d.opts
	s := it.Send
	if !d.stillDeliverable(dctx, s.Key) {
		return
	}
	ch := (*d.channels.Load())[s.Channel]
	d.count(func(st *Stats) {
		st.InFlight++
		cs := st.Channels[s.Channel]
		cs.InFlight++
		st.Channels[s.Channel] = cs
	})
	ctx, cancel := context.WithTimeout(dctx, d.attemptBudget())
	start := time.Now()
	var err error
	if ch == nil {
		// Retryable: a reload may bring the channel back; if not, the
		// send ends in the dead letters with this message.
		err = fmt.Errorf("no channel %q is set up", s.Channel)
	} else {
		err = safeDeliver(ctx, ch, s)
	}
	cancel()
	elapsed := time.Since(start).Seconds()

	attempt := it.Attempt + 1
	now := o.Now()
	log := o.Logger.With("key", s.Key, "channel", s.Channel, "attempt", attempt)
	// Decide first, count, then settle: whoever sees the settlement in the
	// store finds the counters already saying so.
	var settle func(ctx context.Context) error
	var outcome func(*Stats, *ChannelStats)
	switch {
	case err == nil:
		settle = func(ctx context.Context) error { return d.st.Delivered(ctx, s.Key, now) }
		outcome = func(st *Stats, c *ChannelStats) { st.Delivered++; c.Delivered++ }
		log.Debug("deliver: delivered")
	case dctx.Err() != nil:
		// Cut short by shutdown: not the receiver's fault, so not an attempt.
		msg := "interrupted by shutdown: " + err.Error()
		settle = func(ctx context.Context) error { return d.st.Retry(ctx, s.Key, it.Attempt, now, msg) }
		outcome = func(st *Stats, _ *ChannelStats) { st.Interrupted++ }
		log.Warn("deliver: interrupted by shutdown", "err", err)
	case IsPermanent(err):
		msg := err.Error()
		settle = func(ctx context.Context) error { return d.st.Dead(ctx, s.Key, attempt, now, msg) }
		outcome = func(st *Stats, c *ChannelStats) { st.Dead++; c.Dead++ }
		log.Error("deliver: permanent failure, dead-lettered", "err", err)
	case attempt >= o.MaxAttempts:
		msg := fmt.Sprintf("gave up after %d attempts: %v", attempt, err)
		settle = func(ctx context.Context) error { return d.st.Dead(ctx, s.Key, attempt, now, msg) }
		outcome = func(st *Stats, c *ChannelStats) { st.Dead++; c.Dead++ }
		log.Error("deliver: dead-lettered after the last attempt", "err", err)
	default:
		wait := o.Backoff.Delay(attempt, o.Rand())
		if ra := RetryAfterOf(err); ra > wait {
			wait = min(ra, o.Backoff.Cap)
		}
		msg := err.Error()
		settle = func(ctx context.Context) error { return d.st.Retry(ctx, s.Key, attempt, now.Add(wait), msg) }
		outcome = func(st *Stats, c *ChannelStats) { st.Retried++; c.Retried++ }
		log.Warn("deliver: failed, will retry", "err", err, "in", wait)
	}
	d.count(func(st *Stats) {
		cs := st.Channels[s.Channel]
		st.InFlight--
		cs.InFlight--
		cs.Seconds += elapsed
		outcome(st, &cs)
		st.Channels[s.Channel] = cs
	})
	sctx, scancel := context.WithTimeout(context.WithoutCancel(dctx), 10*time.Second)
	defer scancel()
	if serr := settle(sctx); serr != nil {
		// The item stays leased; when the lease runs out it is claimed
		// again and delivered again under the same key (at least once).
		d.count(func(st *Stats) { st.SettleErrors++ })
		log.Error("deliver: settling in the store failed", "err", serr)
	}
}

// safeDeliver turns a panicking channel into a retryable error: one bad
// send must not take the dispatcher down.
func safeDeliver(ctx context.Context, ch Channel, s engine.Send) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the channel panicked: %v", p)
		}
	}()
	return ch.Deliver(ctx, s)
}

func (d *Dispatcher) count(f func(*Stats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

// stillDeliverable asks a store that can erase customers whether the item
// claimed is still pending, just before the attempt: an erase between the
// claim and now has cancelled it, and it must not go out. An item gone is
// not settled (there is nothing left to settle). When the store cannot
// answer, the attempt waits: the lease runs out and the item is claimed
// again. What remains is the moment between this read and the attempt
// itself: an erase then finds the message already on its way.
func (d *Dispatcher) stillDeliverable(ctx context.Context, key string) bool {
	e, ok := d.st.(store.Eraser)
	if !ok {
		return true
	}
	pending, err := e.Deliverable(ctx, key)
	switch {
	case err != nil:
		d.count(func(st *Stats) { st.SettleErrors++ })
		d.opts.Logger.Error("deliver: checking the item before the attempt failed; it comes back when its lease ends", "key", key, "err", err)
		return false
	case !pending:
		d.count(func(st *Stats) { st.Cancelled++ })
		d.opts.Logger.Info("deliver: cancelled: the item is no longer pending (its customer was erased, or it was settled elsewhere)")
		return false
	}
	return true
}
