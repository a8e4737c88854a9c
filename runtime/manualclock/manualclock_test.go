package manualclock

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// Two waits in a row, each followed by a send.
const twoWaits = `
channel "log" {
  type = "log"
}
journey "remind" {
  entry "signup" {}
  stage "first" {
    after "1h" { goto = stage.one }
  }
  stage "one" {
    send "one" {
      channel = channel.log
      data    = { at = now }
    }
    after "2h" { goto = stage.two }
  }
  stage "two" {
    send "two" {
      channel = channel.log
      data    = { at = now }
    }
    goto = end
  }
}
`

type rig struct {
	st    *sqlite.Store
	w     *worker.Worker
	clock *Clock
}

// newRig runs a real worker over a real SQLite file, both on the manual
// clock, as `waymark run --clock manual` wires them.
func newRig(t *testing.T, start time.Time) *rig {
	t.Helper()
	ws, diags := lang.Parse(".", []lang.SourceFile{{Path: "x.journey.hcl", Src: []byte(twoWaits)}})
	res, more := compiler.Check(ws, compiler.Options{})
	if diags = append(diags, more...); diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "waymark.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st}
	r.clock = New(start, st, func(ctx context.Context, items []worker.Item) error { return r.w.Submit(ctx, items) })
	r.w = worker.New(st, eng, worker.Options{Now: r.clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return r
}

func (r *rig) signup(t *testing.T, id string) {
	t.Helper()
	err := r.w.Submit(context.Background(), []worker.Item{{CustomerID: id, Input: engine.Input{Kind: engine.KindEvent, Event: "signup"}}})
	if err != nil {
		t.Fatal(err)
	}
}

func (r *rig) advance(t *testing.T, d time.Duration) int {
	t.Helper()
	n, err := r.clock.Advance(context.Background(), r.clock.Now().Add(d))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sent lists a customer's sends as "name@offset from start", in order.
func (r *rig) sent(t *testing.T, id string, start time.Time) []string {
	t.Helper()
	recs, err := r.st.Sends(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range recs {
		out = append(out, s.Send.Name+"@"+s.Send.At.Sub(start).String())
	}
	return out
}

func TestAdvanceFiresEverythingDueInOrder(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := newRig(t, start)
	r.signup(t, "a")
	if n := r.advance(t, 30*time.Minute); n != 0 {
		t.Errorf("nothing is due in the first 30m, fired %d", n)
	}
	r.signup(t, "b") // at 10:30

	// 4h: a's waits end at 1h and 3h, b's at 1h30 and 3h30, each second
	// wait set by the commit of the first; all four fire, each at its
	// own due time.
	if n := r.advance(t, 4*time.Hour); n != 4 {
		t.Errorf("fired %d wakes, want 4", n)
	}
	if got, want := r.clock.Now(), start.Add(4*time.Hour+30*time.Minute); !got.Equal(want) {
		t.Errorf("clock at %s, want %s", got, want)
	}
	if got := strings.Join(r.sent(t, "a", start), " "); got != "one@1h0m0s two@3h0m0s" {
		t.Errorf("a's sends: %s", got)
	}
	if got := strings.Join(r.sent(t, "b", start), " "); got != "one@1h30m0s two@3h30m0s" {
		t.Errorf("b's sends: %s", got)
	}
	// The engine's `now` is the manual clock's.
	recs, _ := r.st.Sends(context.Background(), "b")
	if at := recs[0].Send.Fields["data"].(map[string]any)["at"]; at != "2026-03-02T11:30:00Z" {
		t.Errorf("now in b's first send = %v, want 2026-03-02T11:30:00Z", at)
	}
	if n := r.advance(t, 24*time.Hour); n != 0 {
		t.Errorf("nothing left to fire, fired %d", n)
	}
}

func TestAdvanceRefusesToGoBack(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := newRig(t, start)
	_, err := r.clock.Advance(context.Background(), start.Add(-time.Second))
	if err == nil || !strings.Contains(err.Error(), "only moves forward") {
		t.Fatalf("err = %v", err)
	}
	if !r.clock.Now().Equal(start) {
		t.Errorf("the clock moved: %s", r.clock.Now())
	}
}

// A store that keeps listing a wake after it was committed would make
// Advance loop for ever: it stops with an error naming the customer.
func TestAdvanceStopsOnAStuckTimer(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	stuck := stuckStore{at: start.Add(time.Minute)}
	submits := 0
	c := New(start, stuck, func(context.Context, []worker.Item) error { submits++; return nil })
	_, err := c.Advance(context.Background(), start.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), `customer "x" is still due`) || submits != 1 {
		t.Fatalf("err = %v after %d submits", err, submits)
	}
}

type stuckStore struct{ at time.Time }

func (s stuckStore) Due(context.Context, time.Time, int) ([]store.Wake, error) {
	return []store.Wake{{CustomerID: "x", At: s.at}}, nil
}
