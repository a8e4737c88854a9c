package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/reload"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
)

// cmdSeedStore puts customers into a SQLite store as `waymark run` on DIR
// would have: `seedstore FILE DIR PREFIX N EVENT...` installs DIR's program
// and commits N customers, PREFIX0001..., each having sent the events in
// order two hours ago. Repeat it to put customers in several stages.
func cmdSeedStore(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 5 {
		ts.Fatalf("usage: seedstore FILE DIR PREFIX N EVENT...")
	}
	n, err := strconv.Atoi(args[3])
	if err != nil {
		ts.Fatalf("seedstore: N %q is not a number", args[3])
	}
	ctx := context.Background()
	at := time.Now().UTC().Add(-2 * time.Hour)
	prog, diags, err := reload.Load(ts.MkAbs(args[1]), engine.Options{})
	if err != nil || prog == nil {
		ts.Fatalf("seedstore: %s: %v %v", args[1], err, diags)
	}
	st, err := sqlite.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer st.Close()
	_, err = reload.Install(ctx, st, prog, at)
	ts.Check(err)
	var b store.Batch
	for i := range n {
		c := &engine.Customer{ID: fmt.Sprintf("%s%04d", args[2], i+1)}
		cw := store.CustomerWrite{State: c}
		for _, ev := range args[4:] {
			cw.Results = append(cw.Results, prog.Engine.Step(c, engine.Input{Kind: engine.KindEvent, Event: strings.TrimSpace(ev)}, at))
		}
		cw.NextWake = c.NextWake()
		b.Customers = append(b.Customers, cw)
	}
	ts.Check(st.Commit(ctx, &b))
}
