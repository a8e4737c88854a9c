package reload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Program is a compiled workspace ready to run.
type Program struct {
	IR      *ir.Program
	JSON    []byte // the IR document as ir.Encode writes it
	Version string // "sha256:" and the first 16 hex digits of JSON's SHA-256
	Engine  *engine.Engine
	// Earlier are the earlier programs Engine runs pinned instances on
	// (engine.Options.Versions; see Pin).
	Earlier []*ir.Program
	// Result is the compiler's result, kept for reporting (the files it
	// read, for source snippets in diagnostics).
	Result *compiler.Result
}

// Version returns the version of a whole program: the hash of its IR
// document. Journey versions say whether a journey's behaviour changed;
// this one names exactly what runs, ranges included, and keys the stored
// program.
func Version(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// Load compiles the workspace in dir and prepares its engine. With errors
// in the workspace it returns a nil Program and the diagnostics (which may
// hold warnings in any case); err is for what is not the workspace's
// fault, or an engine that refuses what the compiler accepted.
func Load(dir string, opts engine.Options) (*Program, hcl.Diagnostics, error) {
	res, diags := compiler.CompileDir(dir)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	p, err := FromResult(res, opts)
	return p, diags, err
}

// FromResult prepares the program of a compile without errors: its IR
// document, version and engine.
func FromResult(res *compiler.Result, opts engine.Options) (*Program, error) {
	if res == nil || res.Program == nil {
		return nil, fmt.Errorf("the compiler reported no error and produced no program")
	}
	data, err := ir.Encode(res.Program)
	if err != nil {
		return nil, fmt.Errorf("encoding the IR: %w", err)
	}
	eng, err := engine.New(res.Program, opts)
	if err != nil {
		return nil, fmt.Errorf("the engine refuses the program: %w", err)
	}
	return &Program{IR: res.Program, JSON: data, Version: Version(data), Engine: eng, Result: res}, nil
}

// Install stores p as a program version and reports whether the program
// the store ran last (its newest stored program) had other journey
// versions: then the active customers must be woken to migrate (see
// Reloader.WakeActive), because the process stopped while running another
// program. A first start on an empty store needs no migration.
func Install(ctx context.Context, st store.Store, p *Program, now time.Time) (migrate bool, err error) {
	progs, err := st.Programs(ctx)
	if err != nil {
		return false, fmt.Errorf("store: listing programs: %w", err)
	}
	if err := st.SaveProgram(ctx, store.Program{Hash: p.Version, IR: p.JSON, CreatedAt: now.UTC()}); err != nil {
		return false, fmt.Errorf("store: saving the program: %w", err)
	}
	if len(progs) == 0 || progs[0].Hash == p.Version {
		return false, nil
	}
	prev, err := ir.Decode(progs[0].IR)
	if err != nil {
		// An unreadable old program: wake everyone, which is always safe.
		return true, nil
	}
	return journeysChanged(prev, p.IR), nil
}

// journeysChanged reports whether an instance running on old could need a
// migration on new: a journey's version changed, or a journey is gone.
// Channels, policies and templates are read when a send is decided, so
// they need no migration.
func journeysChanged(old, new *ir.Program) bool {
	for _, oj := range old.Journeys {
		nj := new.Journey(oj.Name)
		if nj == nil || nj.Version != oj.Version {
			return true
		}
	}
	return false
}
