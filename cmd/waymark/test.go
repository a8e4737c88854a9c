package main

import (
	"flag"
	"fmt"
	"regexp"
	"time"

	"github.com/waymark-dev/waymark/lang/timespec"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/simtest"
)

var testCommand = &command{
	name:     "test",
	summary:  "run a workspace's scenario tests on a virtual clock",
	synopsis: "[-run REGEXP] [-v] [--format text|json|junit] [--cover] [--timezone TZ] PATH...",
	help: `
Test compiles each workspace at PATH and runs its scenario tests
(*.journeytest.hcl) with the engine the server runs, on a virtual clock: a
wait of three days takes microseconds. Each test starts from nothing.

Text output reads like go test: a line per failing test (per test with -v),
each failing step at its file:line:col with what was expected and what
happened, the customer's path through the stages with every send's fate,
and a closing "N passed, M failed" line. It exits 1 when a test fails or a
workspace has errors.

--format json writes one document per workspace for tools; --format junit
writes JUnit XML that CI systems show. --cover reports, per journey, the
stages and transitions the tests reached and lists those they never did.
--timezone is the zone of customers without a valid timezone trait (UTC).`,
	examples: `
# Run every scenario test of a workspace.
waymark test examples/phone_activation
# Run the tests whose names mention "premium", showing each result.
waymark test -v -run premium examples/phone_activation
# See which stages and transitions no test reaches.
waymark test --cover examples/phone_activation
# Write a JUnit report for CI.
waymark test --format junit examples/* > report.xml`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		pattern := fs.String("run", "", "run only the tests whose names match `REGEXP`")
		verbose := fs.Bool("v", false, "list every test, not only the failing ones")
		cover := fs.Bool("cover", false, "report the stages and transitions the tests reach")
		zone := fs.String("timezone", "UTC", "the time zone of customers without a valid timezone trait")
		format := newChoice(fs, "format", []string{"text", "json", "junit"}, "how to write the results")
		return func(e *env, args []string) int {
			return runTests(e, args, *pattern, *verbose, *cover, *zone, format.value)
		}
	},
}

func runTests(e *env, args []string, pattern string, verbose, cover bool, zoneName, format string) int {
	if len(args) == 0 {
		return e.failf(exitUsage, "missing PATH: name the workspace directory (usage: waymark test %s)", e.cmd.synopsis)
	}
	var filter *regexp.Regexp
	if pattern != "" {
		var err error
		if filter, err = regexp.Compile(pattern); err != nil {
			return e.failf(exitUsage, "-run: %v", err)
		}
	}
	zone, err := timespec.LoadZone(zoneName)
	if err != nil {
		return e.failf(exitUsage, "--timezone: %v", err)
	}
	code := exitOK
	var suites []*simtest.Suite
	for _, arg := range args {
		w, c := e.compileArg([]string{arg})
		if w == nil {
			return c
		}
		if w.diags.HasErrors() {
			w.printText(e.stderr, w.diags)
			code = exitProblem
			continue
		}
		eng, err := engine.New(w.result.Program, engine.Options{DefaultZone: zone})
		if err != nil {
			fmt.Fprintf(e.stderr, "waymark test: %s: %v\n", w.dir, err)
			code = exitProblem
			continue
		}
		s := simtest.RunAll(w.dir, eng, w.result.Workspace, filter, cover)
		if len(s.Results) == 0 && format == "text" {
			fmt.Fprintf(e.stdout, "?\t%s\t[no tests to run]\n", w.dir)
		}
		if s.Failed() > 0 {
			code = exitProblem
		}
		suites = append(suites, s)
		switch format {
		case "text":
			simtest.Text(e.stdout, s, verbose)
		case "json":
			if err := simtest.JSON(e.stdout, s); err != nil {
				return e.failf(exitProblem, "%v", err)
			}
		}
	}
	if format == "junit" {
		if err := simtest.JUnit(e.stdout, suites); err != nil {
			return e.failf(exitProblem, "%v", err)
		}
	}
	if format == "text" && len(suites) > 1 {
		passed, failed := 0, 0
		var took time.Duration
		for _, s := range suites {
			passed, failed, took = passed+s.Passed(), failed+s.Failed(), took+s.Duration
		}
		fmt.Fprintf(e.stdout, "all workspaces: %d passed, %d failed in %.3fs\n", passed, failed, took.Seconds())
	}
	return code
}
