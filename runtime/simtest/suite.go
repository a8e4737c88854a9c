package simtest

import (
	"regexp"
	"time"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// Suite is the outcome of running a workspace's tests.
type Suite struct {
	Name     string // the workspace directory
	Results  []*Result
	Duration time.Duration
	Coverage []JourneyCoverage // filled when coverage was asked for
}

// Passed and Failed count the results.
func (s *Suite) Passed() int { return len(s.Results) - s.Failed() }

// Failed counts the tests that failed.
func (s *Suite) Failed() int {
	n := 0
	for _, r := range s.Results {
		if !r.Passed() {
			n++
		}
	}
	return n
}

// RunAll runs every test of ws whose name matches filter (nil: all), in
// source order, each on its own clock from nothing.
func RunAll(name string, eng *engine.Engine, ws *lang.Workspace, filter *regexp.Regexp, cover bool) *Suite {
	s := &Suite{Name: name}
	began := time.Now()
	for _, t := range ws.Tests {
		if filter != nil && !filter.MatchString(t.Name.Value) {
			continue
		}
		s.Results = append(s.Results, Run(eng, t))
	}
	s.Duration = time.Since(began)
	if cover {
		s.Coverage = Coverage(eng.Program(), s.Results)
	}
	return s
}
