package simtest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Text writes results in the spirit of `go test`: a line per test (with -v)
// or per failing test, each failure at its step's file:line:col with what
// was expected and what happened, the customer's path, and a closing
// `N passed, M failed` line.
func Text(w io.Writer, s *Suite, verbose bool) {
	for _, r := range s.Results {
		if r.Passed() {
			if verbose {
				fmt.Fprintf(w, "--- PASS: %s (%s)\n", r.Name, seconds(r.Duration))
			}
			continue
		}
		fmt.Fprintf(w, "--- FAIL: %s (%s)\n", r.Name, seconds(r.Duration))
		fmt.Fprintf(w, "    %s: test %q\n", pos(r.Def.Filename, r.Def.Start.Line, r.Def.Start.Column), r.Name)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "    %s: %s\n", pos(f.Step.Filename, f.Step.Start.Line, f.Step.Start.Column), f.Message)
			fmt.Fprintf(w, "        want: %s\n        got:  %s\n", f.Expected, f.Actual)
		}
		fmt.Fprintf(w, "    the customer's path:\n")
		for _, h := range r.Path {
			fmt.Fprintf(w, "        %s  %s\n", h.At.In(r.zone).Format("2006-01-02 15:04:05 Z07:00"), h.Text)
		}
	}
	if len(s.Coverage) > 0 {
		CoverageText(w, s.Coverage)
	}
	status := "ok"
	if s.Failed() > 0 {
		status = "FAIL"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\n", status, s.Name, seconds(s.Duration))
	fmt.Fprintf(w, "%d passed, %d failed\n", s.Passed(), s.Failed())
}

// CoverageText writes, per journey, how much the tests reached and what
// they never did.
func CoverageText(w io.Writer, cov []JourneyCoverage) {
	for _, jc := range cov {
		fmt.Fprintf(w, "coverage: journey %s: %.0f%% of stages (%d/%d), %.0f%% of transitions (%d/%d)\n",
			jc.Journey, jc.StagesPct, len(jc.Stages)-len(jc.MissedStages), len(jc.Stages),
			jc.EdgePct, len(jc.Edges)-len(jc.MissedEdges), len(jc.Edges))
		for _, s := range jc.MissedStages {
			fmt.Fprintf(w, "    never reached: stage %s\n", s)
		}
		for _, e := range jc.MissedEdges {
			fmt.Fprintf(w, "    never taken: %s\n", e)
		}
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func pos(file string, line, col int) string { return fmt.Sprintf("%s:%d:%d", file, line, col) }

// jsonReport is the stable JSON shape of a suite.
type jsonReport struct {
	Workspace string         `json:"workspace"`
	Passed    int            `json:"passed"`
	Failed    int            `json:"failed"`
	Seconds   float64        `json:"seconds"`
	Tests     []jsonTest     `json:"tests"`
	Coverage  []jsonCoverage `json:"coverage,omitempty"`
}

type jsonTest struct {
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Passed   bool          `json:"passed"`
	Seconds  float64       `json:"seconds"`
	Failures []jsonFailure `json:"failures,omitempty"`
	Path     []jsonHappen  `json:"path,omitempty"`
}

type jsonFailure struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Message  string `json:"message"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

type jsonHappen struct {
	At   string `json:"at"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

type jsonCoverage struct {
	Journey       string   `json:"journey"`
	Stages        int      `json:"stages"`
	StagesReached int      `json:"stages_reached"`
	Edges         int      `json:"transitions"`
	EdgesReached  int      `json:"transitions_reached"`
	MissedStages  []string `json:"missed_stages,omitempty"`
	MissedEdges   []string `json:"missed_transitions,omitempty"`
}

// JSON writes the suite as one JSON document; the path is included for
// failing tests only.
func JSON(w io.Writer, s *Suite) error {
	rep := jsonReport{Workspace: s.Name, Passed: s.Passed(), Failed: s.Failed(), Seconds: s.Duration.Seconds(), Tests: []jsonTest{}}
	for _, r := range s.Results {
		t := jsonTest{Name: r.Name, File: r.Def.Filename, Line: r.Def.Start.Line, Passed: r.Passed(), Seconds: r.Duration.Seconds()}
		for _, f := range r.Failures {
			t.Failures = append(t.Failures, jsonFailure{File: f.Step.Filename, Line: f.Step.Start.Line, Column: f.Step.Start.Column,
				Message: f.Message, Expected: f.Expected, Actual: f.Actual})
		}
		if !r.Passed() {
			for _, h := range r.Path {
				t.Path = append(t.Path, jsonHappen{At: h.At.In(r.zone).Format(time.RFC3339), Kind: h.Kind, Text: h.Text})
			}
		}
		rep.Tests = append(rep.Tests, t)
	}
	for _, jc := range s.Coverage {
		c := jsonCoverage{Journey: jc.Journey, Stages: len(jc.Stages), StagesReached: len(jc.Stages) - len(jc.MissedStages),
			Edges: len(jc.Edges), EdgesReached: len(jc.Edges) - len(jc.MissedEdges), MissedStages: jc.MissedStages}
		for _, e := range jc.MissedEdges {
			c.MissedEdges = append(c.MissedEdges, e.String())
		}
		rep.Coverage = append(rep.Coverage, c)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Line      int           `xml:"line,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes JUnit XML, which CI systems show as a test report.
func JUnit(w io.Writer, suites []*Suite) error {
	doc := junitSuites{}
	for _, s := range suites {
		js := junitSuite{Name: s.Name, Tests: len(s.Results), Failures: s.Failed(), Time: fmt.Sprintf("%.3f", s.Duration.Seconds())}
		for _, r := range s.Results {
			c := junitCase{Name: r.Name, Classname: strings.TrimSuffix(r.Def.Filename, ".journeytest.hcl"), File: r.Def.Filename,
				Line: r.Def.Start.Line, Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
			if !r.Passed() {
				var b strings.Builder
				one := &Suite{Name: s.Name, Results: []*Result{r}}
				Text(&b, one, false)
				f := r.Failures[0]
				c.Failure = &junitFailure{
					Message: fmt.Sprintf("%s: %s: want %s, got %s", pos(f.Step.Filename, f.Step.Start.Line, f.Step.Start.Column), f.Message, f.Expected, f.Actual),
					Type:    "expectation", Text: b.String()}
			}
			js.Cases = append(js.Cases, c)
		}
		doc.Suites = append(doc.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
