package reload

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// A node of a cluster takes shards whose customers entered a pinning
// journey on a version that another node saved after this one started:
// Adopt finds that version in the store and swaps in an engine that runs
// it, so those customers stay on it; the lister is asked for the
// customers on none of the versions the engine runs, and they are woken.
// Without the Pin in Adopt, c1's next ping would move it to the running
// version (bump 100) with an error.
func TestAdoptLoadsVersionsSavedLater(t *testing.T) {
	g := newRig(t, pinned("100"), Options{})
	ctx := context.Background()

	// Another node runs pinned("1"), saved after this node started, and
	// c1 enters on it there.
	dir := t.TempDir()
	write(t, filepath.Join(dir, "schema.journey.hcl"), schema)
	write(t, filepath.Join(dir, "welcome.journey.hcl"), pinned("1"))
	other, _, err := Load(dir, engine.Options{})
	if err != nil || other == nil {
		t.Fatal(err)
	}
	if _, err := Install(ctx, g.st, other, time.Now()); err != nil {
		t.Fatal(err)
	}
	ow := worker.New(g.st, other.Engine, worker.Options{})
	octx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ow.Run(octx) }()
	if err := ow.Submit(ctx, []worker.Item{{CustomerID: "c1", Input: engine.Input{Kind: engine.KindEvent, Event: "signed_up"}}}); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	earlier := other.IR.Journeys[0].Version
	if slices.Contains(g.w.Engine().PinnedVersions(), earlier) {
		t.Fatal("the engine runs the other node's version before Adopt: the test shows nothing")
	}

	// This node takes c1's shard.
	var asked []string
	woken, err := g.r.Adopt(ctx, func(ctx context.Context, versions []string, after string, limit int) ([]string, error) {
		asked = versions
		if after != "" {
			return nil, nil
		}
		return []string{"c9"}, nil // a customer on a version nobody runs any more
	})
	if err != nil || woken != 1 {
		t.Fatalf("Adopt: woke %d, %v; want 1", woken, err)
	}
	if !slices.Contains(g.w.Engine().PinnedVersions(), earlier) || !slices.Contains(g.r.Current().Engine.PinnedVersions(), earlier) {
		t.Fatalf("after Adopt the engine runs pinned versions %v, want %s among them", g.w.Engine().PinnedVersions(), earlier)
	}
	if !slices.Contains(asked, earlier) || !slices.Contains(asked, g.r.Current().IR.Journeys[0].Version) {
		t.Errorf("the lister was asked for customers on none of %v: want the running and the pinned versions", asked)
	}
	g.submit("c1", "ping")
	if c := g.customer("c1"); c.Instance("welcome").Version != earlier || c.Traits["pings"] != float64(1) {
		t.Errorf("c1 after a ping: version %s, pings %v; want it pinned to %s (bump 1)", c.Instance("welcome").Version, c.Traits["pings"], earlier)
	}
}
