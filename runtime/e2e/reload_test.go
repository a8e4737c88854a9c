package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReloadUnderLoad edits the workspace while pings stream in: the new
// version goes live, instances move by stage name, one in a removed stage
// ends exited (stage_removed), and no event is lost or doubled. Then a
// broken edit is refused and shown by /v1/status while serving goes on.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the waymark binary")
	}
	ws := copyDir(t, filepath.Join("testdata", "ws"))
	db := "sqlite:" + filepath.Join(t.TempDir(), "waymark.db")
	p := startWaymark(t, nil, nil, "--store", db, "--deliver", "log", ws)
	c := newClient(p.base)
	ctx := context.Background()

	const counting, parked = 40, 20
	id := func(i int) string { return fmt.Sprintf("r%03d", i) }
	var setup []call
	for i := range counting + parked {
		setup = append(setup, call{Type: "track", UserID: id(i), Event: "signed_up", MessageID: id(i) + "/signed_up"})
	}
	for i := counting; i < counting+parked; i++ {
		setup = append(setup, call{Type: "track", UserID: id(i), Event: "park", MessageID: id(i) + "/park"})
	}
	if err := c.batch(ctx, setup); err != nil {
		t.Fatal(err)
	}
	var before statusDoc
	c.getJSON(t, "/v1/status", &before)

	// Stream: round after round, one ping for every counting customer,
	// from two senders (each owns half the customers, so each customer's
	// pings stay in order). Every round must be acknowledged.
	var (
		mu     sync.Mutex
		acked  = map[string]int{}
		rounds int
		failed []error
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for s := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; ; r++ {
				select {
				case <-stop:
					return
				default:
				}
				var b []call
				for i := s; i < counting; i += 2 {
					b = append(b, call{Type: "track", UserID: id(i), Event: "ping", MessageID: fmt.Sprintf("%s/ping/%d", id(i), r)})
				}
				err := c.batch(ctx, b)
				mu.Lock()
				if err != nil {
					failed = append(failed, err)
				} else {
					for _, x := range b {
						acked[x.UserID]++
					}
					if s == 0 {
						rounds++
					}
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	waitRounds := func(n int) {
		t.Helper()
		eventually(t, time.Minute, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(failed) > 0 {
				t.Fatalf("a batch was refused during the load: %v", failed[0])
			}
			if rounds < n {
				return fmt.Errorf("%d rounds of %d", rounds, n)
			}
			return nil
		})
	}
	roundsNow := func() int {
		mu.Lock()
		defer mu.Unlock()
		return rounds
	}

	// 1. A good edit under load: remove the parked stage (and the way in),
	// and change count's timer so the journey gets a new version.
	waitRounds(5)
	path := filepath.Join(ws, "counter.journey.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v2 := string(src)
	for _, cut := range []string{
		"    on \"park\" { goto = stage.parked }\n",
		"  stage \"parked\" {\n    on \"unpark\" { goto = stage.count }\n  }\n",
	} {
		if !strings.Contains(v2, cut) {
			t.Fatalf("the workspace no longer holds %q", cut)
		}
		v2 = strings.Replace(v2, cut, "", 1)
	}
	v2 = strings.Replace(v2, `after "30d" { goto = end }`, `after "60d" { goto = end }`, 1)
	writeFile(t, path, v2)

	var after statusDoc
	eventually(t, time.Minute, func() error {
		c.getJSON(t, "/v1/status", &after)
		if after.Version == before.Version || after.Migration == nil || after.Migration.Finished.IsZero() {
			return fmt.Errorf("status: version %s, migration %+v, refused %+v", after.Version, after.Migration, after.Refused)
		}
		return nil
	})
	if after.Reloads != 1 || after.Refused != nil || after.Migration.Error != "" || after.Migration.Woken != counting+parked {
		t.Errorf("status after the reload: %+v migration %+v", after, after.Migration)
	}
	newVersion := after.Journeys[0].Version
	if newVersion == before.Journeys[0].Version {
		t.Fatal("the journey's version did not change")
	}

	// 2. A broken edit under load: refused, shown, and serving goes on.
	waitRounds(roundsNow() + 5)
	broken := strings.Replace(v2, "goto = stage.bump", "goto = stage.bmup", 1)
	writeFile(t, path, broken)
	var refused statusDoc
	eventually(t, time.Minute, func() error {
		c.getJSON(t, "/v1/status", &refused)
		if refused.Refused == nil {
			return errNotYet
		}
		return nil
	})
	shown := false
	for _, d := range refused.Refused.Diagnostics {
		shown = shown || (d.Severity == "error" && d.Summary == "Unknown stage" && d.File == "counter.journey.hcl" && strings.Contains(d.Detail, `"bmup"`))
	}
	if refused.Version != after.Version || refused.Refused.Errors != 1 || !shown {
		t.Errorf("status after a broken edit: version %s (want %s), refused %+v", refused.Version, after.Version, refused.Refused)
	}
	waitRounds(roundsNow() + 5)
	close(stop)
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("a batch was refused during the load: %v", failed[0])
	}

	// 3. Counts: every acknowledged ping applied once; customers in count
	// moved to the new version; customers in the removed stage ended.
	for i := range counting + parked {
		doc := c.customer(t, id(i))
		if len(doc.Instances) != 1 {
			t.Fatalf("%s: instances %+v", id(i), doc.Instances)
		}
		in := doc.Instances[0]
		if i < counting {
			if got := pings(doc); got != acked[id(i)] {
				t.Errorf("%s: %d pings, %d acknowledged", id(i), got, acked[id(i)])
			}
			if in.Status != "active" || in.Stage != "count" || in.Version != newVersion {
				t.Errorf("%s: %+v, want active in count on %s", id(i), in, newVersion)
			}
			migrated := false
			for _, h := range in.History {
				migrated = migrated || (h.Cause == "migrate" && h.From == "count" && h.To == "count" && h.Version == newVersion)
			}
			if !migrated {
				t.Errorf("%s: no migrate transition in %+v", id(i), in.History)
			}
			continue
		}
		if in.Status != "exited" || in.Cause != "stage_removed" || in.Stage != "parked" {
			t.Errorf("%s: %+v, want exited by stage_removed", id(i), in)
		}
	}
	var js journeysDoc
	c.getJSON(t, "/v1/journeys", &js)
	if len(js.Journeys) != 1 || js.Journeys[0].Active != counting || js.Journeys[0].Version != newVersion || len(js.Journeys[0].OlderVersions) != 0 {
		t.Errorf("journeys: %+v", js)
	}
	for _, st := range js.Journeys[0].Stages {
		if want := map[string]int{"count": counting}[st.Name]; st.Active != want {
			t.Errorf("stage %s: %d active, want %d", st.Name, st.Active, want)
		}
	}
	t.Logf("%d rounds of %d pings, two reloads (one refused), nothing lost or doubled", roundsNow(), counting)
}

// writeFile replaces a file the way editors save: a new file renamed over
// the old one.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
