package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/plan"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/server"
	"github.com/waymark-dev/waymark/runtime/store"
)

var planCommand = &command{
	name:     "plan",
	summary:  "show what an edit would do to the customers in flight, before it ships",
	synopsis: "[--server URL | --store KIND:PATH|postgres://...] [--format text|markdown|json] [-o FILE] [--detailed-exitcode] DIR",
	help: `
Plan compiles the workspace in DIR, fetches the program running now, diffs
the two, and asks the runtime what a reload to DIR would do to every
customer in flight: a dry run of the migration on copies of their states,
committed nowhere. It answers counts per journey and stage, never a
customer's id or traits:

  stay        same stage name, the journey changed: timers recomputed
  moved       a moved block renamed their stage (or journey)
  redirected  a removed block with a goto sends them on
  left        their stage is now immediate and sends them on at once
  exited      their stage or journey is gone (the cause says which)
  pinned      in_flight = "pin": they finish on the version they started

It also lists held sends whose send or policy changed, and timers that
would fall due earlier than before (a shortened after), saying how many
would fire at once.

--server URL asks a running 'waymark run' (GET /v1/program, POST /v1/plan),
with the admin token from $WAYMARK_ADMIN_TOKEN; $WAYMARK_SERVER is the
default URL. --store reads a store directly: sqlite:FILE or pebble:DIR
when no server runs it, or a postgres:// URL; the program it last ran is
the base.

--format text (the default) is for a terminal; markdown is the pull-request
comment (a headline, a table per changed journey, the journey's graph with
added, changed, moved and removed stages styled, the full diff folded);
json is the document waymark.plan/v1. -o writes it to FILE.

Exit codes: 0 done, 1 an error (a workspace with errors, a server or store
that fails), 2 a wrong command line. With --detailed-exitcode: 0 nothing
changes, 1 an error, 2 the program changes but no customer in flight moves,
leaves or exits, 3 some do.`,
	examples: `
# Against the running server, before merging.
WAYMARK_ADMIN_TOKEN=... waymark plan --server https://waymark.internal:8080 journeys/
# In CI: the pull-request comment, and fail the job's next step when customers would move.
waymark plan --server "$WAYMARK_SERVER" --format markdown -o plan.md --detailed-exitcode journeys/
# Against a store no server runs (a copy of production's, say).
waymark plan --store sqlite:./waymark.db journeys/`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o planOptions
		fs.StringVar(&o.server, "server", "", "the running server's base `URL`, like http://127.0.0.1:8080 (default $WAYMARK_SERVER)")
		fs.StringVar(&o.store, "store", "", "read the store `KIND:PATH` directly instead: sqlite:FILE, pebble:DIR or a postgres:// URL")
		format := newChoice(fs, "format", []string{"text", "markdown", "json"}, "how to write the plan")
		fs.StringVar(&o.out, "o", "", "write the plan to `FILE` instead of standard output")
		fs.BoolVar(&o.detailed, "detailed-exitcode", false, "exit 0 when nothing changes, 2 when the program changes but no customer in flight moves, leaves or exits, 3 when some do")
		fs.StringVar(&o.timezone, "timezone", "UTC", "with --store: the time zone (`TZ`) of customers without a valid timezone trait, as the server runs with")
		return func(e *env, args []string) int {
			o.format = format.value
			return runPlan(e, args, o)
		}
	},
}

type planOptions struct {
	server, store, format, out, timezone string
	detailed                             bool
}

// planTimeout bounds a plan over HTTP: a million customers take seconds.
const planTimeout = 10 * time.Minute

