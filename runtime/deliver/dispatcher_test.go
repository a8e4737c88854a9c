package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testSend(key, channel string) engine.Send {
	return engine.Send{
		Key: key, Journey: "onboarding", Instance: "c-1/onboarding/1", Stage: "welcome",
		Name: "welcome_email", Channel: channel, ChannelType: "webhook",
		Fields: map[string]any{"data": map[string]any{"customer": "c-1"}},
		Fate:   engine.FateDeliver, At: t0,
	}
}

// chanFunc adapts a function to Channel.
type chanFunc func(ctx context.Context, s engine.Send) error

func (f chanFunc) Deliver(ctx context.Context, s engine.Send) error { return f(ctx, s) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startDispatcher runs d until the test ends.
func startDispatcher(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitSettled waits until the store has at least n settlements.
func waitSettled(t *testing.T, st *memStore, n int) []settlement {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if s := st.settlements(); len(s) >= n {
			return s
		}
		select {
		case <-st.changed:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatalf("waited for %d settlements, have %v", n, st.settlements())
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	b := Backoff{} // defaults: 1s, x2, 1h
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := b.Max(i + 1); got != w {
			t.Errorf("Max(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := b.Max(12); got != 2048*time.Second {
		t.Errorf("Max(12) = %v", got)
	}
	for _, n := range []int{13, 40, 1000, 1 << 30} {
		if got := b.Max(n); got != time.Hour {
			t.Errorf("Max(%d) = %v, want the 1h cap", n, got)
		}
	}
	if got := b.Delay(3, 0); got != 0 {
		t.Errorf("Delay(3, 0) = %v: full jitter starts at zero", got)
	}
	if got := b.Delay(3, 0.25); got != time.Second {
		t.Errorf("Delay(3, .25) = %v, want 1s", got)
	}
	if got := b.Delay(1000, 0.999); got >= time.Hour || got < 59*time.Minute {
		t.Errorf("Delay(1000, .999) = %v, want just under the cap", got)
	}
	custom := Backoff{Base: 100 * time.Millisecond, Factor: 3, Cap: 2 * time.Second}
	for n, w := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 300 * time.Millisecond, 3: 900 * time.Millisecond, 4: 2 * time.Second} {
		if got := custom.Max(n); got != w {
			t.Errorf("custom Max(%d) = %v, want %v", n, got, w)
		}
	}
}

// The schedule as the store sees it: each failed attempt is put back at now
// + jitter * min(cap, base*2^(n-1)), and the last one goes to the dead
// letters.
func TestDispatcherBackoffScheduleAndDeadLetter(t *testing.T) {
	st := newMemStore()
	clock := &fakeClock{t: t0}
	var keys []string
	var mu sync.Mutex
	ch := chanFunc(func(_ context.Context, s engine.Send) error {
		mu.Lock()
		keys = append(keys, s.Key)
		mu.Unlock()
		return Retryable(errors.New("503 busy"))
	})
	d := New(st, map[string]Channel{"crm": ch}, Options{
		MaxAttempts: 5, PollInterval: 2 * time.Millisecond, Now: clock.Now,
		Rand: func() float64 { return 0.5 }, Logger: quietLogger(),
	})
	send := testSend("c-1/onboarding/1/1/welcome", "crm")
	st.add(send, t0)
	startDispatcher(t, d)

	now := t0
	wantWaits := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	for i, wait := range wantWaits {
		s := waitSettled(t, st, i+1)[i]
		if s.Op != "retry" || s.Attempt != i+1 || !s.At.Equal(now.Add(wait)) {
			t.Fatalf("settlement %d = %+v, want retry attempt %d at %v", i, s, i+1, now.Add(wait))
		}
		// Not due a moment before its time...
		clock.Set(s.At.Add(-time.Millisecond))
		d.Notify()
		time.Sleep(20 * time.Millisecond)
		if n := len(st.settlements()); n != i+1 {
			t.Fatalf("attempt made before it was due: %v", st.settlements())
		}
		// ...and due at it.
		now = s.At
		clock.Set(now)
		d.Notify()
	}
	s := waitSettled(t, st, 5)[4]
	if s.Op != "dead" || s.Attempt != 5 || !strings.Contains(s.Error, "gave up after 5 attempts: 503 busy") {
		t.Fatalf("last settlement = %+v, want dead after 5 attempts", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 5 {
		t.Fatalf("%d attempts, want 5", len(keys))
	}
	for _, k := range keys {
		if k != send.Key {
			t.Errorf("attempt under key %q, want %q", k, send.Key)
		}
	}
	stats := d.Stats()
	if stats.Retried != 4 || stats.Dead != 1 || stats.Delivered != 0 || stats.Channels["crm"].Retried != 4 || stats.Channels["crm"].Dead != 1 {
		t.Errorf("stats = %+v", stats)
	}
}

func TestDispatcherPermanentFailureIsDeadAtOnce(t *testing.T) {
	st := newMemStore()
	calls := atomic.Int32{}
	ch := chanFunc(func(context.Context, engine.Send) error {
		calls.Add(1)
		return Permanent(errors.New("400 Bad Request"))
	})
	d := New(st, map[string]Channel{"crm": ch}, Options{PollInterval: 2 * time.Millisecond, Logger: quietLogger()})
	st.add(testSend("k1", "crm"), t0)
	startDispatcher(t, d)
	s := waitSettled(t, st, 1)[0]
	if s.Op != "dead" || s.Attempt != 1 || s.Error != "400 Bad Request" {
		t.Fatalf("settlement = %+v", s)
	}
	time.Sleep(20 * time.Millisecond)
	if calls.Load() != 1 {
		t.Errorf("%d attempts, want 1", calls.Load())
	}
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	st := newMemStore()
	clock := &fakeClock{t: t0}
	ch := chanFunc(func(context.Context, engine.Send) error {
		return &Error{Err: errors.New("429 Too Many Requests"), RetryAfter: 30 * time.Second}
	})
	d := New(st, map[string]Channel{"crm": ch}, Options{
		Now: clock.Now, Rand: func() float64 { return 0.5 }, Logger: quietLogger(),
		Backoff: Backoff{Cap: 20 * time.Second}, // the hint is honoured up to the cap
	})
	st.add(testSend("k1", "crm"), t0)
	startDispatcher(t, d)
	s := waitSettled(t, st, 1)[0]
	if s.Op != "retry" || !s.At.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("settlement = %+v, want a retry at the 20s cap", s)
	}
}

// A dispatcher that claimed an item and died never settles it; once the
// lease runs out another one delivers it, under the same key.
func TestDispatcherLeaseExpiryRedelivers(t *testing.T) {
	st := newMemStore()
	send := testSend("c-1/onboarding/1/1/welcome", "crm")
	st.add(send, t0)
	items, err := st.ClaimOutbox(context.Background(), t0, 30*time.Second, 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("crashed dispatcher's claim: %v %v", items, err)
	}

	clock := &fakeClock{t: t0.Add(10 * time.Second)}
	var got atomic.Value
	ch := chanFunc(func(_ context.Context, s engine.Send) error {
		got.Store(s.Key)
		return nil
	})
	d := New(st, map[string]Channel{"crm": ch}, Options{Now: clock.Now, PollInterval: 2 * time.Millisecond, Logger: quietLogger()})
	startDispatcher(t, d)
	time.Sleep(30 * time.Millisecond)
	if got.Load() != nil || len(st.settlements()) != 0 {
		t.Fatalf("an item under someone else's lease was delivered")
	}
	clock.Set(t0.Add(30*time.Second + time.Millisecond))
	s := waitSettled(t, st, 1)[0]
	if s.Op != "delivered" || s.Key != send.Key || got.Load() != send.Key {
		t.Fatalf("settlement %+v, delivered key %v; want %q delivered", s, got.Load(), send.Key)
	}
}

func TestDispatcherConcurrencyBound(t *testing.T) {
	st := newMemStore()
	const workers, n = 3, 10
	var cur, peak atomic.Int32
	gate := make(chan struct{})
	ch := chanFunc(func(ctx context.Context, s engine.Send) error {
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		defer cur.Add(-1)
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	d := New(st, map[string]Channel{"crm": ch}, Options{Workers: workers, PollInterval: time.Millisecond, Logger: quietLogger()})
	for i := range n {
		st.add(testSend(fmt.Sprintf("k%02d", i), "crm"), t0)
	}
	startDispatcher(t, d)
	deadline := time.Now().Add(5 * time.Second)
	for peak.Load() < workers && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room for a fourth delivery to start, if it could
	if p := peak.Load(); p != workers {
		t.Fatalf("peak concurrency %d, want %d", p, workers)
	}
	if s := d.Stats(); s.InFlight != workers || s.Channels["crm"].InFlight != workers {
		t.Errorf("in flight = %d (channel %d), want %d", s.InFlight, s.Channels["crm"].InFlight, workers)
	}
	close(gate)
	waitSettled(t, st, n)
	for _, s := range st.settlements() {
		if s.Op != "delivered" {
			t.Errorf("%+v", s)
		}
	}
	if p := peak.Load(); p > workers {
		t.Fatalf("peak concurrency %d, want at most %d", p, workers)
	}
	if s := d.Stats(); s.Delivered != n || s.InFlight != 0 || s.Channels["crm"].Delivered != n {
		t.Errorf("stats = %+v", s)
	}
}

// Notify wakes the dispatcher at once: with an hour between polls, a new
// item still goes out promptly.
func TestDispatcherNotifyWakes(t *testing.T) {
	st := newMemStore()
	ch := chanFunc(func(context.Context, engine.Send) error { return nil })
	d := New(st, map[string]Channel{"crm": ch}, Options{PollInterval: time.Hour, Logger: quietLogger()})
	startDispatcher(t, d)
	time.Sleep(20 * time.Millisecond) // the first claim finds nothing
	st.add(testSend("k1", "crm"), t0)
	start := time.Now()
	d.Notify()
	waitSettled(t, st, 1)
	if el := time.Since(start); el > time.Second {
		t.Errorf("delivered %v after Notify", el)
	}
}

// A delivery still running when Run's context ends gets the grace period,
// then is put back without counting as an attempt.
func TestDispatcherShutdownInterrupts(t *testing.T) {
	st := newMemStore()
	started := make(chan struct{})
	ch := chanFunc(func(ctx context.Context, s engine.Send) error {
		close(started)
		<-ctx.Done()
		return Retryable(ctx.Err())
	})
	d := New(st, map[string]Channel{"crm": ch}, Options{ShutdownGrace: 50 * time.Millisecond, Logger: quietLogger()})
	st.add(testSend("k1", "crm"), t0)
	stop := startDispatcher(t, d)
	<-started
	begin := time.Now()
	stop()
	if el := time.Since(begin); el > 5*time.Second {
		t.Errorf("shutdown took %v", el)
	}
	s := st.settlements()
	if len(s) != 1 || s[0].Op != "retry" || s[0].Attempt != 0 || !strings.Contains(s[0].Error, "interrupted by shutdown") {
		t.Fatalf("settlements = %+v, want one uncounted retry", s)
	}
	if d.Stats().Interrupted != 1 {
		t.Errorf("stats = %+v", d.Stats())
	}
}

// A delivery that finishes within the grace period is settled normally.
func TestDispatcherShutdownLetsDeliveryFinish(t *testing.T) {
	st := newMemStore()
	started := make(chan struct{})
	ch := chanFunc(func(ctx context.Context, s engine.Send) error {
		close(started)
		time.Sleep(30 * time.Millisecond)
		return nil
	})
	d := New(st, map[string]Channel{"crm": ch}, Options{Logger: quietLogger()})
	st.add(testSend("k1", "crm"), t0)
	stop := startDispatcher(t, d)
	<-started
	stop()
	if s := st.settlements(); len(s) != 1 || s[0].Op != "delivered" {
		t.Fatalf("settlements = %+v", s)
	}
}

func TestDispatcherMissingChannelAndPanic(t *testing.T) {
	st := newMemStore()
	ch := chanFunc(func(context.Context, engine.Send) error { panic("boom") })
	d := New(st, map[string]Channel{"crm": ch}, Options{Logger: quietLogger(), Rand: func() float64 { return 0.5 }})
	st.add(testSend("k1", "gone"), t0)
	st.add(testSend("k2", "crm"), t0)
	startDispatcher(t, d)
	got := map[string]settlement{}
	for _, s := range waitSettled(t, st, 2) {
		got[s.Key] = s
	}
	if s := got["k1"]; s.Op != "retry" || !strings.Contains(s.Error, `no channel "gone"`) {
		t.Errorf("missing channel: %+v", s)
	}
	if s := got["k2"]; s.Op != "retry" || !strings.Contains(s.Error, "panicked: boom") {
		t.Errorf("panicking channel: %+v", s)
	}
}

func TestDispatcherRunTwice(t *testing.T) {
	d := New(newMemStore(), nil, Options{Logger: quietLogger()})
	startDispatcher(t, d)
	time.Sleep(10 * time.Millisecond)
	if err := d.Run(context.Background()); err == nil {
		t.Fatal("a second Run started")
	}
}

// A channel whose timeout the lease cannot cover is named in a warning.
func TestDispatcherWarnsAboutLongTimeouts(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	wh, err := NewWebhook(WebhookConfig{Channel: "crm", URL: "https://crm.example.com/", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	New(newMemStore(), map[string]Channel{"crm": wh}, Options{Lease: 20 * time.Second, Logger: logger})
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "channel=crm") || !strings.Contains(buf.String(), "limit=15s") {
		t.Errorf("log: %s", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// greedyStore hands out every due item, whatever the limit: the dispatcher
// must still deliver them all and shut down.
type greedyStore struct{ *memStore }

func (g greedyStore) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, _ int) ([]store.OutboxItem, error) {
	return g.memStore.ClaimOutbox(ctx, now, lease, 1<<20)
}

func TestDispatcherSurvivesAGreedyStore(t *testing.T) {
	st := newMemStore()
	for i := range 20 {
		st.add(testSend(fmt.Sprintf("k%02d", i), "crm"), t0)
	}
	ch := chanFunc(func(context.Context, engine.Send) error { return nil })
	d := New(greedyStore{st}, map[string]Channel{"crm": ch}, Options{Workers: 2, Logger: quietLogger()})
	stop := startDispatcher(t, d)
	waitSettled(t, st, 20)
	stop()
}
