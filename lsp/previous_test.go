package lsp

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/internal/testtool"
)

// The from of moved and removed blocks completes the names the committed
// version (git HEAD) had and the files no longer declare; hover explains a
// name that is gone, without an error anywhere.
func TestCompletePreviousNames(t *testing.T) {
	testtool.Require(t, "git", "git")
	root := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", root, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	committed := `journey "old_trial" {
  entry "signup" {}
  goal "paid" {}
  stage "welcome" {
    after "1d" { goto = stage.engaged }
  }
  stage "engaged" {
    after "1d" { goto = stage.done }
  }
  stage "done" {}
}
`
	if err := os.WriteFile(filepath.Join(root, "trial.journey.hcl"), []byte(committed), 0o644); err != nil {
		t.Fatal(err)
	}
	run("init", "-q")
	run("add", ".")
	run("commit", "-q", "-m", "v1")

	now := `journey "trial" {
  entry "signup" {}
  goal "paid" {}
  stage "intro" {
    after "1d" { goto = stage.active_user }
  }
  stage "active_user" {
    after "1d" { goto = stage.done }
  }
  stage "done" {}
  moved {
    from = stage.STAGE_FROM
    to   = stage.active_user
  }
  removed {
    from = REMOVED_FROM
    goto = stage.intro
  }
}
moved {
  from = journey.JOURNEY_FROM
  to   = journey.trial
}
`
	const path = "trial.journey.hcl"
	values := map[string]string{"STAGE_FROM": "engaged", "REMOVED_FROM": "stage.welcome", "JOURNEY_FROM": "old_trial"}
	finish := func(text, except string) string {
		for m, v := range values {
			if m != except {
				text = strings.ReplaceAll(text, m, v)
			}
		}
		return text
	}
	// labels completes where marker is, with nothing typed there and the
	// other markers as finished.
	labels := func(marker string) []string {
		t.Helper()
		at := strings.Index(now, marker)
		if at < 0 {
			t.Fatalf("no %s", marker)
		}
		before := finish(now[:at], marker)
		src, off := before+finish(now[at+len(marker):], marker), len(before)
		d := &document{path: path, src: []byte(src), root: root}
		snap := analyze(root, nil, map[string]*document{path: d}, 1, slog.New(slog.DiscardHandler))
		items, _ := complete(snap, d, off, clientCaps{})
		var out []string
		for _, it := range items {
			out = append(out, it.Label)
		}
		return out
	}
	if got := labels("STAGE_FROM"); !slices.Equal(got, []string{"welcome", "engaged"}) {
		t.Errorf("after stage. in a moved from: %v, want [welcome engaged]", got)
	}
	if got := labels("REMOVED_FROM"); !slices.Equal(got, []string{"stage.welcome", "stage.engaged"}) {
		t.Errorf("a removed from: %v, want [stage.welcome stage.engaged]", got)
	}
	if got := labels("JOURNEY_FROM"); !slices.Equal(got, []string{"old_trial"}) {
		t.Errorf("after journey. in a top-level moved from: %v, want [old_trial]", got)
	}

	// The finished text has no diagnostic, and hover explains a gone name.
	final := finish(now, "")
	fd := &document{path: path, src: []byte(final), root: root}
	fsnap := analyze(root, nil, map[string]*document{fd.path: fd}, 1, slog.New(slog.DiscardHandler))
	for _, d := range fsnap.diagnostics(fd.path) {
		t.Errorf("diagnostic: %v", d)
	}
	text, _, ok := hoverAt(fsnap, fd, strings.Index(final, "welcome\n    goto")+2)
	if !ok || !strings.Contains(text, "no longer declared") || !strings.Contains(text, "**from**") {
		t.Errorf("hover on a removed stage: %q", text)
	}
}

// With a running server configured, the from of moved and removed blocks
// also completes the stages and journeys that hold customers in production
// and that the files no longer declare, occupied first, whether or not the
// workspace is in git.
func TestCompleteRunningNames(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"journeys":[
			{"name":"trial","stages":[{"name":"intro","active":3},{"name":"engaged","active":0}],
			 "older_versions":[{"version":"v1","stage":"welcome","active":4}]},
			{"name":"retired","stages":[{"name":"s","active":2}]}]}`)
	}))
	defer srv.Close()
	prod := newProduction(srv.URL, "", func(string, ...any) {})
	root := t.TempDir() // not a git repository: nothing from HEAD
	src := `journey "trial" {
  entry "signup" {}
  stage "intro" {}
  removed {
    from = 
  }
}
moved {
  from = journey.
  to   = journey.trial
}
`
	d := &document{path: "trial.journey.hcl", src: []byte(src), root: root}
	snap := analyze(root, nil, map[string]*document{d.path: d}, 1, slog.New(slog.DiscardHandler))
	at := func(after string) []string {
		t.Helper()
		items, _ := completeWith(snap, d, strings.Index(src, after)+len(after), clientCaps{}, prod.stageCounts)
		var out []string
		for _, it := range items {
			detail, _ := it.Detail.Get()
			out = append(out, it.Label+" | "+detail)
		}
		return out
	}
	want := []string{"stage.welcome | stage in production, no longer declared: 4 customers"}
	if got := at("from = "); !slices.Equal(got, want) {
		t.Errorf("removed from:\n got  %q\n want %q", got, want)
	}
	want = []string{"retired | journey in production, no longer declared: 2 customers"}
	if got := at("from = journey."); !slices.Equal(got, want) {
		t.Errorf("moved from:\n got  %q\n want %q", got, want)
	}
}
