package lsp_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/compiler/compilertest"
)

// The benchmarks run the real binary over stdio, like the tests, and print
// their figures; `make bench` runs them with everything else, and
//
//	go test ./lsp -run '^$' -bench . -benchtime 1x
//
// runs them alone. Targets: requests p99 < 20 ms on a 5,000-line file;
// didChange to publishDiagnostics < 200 ms on a 1,000-journey workspace,
// the 50 ms debounce included.

// benchSchema is the generated workspaces' schema, its policy suppressed
// while a customer is in j0 (so suppression takes part in the checks).
var benchSchema = compilertest.Schema("  suppressed_by = [journey.j0]\n")

// benchSegments declares 100 events, each of which ten of the generated
// journeys exit on: most events in a real workspace matter to a few journeys.
func benchSegments() string {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "event \"left_segment_%d\" {\n  property \"reason\" { type = string }\n}\n", i)
	}
	return b.String()
}

// benchJourney writes journey number i, which also exits when the
// customer leaves one of the segments.
func benchJourney(i int) string {
	return compilertest.Journey(i, fmt.Sprintf("  exit \"left_segment_%d\" {\n    when = event.reason != \"moved\"\n  }\n", i%100))
}

const benchTest = `test "j0 welcomes" {
  start    = "2026-03-02T10:00:00Z"
  customer = { id = "c-1", email = "a@example.com", plan = "pro", vip = false, ltv = 0 }
  event "signed_up" {
    plan   = "pro"
    source = "web"
  }
  expect {
    journey = "j0"
    stage   = "s0"
    sent    = ["mail_0"]
  }
}
`

func writeFiles(b testing.TB, root string, files map[string]string) {
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// percentiles returns the 50th and 99th percentiles of samples.
func percentiles(samples []time.Duration) (p50, p99 time.Duration) {
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkRequests5000Lines measures completion, hover and definition on a
// file of about 5,000 lines (48 journeys), each at 200 places spread over
// the file, and reports the 50th and 99th percentile of each.
func BenchmarkRequests5000Lines(b *testing.B) {
	root := b.TempDir()
	var big strings.Builder
	for i := 0; i < 48; i++ {
		big.WriteString(benchJourney(i))
	}
	text := big.String()
	writeFiles(b, root, map[string]string{"schema.journey.hcl": benchSchema + benchSegments(), "big.journey.hcl": text})
	c := startServer(b, root)
	c.open("big.journey.hcl", text)
	c.settle()

	// The places: just after "stage." in each goto, and on each stage name.
	var afterDot, onName []protocol.Position
	for off := 0; ; {
		i := strings.Index(text[off:], "goto = stage.s")
		if i < 0 {
			break
		}
		off += i + len("goto = stage.")
		afterDot = append(afterDot, lspPosition(text, off))
		onName = append(onName, lspPosition(text, off+1))
	}
	pick := func(ps []protocol.Position, n int) []protocol.Position {
		out := make([]protocol.Position, n)
		for i := range out {
			out[i] = ps[(i*len(ps))/n]
		}
		return out
	}
	doc := protocol.TextDocumentIdentifier{URI: c.uri("big.journey.hcl")}
	lines := strings.Count(text, "\n")
	const n = 200
	for b.Loop() {
		var comp, hover, def []time.Duration
		for _, pos := range pick(afterDot, n) {
			start := time.Now()
			res, err := c.server.Completion(c.ctx(), &protocol.CompletionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{TextDocument: doc, Position: pos}})
			comp = append(comp, time.Since(start))
			if list, ok := res.(*protocol.CompletionList); err != nil || !ok || len(list.Items) != 12 {
				b.Fatalf("completion at %v: %v %v", pos, res, err)
			}
		}
		for _, pos := range pick(onName, n) {
			start := time.Now()
			h, err := c.server.Hover(c.ctx(), &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{TextDocument: doc, Position: pos}})
			hover = append(hover, time.Since(start))
			if err != nil || h == nil {
				b.Fatalf("hover at %v: %v %v", pos, h, err)
			}
		}
		for _, pos := range pick(onName, n) {
			start := time.Now()
			res, err := c.server.Definition(c.ctx(), &protocol.DefinitionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{TextDocument: doc, Position: pos}})
			def = append(def, time.Since(start))
			if _, ok := res.(*protocol.Location); err != nil || !ok {
				b.Fatalf("definition at %v: %v %v", pos, res, err)
			}
		}
		for _, m := range []struct {
			name    string
			samples []time.Duration
		}{{"completion", comp}, {"hover", hover}, {"definition", def}} {
			p50, p99 := percentiles(m.samples)
			b.ReportMetric(ms(p50), m.name+"-p50-ms")
			b.ReportMetric(ms(p99), m.name+"-p99-ms")
			fmt.Printf("%-11s on a %d-line file: p50 %6.2f ms  p99 %6.2f ms  (%d requests; target p99 < 20 ms)\n", m.name, lines, ms(p50), ms(p99), len(m.samples))
		}
	}
}

