package server

import (
	"net/http"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/plan"
	"github.com/waymark-dev/waymark/runtime/reload"
)

// What runs, and what a candidate would do to the customers in flight:
//
//	GET  /v1/program   the running program's IR document (waymark.ir/v1), as
//	                   `waymark compile` writes it; its version in the
//	                   Waymark-Program-Version header
//	POST /v1/plan      body: a candidate IR document -> a waymark.plan/v1
//	                   document: the diff from the running program, and per
//	                   journey and stage how many customers in flight would
//	                   stay, move, be redirected, leave, exit or stay pinned
//
// The plan is a dry run (runtime/plan): every customer with an active
// instance is read and migrated on a copy with the candidate's engine;
// nothing is written. It holds counts only. Both are admin endpoints.

// maxPlanBody bounds a candidate IR: its templates ride along, so it is
// larger than any event, but a program is never this large.
const maxPlanBody = 32 << 20

// ProgramVersionHeader carries the running program's version on GET
// /v1/program.
const ProgramVersionHeader = "Waymark-Program-Version"

func (s *Server) handleProgram(w http.ResponseWriter, r *http.Request) {
	data, err := ir.Encode(s.w.Engine().Program())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding the running program: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(ProgramVersionHeader, reload.Version(data))
	w.Write(data)
}

func (s *Server) handlePlan(w http.ResponseWriter, r *http.Request) {
	body, herr := readBody(w, r, "plan", maxPlanBody)
	if herr != nil {
		writeError(w, herr.status, herr.msg)
		return
	}
	cand, err := ir.Decode(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body is not a program: "+err.Error()+" (send the output of `waymark compile`)")
		return
	}
	// The version is the hash of the IR as the compiler writes it, so
	// that it names what a reload of the same workspace would run.
	data, err := ir.Encode(cand)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body is not a program: "+err.Error())
		return
	}
	ctx := r.Context()
	running := s.w.Engine().Program()
	eng, err := reload.CandidateEngine(ctx, s.st, cand, []*ir.Program{running}, s.opts.Engine)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the program cannot run: "+err.Error())
		return
	}
	cur, err := ir.Encode(running)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding the running program: "+err.Error())
		return
	}
	start := time.Now()
	p, err := plan.Run(ctx, s.st, plan.Input{
		Base: running, BaseVersion: reload.Version(cur),
		Candidate: cand, Version: reload.Version(data), Engine: eng,
	}, plan.Options{})
	if err != nil {
		if ctx.Err() != nil {
			return // the client left
		}
		s.storeFailed(w, "the active customers", err)
		return
	}
	s.log.Info("plan", "base", p.BaseVersion, "candidate", p.Version, "in_flight", p.Summary.InFlight,
		"moved", p.Summary.Moved, "redirected", p.Summary.Redirected, "left", p.Summary.Left,
		"exited", p.Summary.Exited, "pinned", p.Summary.Pinned, "took", time.Since(start).String())
	writeJSON(w, http.StatusOK, p)
}
