package lsp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

const trialJourney = `event "signed_up" {}
event "project_created" {}

journey "trial" {
  entry "signed_up" {}

  stage "welcome" {
    on "project_created" { goto = stage.engaged }
    after "2d" { goto = end }
  }

  stage "engaged" {
    after "7d" { goto = end }
  }
}
`

// fakeProduction is a waymark server's GET /v1/journeys: 20 customers in
// welcome (15 on the running version, 5 on an older one) and 10 in engaged.
func fakeProduction(t *testing.T, token string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/v1/journeys" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		fmt.Fprint(w, `{"journeys":[{"name":"trial","version":"v2","active":30,
			"stages":[{"name":"welcome","active":15},{"name":"engaged","active":10}],
			"older_versions":[{"version":"v1","stage":"welcome","active":5}]}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (c *client) lenses(path string) []string {
	c.t.Helper()
	ls, err := c.server.CodeLens(c.ctx(), &protocol.CodeLensParams{TextDocument: protocol.TextDocumentIdentifier{URI: c.uri(path)}})
	if err != nil {
		c.t.Fatalf("codeLens: %v", err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%d:%s", l.Range.Start.Line, l.Command.Title))
	}
	return out
}

func hasExitWarning(diags []protocol.Diagnostic, want string) bool {
	for _, d := range diags {
		if d.Severity == protocol.DiagnosticSeverityWarning && strings.Contains(fmt.Sprint(d.Message), want) {
			return true
		}
	}
	return false
}

// With a server configured, each stage shows the customers in it now, and
// deleting an occupied stage without a moved or removed block is warned of
// with how many would exit; the block silences it.
func TestProductionLensesAndWarnings(t *testing.T) {
	srv := fakeProduction(t, "tok")
	t.Setenv("WAYMARK_SERVER", srv.URL)
	t.Setenv("WAYMARK_ADMIN_TOKEN", "tok")
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "trial.journey.hcl"), []byte(trialJourney), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startServer(t, root)
	c.open("trial.journey.hcl", trialJourney)
	c.settle()
	if got, want := fmt.Sprint(c.lenses("trial.journey.hcl")), "[6:20 customers here now 11:10 customers here now]"; got != want {
		t.Errorf("code lenses %s, want %s", got, want)
	}

	// Delete engaged (and the way into it).
	text := c.text("trial.journey.hcl")
	start := strings.Index(text, "\n  stage \"engaged\"")
	end := strings.Index(text, "  }\n}\n") + len("  }\n")
	c.replace("trial.journey.hcl", start, end, "")
	text = c.text("trial.journey.hcl")
	i := strings.Index(text, "goto = stage.engaged")
	c.replace("trial.journey.hcl", i, i+len("goto = stage.engaged"), "goto = end")
	c.waitFor("trial.journey.hcl", func(ds []protocol.Diagnostic) bool {
		return hasExitWarning(ds, `Stage "engaged" holds 10 customers in production`)
	})

	// A removed block says where they go: no warning.
	text = c.text("trial.journey.hcl")
	end = strings.LastIndex(text, "}")
	c.replace("trial.journey.hcl", end, end, "  removed {\n    from = stage.engaged\n    goto = end\n  }\n")
	c.waitFor("trial.journey.hcl", func(ds []protocol.Diagnostic) bool {
		return !hasExitWarning(ds, "holds")
	})
}

// Without a server, or with one that does not answer, nothing changes: no
// lens, no warning, and at most one line in the log.
func TestProductionOff(t *testing.T) {
	for _, tc := range []struct{ name, server string }{
		{"not configured", ""},
		{"unreachable", "http://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WAYMARK_SERVER", tc.server)
			root := t.TempDir()
			c := startServer(t, root)
			c.open("trial.journey.hcl", strings.Replace(trialJourney, "goto = stage.engaged", "goto = end", 1))
			c.settle()
			if ls := c.lenses("trial.journey.hcl"); len(ls) != 0 {
				t.Errorf("code lenses without production: %v", ls)
			}
			text := c.text("trial.journey.hcl")
			i := strings.Index(text, "after \"2d\"")
			c.replace("trial.journey.hcl", i, i, " ")
			c.settle()
			for _, u := range []string{"trial.journey.hcl"} {
				if ds := c.published()[c.uri(u)]; hasExitWarning(ds, "holds") {
					t.Errorf("a warning without production: %v", ds)
				}
			}
			if n := strings.Count(c.stderr.String(), "\n"); n > 1 {
				t.Errorf("%d lines in the log:\n%s", n, c.stderr)
			}
		})
	}
}
