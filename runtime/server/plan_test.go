package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/reload"
)

// runningProgram fetches GET /v1/program and checks its version header.
func runningProgram(t *testing.T, h *harness, header map[string]string) *ir.Program {
	t.Helper()
	r := h.do("GET", "/v1/program", nil, header)
	if r.code != 200 {
		t.Fatalf("GET /v1/program: %d %s", r.code, r.body)
	}
	if got, want := r.header.Get(ProgramVersionHeader), reload.Version(r.body); got != want {
		t.Errorf("%s: %q, want the hash of the body %q", ProgramVersionHeader, got, want)
	}
	p, err := ir.Decode(r.body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// POST /v1/plan answers what a candidate would do to the customers in
// flight, counted, and changes nothing.
func TestPlanEndpoint(t *testing.T) {
	h := newHarness(t, Options{AdminToken: "s3cret"})
	auth := map[string]string{"Authorization": "Bearer s3cret"}
	for i := range 5 {
		h.mustPost("/v1/track", fmt.Sprintf(`{"userId":"u%d","event":"signed_up"}`, i))
	}
	if r := h.get("/v1/program"); r.code != 401 {
		t.Errorf("GET /v1/program without the token: %d", r.code)
	}
	if r := h.post("/v1/plan", "{}"); r.code != 401 {
		t.Errorf("POST /v1/plan without the token: %d", r.code)
	}

	p := runningProgram(t, h, auth)
	j := p.Journey("welcome")
	// count is gone: its customers complete; greet and bump now end.
	j.Stages = append(j.Stages[:1], j.Stages[2:]...)
	j.Stages[0].Transition.Goto, j.Stages[1].Transition.Goto = ir.End, ir.End
	j.Removed = []ir.StageRemoval{{From: "count", Goto: ir.End}}
	j.Version = ir.Hash(j)
	cand, err := ir.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	r := h.do("POST", "/v1/plan", cand, auth)
	if r.code != 200 {
		t.Fatalf("POST /v1/plan: %d %s", r.code, r.body)
	}
	var plan diff.Plan
	r.json(t, &plan)
	if plan.Format != diff.PlanFormat || plan.Version != reload.Version(cand) || plan.BaseVersion == plan.Version {
		t.Errorf("format %q, versions %q -> %q", plan.Format, plan.BaseVersion, plan.Version)
	}
	want := diff.Summary{InFlight: 5, Redirected: 5}
	if plan.Summary != want {
		t.Errorf("summary %+v, want %+v", plan.Summary, want)
	}
	wantImpact := []diff.Impact{{Stage: "count", Customers: 5, Disposition: diff.Redirected, To: ir.End}}
	if len(plan.Journeys) != 1 || fmt.Sprint(plan.Journeys[0].Impact) != fmt.Sprint(wantImpact) {
		t.Errorf("journeys %+v, want one with %+v", plan.Journeys, wantImpact)
	}
	if plan.Changes == nil || plan.Changes.Journey("welcome") == nil || plan.Changes.Journey("welcome").Stage("count") == nil {
		t.Errorf("the plan's diff misses the removed stage: %+v", plan.Changes)
	}
	if strings.Contains(string(r.body), `"u0"`) {
		t.Errorf("the plan names a customer: %s", r.body)
	}
	// Dry: every customer is still in count.
	if c, err := h.st.Customer(t.Context(), "u0"); err != nil || c.Instances[0].Stage != "count" {
		t.Errorf("u0 after the plan: %+v, %v", c, err)
	}

	for _, bad := range []struct{ body, want string }{
		{`[`, "the body is not a program"},
		{`{"format":"waymark.ir/v0"}`, "format"},
		{`{"format":"waymark.ir/v1","journeys":[{"name":"a"},{"name":"a"}]}`, "cannot run"},
	} {
		r := h.do("POST", "/v1/plan", []byte(bad.body), auth)
		if r.code != 400 || !strings.Contains(r.errorText(t), bad.want) {
			t.Errorf("POST /v1/plan %s: %d %s, want 400 with %q", bad.body, r.code, r.body, bad.want)
		}
	}
}

// FuzzPlan posts arbitrary bodies to POST /v1/plan over a store holding a
// few customers: nothing may panic, the answer is 200 (a plan) or 4xx, and
// always JSON.
func FuzzPlan(f *testing.F) {
	h := newHarness(f, Options{})
	h.mustPost("/v1/track", `{"userId":"u1","event":"signed_up"}`)
	h.mustPost("/v1/track", `{"userId":"u2","event":"signed_up"}`)
	r := h.get("/v1/program")
	if r.code != 200 {
		f.Fatalf("GET /v1/program: %d", r.code)
	}
	running := string(r.body)
	f.Add([]byte(running))
	f.Add([]byte(strings.Replace(running, `"name": "count"`, `"name": "tally"`, 1)))
	f.Add([]byte(strings.Replace(running, `"30d"`, `"1s"`, 1)))
	f.Add([]byte(strings.Replace(running, `"stages": [`, `"removed": [{"from": "count", "goto": "greet"}], "stages": [`, 1)))
	f.Add([]byte(strings.Replace(running, `"journeys": [`, `"moved": [{"from": "x", "to": "welcome"}], "journeys": [`, 1)))
	// Hostile candidates (ingestred): a stage that goes to itself, a call to
	// an unknown function, an expression nested past the parser's limit.
	f.Add([]byte(strings.Replace(running, `"goto": "count"`, `"goto": "greet"`, 1)))
	f.Add([]byte(strings.Replace(running, `customer.id}`, `nosuchfn(customer.id)}`, 1)))
	f.Add([]byte(strings.Replace(running, `customer.id}`, strings.Repeat("(", 500)+`customer.id`+strings.Repeat(")", 500)+`}`, 1)))
	f.Add([]byte(`{"format":"waymark.ir/v1","journeys":[]}`))
	f.Add([]byte(`{"format":"waymark.ir/v1"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/plan", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code/100 != 4 {
			t.Fatalf("POST /v1/plan: %d: %s", rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("POST /v1/plan: %d, not JSON: %q", rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			var p diff.Plan
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Format != diff.PlanFormat {
				t.Fatalf("a 200 that is not a plan: %v %s", err, rec.Body)
			}
		}
	})
}
