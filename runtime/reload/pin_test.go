package reload

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// pinned is v1 with in_flight = "pin" and a bump of n.
func pinned(n string) string {
	src := strings.Replace(v1, `reentry = "never"`, `reentry = "never"
  in_flight = "pin"`, 1)
	return strings.Replace(src, `coalesce(customer.pings, 0) + 1`, `coalesce(customer.pings, 0) + `+n, 1)
}

// Two reloads to journeys that pin: customers who entered under v1 and v2
// keep running their versions (their bumps), new ones run v3; a restart
// finds both earlier versions in the store.
func TestReloadPinKeepsEarlierVersions(t *testing.T) {
	g := newRig(t, v1, Options{})
	g.submit("c1", "signed_up")
	v1Version := g.r.Status().Journeys[0].Version

	reloadTo := func(src string) string {
		t.Helper()
		before := g.r.Status().Version
		write(t, filepath.Join(g.dir, "welcome.journey.hcl"), src)
		s := g.waitStatus("the reload", func(s Status) bool {
			return s.Version != before && s.Migration != nil && s.Migration.Version == s.Version && !s.Migration.Finished.IsZero()
		})
		return s.Journeys[0].Version
	}
	v2Version := reloadTo(pinned("10"))
	g.submit("c2", "signed_up")
	v3Version := reloadTo(pinned("100"))
	g.submit("c3", "signed_up")

	if got, want := g.w.Engine().PinnedVersions(), sorted(v1Version, v2Version); !slices.Equal(got, want) {
		t.Errorf("pinned versions %v, want %v", got, want)
	}
	for id, want := range map[string]struct {
		version string
		pings   float64
	}{"c1": {v1Version, 1}, "c2": {v2Version, 10}, "c3": {v3Version, 100}} {
		g.submit(id, "ping")
		c := g.customer(id)
		if in := c.Instance("welcome"); in.Version != want.version || c.Traits["pings"] != want.pings {
			t.Errorf("%s: version %s, pings %v; want %s, %v", id, in.Version, c.Traits["pings"], want.version, want.pings)
		}
	}

	// A restart: the engine is built from the files, the earlier versions
	// come from the store's programs.
	p, _, err := Load(g.dir, engine.Options{})
	if err != nil || p == nil {
		t.Fatal(err)
	}
	if err := Pin(context.Background(), g.st, p, engine.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Engine.PinnedVersions(), sorted(v1Version, v2Version); !slices.Equal(got, want) {
		t.Errorf("after a restart: pinned versions %v, want %v", got, want)
	}

	// Once c1 ends, v1 is needed no more.
	g.submit("c1", "ordered")
	earlier, err := Earlier(context.Background(), g.st, p.IR, nil)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, q := range earlier {
		for _, j := range q.Journeys {
			versions = append(versions, j.Version)
		}
	}
	if !slices.Equal(versions, []string{v2Version}) {
		t.Errorf("earlier programs hold %v, want only %s", versions, v2Version)
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// A program that pins nothing needs no earlier program, and Pin leaves its
// engine alone.
func TestPinNothing(t *testing.T) {
	g := newRig(t, v1, Options{})
	g.submit("c1", "signed_up")
	p := g.r.Current()
	eng := p.Engine
	if err := Pin(context.Background(), g.st, p, engine.Options{}, []*ir.Program{p.IR}); err != nil || p.Engine != eng || p.Earlier != nil {
		t.Errorf("Pin on a program that pins nothing: %v, engine replaced %v, earlier %v", err, p.Engine != eng, p.Earlier)
	}
}
