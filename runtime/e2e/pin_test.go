package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPinAcrossRestart: a reload to a journey with in_flight = "pin" keeps
// the customer already inside on the version they entered, a new one runs
// the new version, and both still do after the process restarts on the
// same store: the earlier version is loaded from the store's programs.
// /v1/journeys shows both versions, the earlier one pinned.
func TestPinAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the waymark binary")
	}
	ws := copyDir(t, filepath.Join("testdata", "ws"))
	db := "sqlite:" + filepath.Join(t.TempDir(), "waymark.db")
	p := startWaymark(t, nil, nil, "--store", db, "--deliver", "log", ws)
	c := newClient(p.base)
	ctx := context.Background()
	seq := 0
	send := func(user, event string) {
		t.Helper()
		seq++
		if err := c.batch(ctx, []call{{Type: "track", UserID: user, Event: event, MessageID: fmt.Sprintf("%s/%s/%d", user, event, seq)}}); err != nil {
			t.Fatal(err)
		}
	}
	pingsOf := func(user string) int {
		t.Helper()
		doc := c.customer(t, user)
		return pings(doc)
	}
	send("p1", "signed_up")
	send("p1", "ping")
	var before statusDoc
	c.getJSON(t, "/v1/status", &before)

	path := filepath.Join(ws, "counter.journey.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(string(src), `reentry     = "never"`, `reentry     = "never"
  in_flight   = "pin"`, 1)
	v2 = strings.Replace(v2, `coalesce(customer.pings, 0) + 1`, `coalesce(customer.pings, 0) + 10`, 1)
	if v2 == string(src) {
		t.Fatal("the edit changed nothing")
	}
	writeFile(t, path, v2)
	eventually(t, time.Minute, func() error {
		var s statusDoc
		c.getJSON(t, "/v1/status", &s)
		if s.Version == before.Version || s.Migration == nil || s.Migration.Version != s.Version || s.Migration.Finished.IsZero() {
			return fmt.Errorf("not reloaded yet: %+v", s)
		}
		return nil
	})
	send("p2", "signed_up")
	send("p1", "ping")
	send("p2", "ping")
	if got1, got2 := pingsOf("p1"), pingsOf("p2"); got1 != 2 || got2 != 10 {
		t.Errorf("after the reload: p1 %d pings (want 2: v1 adds 1), p2 %d (want 10: v2 adds 10)", got1, got2)
	}

	if code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, p.stderr())
	}
	p = startWaymark(t, nil, nil, "--store", db, "--deliver", "log", ws)
	c = newClient(p.base)
	send("p1", "ping")
	send("p2", "ping")
	if got1, got2 := pingsOf("p1"), pingsOf("p2"); got1 != 3 || got2 != 20 {
		t.Errorf("after a restart: p1 %d pings (want 3), p2 %d (want 20)", got1, got2)
	}

	var doc struct {
		Journeys []struct {
			Name     string `json:"name"`
			InFlight string `json:"in_flight"`
			Versions []struct {
				Version         string
				Active          int
				Current, Pinned bool
			} `json:"versions"`
		} `json:"journeys"`
	}
	c.getJSON(t, "/v1/journeys", &doc)
	if len(doc.Journeys) != 1 {
		t.Fatalf("journeys: %+v", doc)
	}
	j := doc.Journeys[0]
	if j.InFlight != "pin" || len(j.Versions) != 2 || !j.Versions[0].Current || j.Versions[0].Active != 1 ||
		!j.Versions[1].Pinned || j.Versions[1].Active != 1 || j.Versions[1].Version != before.Journeys[0].Version {
		t.Errorf("journey %+v; want in_flight pin, the current version with 1 active, then %s pinned with 1", j, before.Journeys[0].Version)
	}
}