func runPlan(e *env, args []string, o planOptions) int {
	if o.server == "" && o.store == "" {
		o.server = os.Getenv("WAYMARK_SERVER")
	}
	var storeKind, storePath string
	switch {
	case o.server != "" && o.store != "":
		return e.failf(exitUsage, "--server and --store exclude each other: ask a running server, or read a store no server runs")
	case o.server == "" && o.store == "":
		return e.failf(exitUsage, "name what runs now: --server URL (or $WAYMARK_SERVER) or --store KIND:PATH")
	case o.server != "":
		u, err := url.Parse(o.server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return e.failf(exitUsage, "--server %q: want a base URL like http://127.0.0.1:8080", o.server)
		}
	default:
		var err error
		if storeKind, storePath, err = parseStore(o.store); err != nil {
			return e.failf(exitUsage, "--store: %v", err)
		}
	}
	zone, err := time.LoadLocation(o.timezone)
	if err != nil || o.timezone == "" || o.timezone == "Local" {
		return e.failf(exitUsage, "--timezone %q is not an IANA time zone name like Europe/Paris or UTC", o.timezone)
	}
	if len(args) != 1 {
		return e.failf(exitUsage, "takes one DIR, the workspace to plan; got %d arguments", len(args))
	}
	cand, code := e.compileProgram(args[0], "")
	if cand == nil {
		return code
	}
	data, err := ir.Encode(cand)
	if err != nil {
		return e.failf(exitProblem, "encoding the IR: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), planTimeout)
	defer cancel()
	var p *diff.Plan
	if o.server != "" {
		p, err = planFromServer(ctx, strings.TrimSuffix(o.server, "/"), os.Getenv("WAYMARK_ADMIN_TOKEN"), data)
	} else {
		p, err = planFromStore(ctx, storeKind, storePath, cand, reload.Version(data), engine.Options{DefaultZone: zone})
	}
	if err != nil {
		return e.failf(exitProblem, "%v", err)
	}

	var buf bytes.Buffer
	switch o.format {
	case "json":
		err = diff.WriteJSON(&buf, p)
	case "markdown":
		err = diff.WritePlanMarkdown(&buf, p, cand)
	default:
		err = diff.WritePlanText(&buf, p)
	}
	if err == nil {
		if o.out != "" {
			err = writeFileAtomic(o.out, buf.Bytes())
		} else {
			_, err = e.stdout.Write(buf.Bytes())
		}
	}
	if err != nil {
		return e.failf(exitProblem, "%v", err)
	}
	if o.detailed {
		return p.ExitCode()
	}
	return exitOK
}

// planFromServer asks a running server: GET /v1/program for what runs now
// (when it is the candidate, nothing changes and no customer need be
// read), then POST /v1/plan with the candidate's IR, which diffs it against
// what runs and counts the customers in flight.
func planFromServer(ctx context.Context, base, token string, candidate []byte) (*diff.Plan, error) {
	call := func(method, path string, body []byte) ([]byte, http.Header, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, fmt.Errorf("asking the server for a plan: %w", err)
		}
		defer res.Body.Close()
		data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		if err != nil {
			return nil, nil, fmt.Errorf("reading the server's answer to %s %s: %w", method, path, err)
		}
		if res.StatusCode == http.StatusOK {
			return data, res.Header, nil
		}
		var doc struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &doc) == nil && doc.Error != "" {
			msg = doc.Error
		}
		switch res.StatusCode {
		case http.StatusUnauthorized:
			msg += " (set WAYMARK_ADMIN_TOKEN to the server's admin token)"
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			msg = "the server has no " + path + ": is it a waymark run of this version?"
		}
		return nil, nil, fmt.Errorf("the server answered %s %s with %s: %s", method, path, res.Status, msg)
	}
	running, header, err := call("GET", "/v1/program", nil)
	if err != nil {
		return nil, err
	}
	runningVersion := header.Get(server.ProgramVersionHeader)
	if runningVersion == reload.Version(candidate) {
		prog, err := ir.Decode(running)
		if err != nil {
			return nil, fmt.Errorf("the server's program: %w", err)
		}
		return &diff.Plan{Format: diff.PlanFormat, BaseVersion: runningVersion, Version: runningVersion,
			Journeys: []diff.JourneyPlan{}, Changes: diff.Compute(prog, prog)}, nil
	}
	body, _, err := call("POST", "/v1/plan", candidate)
	if err != nil {
		return nil, err
	}
	var p diff.Plan
	if err := json.Unmarshal(body, &p); err != nil || p.Format != diff.PlanFormat {
		return nil, fmt.Errorf("the server's answer is not a %s document", diff.PlanFormat)
	}
	if runningVersion != "" && p.BaseVersion != runningVersion {
		return nil, fmt.Errorf("the server reloaded while planning (%s, then %s): run the plan again", runningVersion, p.BaseVersion)
	}
	return &p, nil
}

// planFromStore runs the plan against a store directly: the base is the
// program the store ran last.
func planFromStore(ctx context.Context, kind, path string, cand *ir.Program, version string, opts engine.Options) (*diff.Plan, error) {
	if kind != "postgres" {
		// Opening a missing file or directory would create an empty store.
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("--store %s:%s: %w", kind, path, err)
		}
	}
	st, err := openStore(kind, path)
	if errors.Is(err, store.ErrInUse) {
		return nil, fmt.Errorf("%w: a server runs this store; ask it with --server URL", err)
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	progs, err := st.Programs(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: listing programs: %w", err)
	}
	var base *ir.Program
	baseVersion := ""
	if len(progs) > 0 {
		if base, err = ir.Decode(progs[0].IR); err != nil {
			return nil, fmt.Errorf("the store's newest program %s: %w", progs[0].Hash, err)
		}
		baseVersion = progs[0].Hash
	}
	var known []*ir.Program
	if base != nil {
		known = []*ir.Program{base}
	}
	eng, err := reload.CandidateEngine(ctx, st, cand, known, opts)
	if err != nil {
		return nil, fmt.Errorf("the program cannot run: %w", err)
	}
	return plan.Run(ctx, st, plan.Input{Base: base, BaseVersion: baseVersion, Candidate: cand, Version: version, Engine: eng}, plan.Options{})
}
