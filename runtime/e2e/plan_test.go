package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// planDoc is the part of waymark.plan/v1 the test reads.
type planDoc struct {
	Format   string `json:"format"`
	Journeys []struct {
		Name     string `json:"name"`
		InFlight int    `json:"in_flight"`
		Impact   []struct {
			Stage       string `json:"stage"`
			Customers   int    `json:"customers"`
			Disposition string `json:"disposition"`
			To          string `json:"to"`
			Cause       string `json:"cause"`
		} `json:"impact"`
	} `json:"journeys"`
	Summary map[string]int `json:"summary"`
}

// TestPlanThenReload runs a real server with customers spread over three
// stages, asks `waymark plan --server` what an edit would do, writes the
// edit into the live workspace, and then finds every customer where the
// plan said, and the reload's own account equal to the plan.
func TestPlanThenReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the waymark binary")
	}
	ws := copyDir(t, filepath.Join("testdata", "plan", "v1"))
	db := "sqlite:" + filepath.Join(t.TempDir(), "waymark.db")
	const token = "plan-token"
	env := []string{"WAYMARK_ADMIN_TOKEN=" + token}
	p := startWaymark(t, env, nil, "--store", db, "--deliver", "log", ws)
	c := newClient(p.base)
	c.token = token
	ctx := context.Background()

	// 20 in welcome, 10 in engaged, 5 in parked.
	stages := map[string]string{}
	var calls []call
	add := func(prefix string, n int, stage string, events ...string) {
		for i := range n {
			id := fmt.Sprintf("%s%02d", prefix, i)
			stages[id] = stage
			for _, ev := range events {
				calls = append(calls, call{Type: "track", UserID: id, Event: ev, MessageID: id + "/" + ev})
			}
		}
	}
	add("w", 20, "welcome", "signed_up")
	add("e", 10, "engaged", "signed_up", "project_created")
	add("p", 5, "parked", "signed_up", "park")
	if err := c.batch(ctx, calls); err != nil {
		t.Fatal(err)
	}
	var before statusDoc
	c.getJSON(t, "/v1/status", &before)

	// The plan, through the CLI, as CI would run it.
	planOf := func(dir string) (stdout []byte, code int) {
		cmd := exec.Command(waymarkBinary(t), "plan", "--server", p.base, "--format", "json", "--detailed-exitcode", dir)
		cmd.Env = append(os.Environ(), env...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code == 1 {
			t.Fatalf("waymark plan %s failed:\n%s", dir, errOut.String())
		}
		return out.Bytes(), cmd.ProcessState.ExitCode()
	}
	out, code := planOf(filepath.Join("testdata", "plan", "v2"))
	if code != 3 {
		t.Fatalf("waymark plan exited %d, want 3 (customers move):\n%s", code, out)
	}
	var plan planDoc
	if err := json.Unmarshal(out, &plan); err != nil || plan.Format != "waymark.plan/v1" || len(plan.Journeys) != 1 {
		t.Fatalf("the plan: %v\n%s", err, out)
	}
	// What happens to each stage's customers, by the plan.
	type fate struct{ disposition, to, cause string }
	byStage := map[string]fate{}
	for _, im := range plan.Journeys[0].Impact {
		byStage[im.Stage] = fate{im.Disposition, im.To, im.Cause}
		n := 0
		for _, s := range stages {
			if s == im.Stage {
				n++
			}
		}
		if im.Customers != n {
			t.Errorf("the plan counts %d customers in %s, there are %d", im.Customers, im.Stage, n)
		}
	}
	want := map[string]fate{
		"welcome": {"redirected", "intro", ""},
		"engaged": {"moved", "active_user", ""},
		"parked":  {"exited", "", "stage_removed"},
	}
	if fmt.Sprint(byStage) != fmt.Sprint(want) {
		t.Errorf("the plan says %v, want %v", byStage, want)
	}

	// The edit, written into the live workspace.
	for _, name := range []string{"trial.journey.hcl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "plan", "v2", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(ws, name), string(data))
	}
	var after struct {
		Version   string `json:"version"`
		Migration *struct {
			Finished time.Time      `json:"finished"`
			Summary  map[string]int `json:"summary"`
			Journeys json.RawMessage
		} `json:"migration"`
	}
	eventually(t, time.Minute, func() error {
		c.getJSON(t, "/v1/status", &after)
		if after.Version == before.Version || after.Migration == nil || after.Migration.Finished.IsZero() {
			return errNotYet
		}
		return nil
	})
	if fmt.Sprint(after.Migration.Summary) != fmt.Sprint(plan.Summary) {
		t.Errorf("the reload's account %v differs from the plan's %v", after.Migration.Summary, plan.Summary)
	}
	// What runs now is the edit: planning it again changes nothing.
	if out, code := planOf(filepath.Join("testdata", "plan", "v2")); code != 0 {
		t.Errorf("a plan of what runs exited %d, want 0:\n%s", code, out)
	}

	// Every customer is where the plan said.
	for id, stage := range stages {
		doc := c.customer(t, id)
		if len(doc.Instances) != 1 {
			t.Fatalf("%s: instances %+v", id, doc.Instances)
		}
		in := doc.Instances[0]
		f := byStage[stage]
		switch f.disposition {
		case "exited":
			if in.Status != "exited" || in.Cause != f.cause {
				t.Errorf("%s (was in %s): %s %s in %s, the plan said exited (%s)", id, stage, in.Status, in.Cause, in.Stage, f.cause)
			}
		default:
			if in.Status != "active" || in.Stage != f.to {
				t.Errorf("%s (was in %s): %s in %s, the plan said %s to %s", id, stage, in.Status, in.Stage, f.disposition, f.to)
			}
		}
	}
}
