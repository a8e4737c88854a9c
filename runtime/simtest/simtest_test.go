package simtest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
)

var update = flag.Bool("update", false, "rewrite golden files")

// compile builds an engine and the workspace model from in-memory files.
func compile(t testing.TB, files map[string]string) (*engine.Engine, *lang.Workspace) {
	t.Helper()
	var src []lang.SourceFile
	for name, data := range files {
		src = append(src, lang.SourceFile{Path: name, Src: []byte(data)})
	}
	ws, diags := lang.Parse(".", src)
	res, more := compiler.Check(ws, compiler.Options{})
	if all := append(diags, more...); all.HasErrors() {
		t.Fatalf("workspace does not compile: %s", all)
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng, ws
}

var durations = regexp.MustCompile(`\d+\.\d{3}s`)

// TestFailureReport runs a workspace with a test that must fail and
// compares the whole text report with the golden "want" section.
func TestFailureReport(t *testing.T) {
	const path = "testdata/failing.txtar"
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	var want []byte
	for _, f := range ar.Files {
		if f.Name == "want" {
			want = f.Data
			continue
		}
		files[f.Name] = string(f.Data)
	}
	eng, ws := compile(t, files)
	s := RunAll("ws", eng, ws, nil, false)
	if s.Passed() != 1 || s.Failed() != 1 {
		t.Fatalf("passed %d, failed %d; want 1 and 1", s.Passed(), s.Failed())
	}
	r := s.Results[1]
	// The failures point at the failing attributes, in the test file.
	var at []string
	for _, f := range r.Failures {
		at = append(at, fmt.Sprintf("%s:%d:%d %s", f.Step.Filename, f.Step.Start.Line, f.Step.Start.Column, f.Message))
	}
	wantAt := []string{
		`main.journeytest.hcl:19:5 status of journey "onboarding"`,
		`main.journeytest.hcl:20:5 sends of journey "onboarding" since the previous expect`,
		`main.journeytest.hcl:21:5 sends that must not happen`,
	}
	if strings.Join(at, "\n") != strings.Join(wantAt, "\n") {
		t.Errorf("failures at\n%s\nwant\n%s", strings.Join(at, "\n"), strings.Join(wantAt, "\n"))
	}
	var out bytes.Buffer
	Text(&out, s, true)
	got := durations.ReplaceAllString(out.String(), "0.000s")
	if *update {
		for i := range ar.Files {
			if ar.Files[i].Name == "want" {
				ar.Files[i].Data = []byte(got)
			}
		}
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(want) {
		t.Errorf("report differs (-update to accept):\n%s", got)
	}
}

const quietWorkspace = `
customer {
  trait "timezone" { type = string }
}
event "signed_up" {}
event "done" {}
channel "log" {
  type = "log"
}
policy "p" {
  quiet_hours = "21:00-08:00"
}
journey "j" {
  policy = policy.p
  entry "signed_up" {}
  goal "done" {}
  stage "s" {
    send "hello" {
      channel = channel.log
      data    = { id = customer.id }
    }
    after "1d" { goto = stage.t }
  }
  stage "t" {
    send "again" {
      channel = channel.log
      data    = { id = customer.id }
    }
  }
}
`

// TestVirtualTimeAcrossZonesAndDST checks the exact moments sends go out
// when quiet hours end, in different zones and across DST changes.
func TestVirtualTimeAcrossZonesAndDST(t *testing.T) {
	tests := []struct {
		name, start, zone string
		wait              string
		wantHello         string // when "hello" goes out, in UTC
		wantAgain         string // when "again" goes out, in UTC
	}{
		// 22:00 in Shanghai (UTC+8): held until 08:00 local = 00:00Z; the
		// after "1d" is due 22:00 the next day, in quiet hours again.
		{"shanghai", "2026-03-02T22:00:00+08:00", "Asia/Shanghai", "2d", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"},
		// New York springs forward on 2026-03-08: 08:00 EDT is 12:00Z, not 13:00Z.
		{"new york spring forward", "2026-03-07T22:00:00-05:00", "America/New_York", "2d", "2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z"},
		// New York falls back on 2026-11-01: 08:00 EST is 13:00Z.
		{"new york fall back", "2026-10-31T22:00:00-04:00", "America/New_York", "2d", "2026-11-01T13:00:00Z", "2026-11-02T13:00:00Z"},
		// A customer without a known zone falls back to UTC.
		{"unknown zone", "2026-03-02T22:00:00Z", "Mars/Olympus", "2d", "2026-03-03T08:00:00Z", "2026-03-04T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			test := `test "t" {
  start    = "` + tt.start + `"
  customer = { id = "c", timezone = "` + tt.zone + `" }
  event "signed_up" {}
  wait "` + tt.wait + `" {}
}`
			files := map[string]string{"w.journey.hcl": quietWorkspace, "w.journeytest.hcl": test}
			if tt.zone == "Mars/Olympus" {
				// The compiler rejects unknown zones in tests; the engine must still cope.
				test = strings.Replace(test, `, timezone = "Mars/Olympus"`, "", 1)
				files["w.journeytest.hcl"] = test
			}
			eng, ws := compile(t, files)
			r := Run(eng, ws.Tests[0])
			if !r.Passed() {
				t.Fatalf("failures: %+v", r.Failures)
			}
			got := map[string]string{}
			for _, h := range r.Path {
				for _, name := range []string{"hello", "again"} {
					if strings.Contains(h.Text, "send "+name+" ") && strings.HasSuffix(h.Text, ": deliver") {
						got[name] = h.At.UTC().Format(time.RFC3339)
					}
				}
			}
			if got["hello"] != tt.wantHello || got["again"] != tt.wantAgain {
				t.Errorf("hello at %s, again at %s; want %s and %s", got["hello"], got["again"], tt.wantHello, tt.wantAgain)
			}
		})
	}
}

// TestRunIsDeterministic runs every example's tests twice: the reports
// must be identical.
func TestRunIsDeterministic(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/*")
	if len(dirs) == 0 {
		t.Fatal("no examples")
	}
	for _, dir := range dirs {
		res, diags := compiler.CompileDir(dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", dir, diags)
		}
		eng, err := engine.New(res.Program, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var runs [2]string
		for i := range runs {
			var b bytes.Buffer
			s := RunAll(dir, eng, res.Workspace, nil, true)
			for _, r := range s.Results {
				for _, h := range r.Path {
					b.WriteString(h.At.String() + " " + h.Text + "\n")
				}
			}
			Text(&b, s, true)
			runs[i] = durations.ReplaceAllString(b.String(), "")
		}
		if runs[0] != runs[1] {
			t.Errorf("%s: two runs differ", dir)
		}
	}
}

// TestCoverageCountsEdges checks coverage on a workspace whose tests reach
// one branch of two.
func TestCoverageCountsEdges(t *testing.T) {
	eng, ws := compile(t, map[string]string{
		"w.journey.hcl": `
journey "j" {
  entry "go" {}
  goal "won" {}
  stage "a" {
    branch {
      when = customer.vip == true
      goto = stage.b
    }
    branch { goto = end }
  }
  stage "b" {}
}`,
		"w.journeytest.hcl": `
test "not vip" {
  start    = "2026-01-01T00:00:00Z"
  customer = { id = "c", vip = false }
  event "go" {}
  expect {
    journey = "j"
    status  = "completed"
  }
}`,
	})
	s := RunAll("ws", eng, ws, nil, true)
	if s.Failed() != 0 {
		t.Fatalf("the test failed: %+v", s.Results[0].Failures)
	}
	jc := s.Coverage[0]
	if got := strings.Join(jc.MissedStages, ","); got != "b" {
		t.Errorf("missed stages %q, want b", got)
	}
	var missed []string
	for _, e := range jc.MissedEdges {
		missed = append(missed, e.String())
	}
	want := "a → b by branch:1, b → end by complete, (any stage) → end by goal:won"
	if strings.Join(missed, ", ") != want {
		t.Errorf("missed edges %q, want %q", strings.Join(missed, ", "), want)
	}
}