// BenchmarkDiagnostics1000Journeys measures the time from didChange to the
// publishDiagnostics for that version, the 50 ms debounce included, in a
// workspace of 1,000 journeys of 12 stages (one file each, about 100,000
// lines), a schema and a scenario test. Three kinds of edit:
//
//   - in a stage (a goto to a stage that does not exist, then back): the
//     commonest edit, which re-checks that file alone;
//   - renaming a stage, which a test may name: the file, the policies and
//     the tests are re-checked;
//   - renaming a property of an event ten journeys exit on: the schema file
//     and those ten journeys are re-checked;
//   - renaming a property of an event every journey uses: everything is
//     re-checked.
//
// It also reports the first check of the whole workspace, on start.
func BenchmarkDiagnostics1000Journeys(b *testing.B) {
	root := b.TempDir()
	files := map[string]string{"schema.journey.hcl": benchSchema + benchSegments(), "welcome.journeytest.hcl": benchTest}
	for i := 0; i < 1000; i++ {
		files[fmt.Sprintf("journeys/j%04d.journey.hcl", i)] = benchJourney(i)
	}
	writeFiles(b, root, files)

	for b.Loop() {
		start := time.Now()
		c := startServer(b, root)
		edited := "journeys/j0500.journey.hcl"
		c.open(edited, files[edited])
		c.settle()
		first := time.Since(start)
		fmt.Printf("first check of 1,000 journeys (start, initialize, open, publish): %.0f ms; server memory %s\n", ms(first), rss(c.cmd.Process.Pid))
		b.ReportMetric(ms(first), "first-check-ms")

		var afterEdit []time.Duration // definition requests right after each check
		p50s := map[string]time.Duration{}
		measure := func(name, path, from, to string, n int) {
			var samples []time.Duration
			for i := 0; i < n; i++ {
				old, repl := from, to
				if i%2 == 1 {
					old, repl = to, from
				}
				text := c.text(path)
				at := strings.Index(text, old)
				if at < 0 {
					b.Fatalf("%q not in %s", old, path)
				}
				t0 := time.Now()
				c.replace(path, at, at+len(old), repl)
				c.settle()
				samples = append(samples, time.Since(t0))
				if path == edited {
					text := c.text(path)
					pos := lspPosition(text, strings.Index(text, "channel.email")+len("channel."))
					t1 := time.Now()
					res, err := c.server.Definition(c.ctx(), &protocol.DefinitionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
						TextDocument: protocol.TextDocumentIdentifier{URI: c.uri(path)}, Position: pos}})
					afterEdit = append(afterEdit, time.Since(t1))
					if _, ok := res.(*protocol.Location); err != nil || !ok {
						b.Fatalf("definition after an edit: %v %v", res, err)
					}
				}
			}
			p50, p99 := percentiles(samples)
			p50s[name] = p50
			b.ReportMetric(ms(p50), name+"-p50-ms")
			b.ReportMetric(ms(p99), name+"-p99-ms")
			fmt.Printf("didChange → publishDiagnostics, %-28s p50 %6.1f ms  p99 %6.1f ms  (%d edits; 50 ms debounce included)\n", name+":", ms(p50), ms(p99), n)
		}
		measure("edit-in-stage", edited, "goto = stage.s4 }", "goto = stage.s44 }", 40)
		measure("rename-stage", edited, `stage "s11"`, `stage "s11x"`, 20)
		p50, p99 := percentiles(afterEdit)
		b.ReportMetric(ms(p50), "definition-after-edit-p50-ms")
		b.ReportMetric(ms(p99), "definition-after-edit-p99-ms")
		fmt.Printf("definition right after each of those checks (1,000 journeys): p50 %6.2f ms  p99 %6.2f ms  (%d requests)\n", ms(p50), ms(p99), len(afterEdit))
		c.open("schema.journey.hcl", files["schema.journey.hcl"])
		c.settle()
		measure("event-of-10-journeys", "schema.journey.hcl", "event \"left_segment_50\" {\n  property \"reason\"", "event \"left_segment_50\" {\n  property \"why\"", 20)
		measure("event-of-every-journey", "schema.journey.hcl", `property "link"`, `property "url"`, 4)
		// The last edit re-checks everything: it is the baseline, measured in
		// the same run, that incremental checking is compared with.
		full := p50s["event-of-every-journey"]
		for _, name := range []string{"edit-in-stage", "rename-stage", "event-of-10-journeys"} {
			ratio := float64(p50s[name]) / float64(full)
			b.ReportMetric(ratio, name+"-x-full")
			fmt.Printf("%-22s takes %.2f× the time of a full re-check (p50 %.1f ms vs %.1f ms)\n", name, ratio, ms(p50s[name]), ms(full))
		}
	}
}

// rss reads a process's resident memory from /proc, where there is one.
func rss(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
