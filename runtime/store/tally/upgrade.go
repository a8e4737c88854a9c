package tally

import (
	"encoding/json"
	"fmt"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// FillProgress is for a store's upgrade to tallies: it gives each active
// instance of a customer's stored state (the engine's JSON of an
// engine.Customer) that has no visited stages yet the stages and split
// variants progress says it has (from a Replayer of its journey), so that
// the tallies of its end (visitors, leakage, conversions per variant)
// count what it did before the upgrade. Every other byte of the state is
// kept as it was (no decode and re-encode of the engine's types). changed
// is false, and out nil, when no instance was filled.
func FillProgress(state []byte, progress func(journey, instance string) (visited []string, splits map[string]string, ok bool)) (out []byte, changed bool, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(state, &top); err != nil {
		return nil, false, fmt.Errorf("tally: decoding a customer's state: %w", err)
	}
	raw, ok := top["instances"]
	if !ok {
		return nil, false, nil
	}
	var insts []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &insts); err != nil {
		return nil, false, fmt.Errorf("tally: decoding a customer's instances: %w", err)
	}
	for _, in := range insts {
		if in == nil {
			continue
		}
		var head struct {
			ID, Journey, Status string
			Visited             []string
		}
		for name, to := range map[string]any{"id": &head.ID, "journey": &head.Journey, "status": &head.Status, "visited": &head.Visited} {
			if v, ok := in[name]; ok {
				if err := json.Unmarshal(v, to); err != nil {
					return nil, false, fmt.Errorf("tally: decoding an instance's %s: %w", name, err)
				}
			}
		}
		if head.Status != engine.StatusActive || len(head.Visited) > 0 {
			continue
		}
		visited, splits, ok := progress(head.Journey, head.ID)
		if !ok || len(visited) == 0 {
			continue
		}
		if in["visited"], err = json.Marshal(visited); err != nil {
			return nil, false, err
		}
		if len(splits) > 0 {
			if in["splits"], err = json.Marshal(splits); err != nil {
				return nil, false, err
			}
		}
		changed = true
	}
	if !changed {
		return nil, false, nil
	}
	if top["instances"], err = json.Marshal(insts); err != nil {
		return nil, false, err
	}
	out, err = json.Marshal(top)
	return out, true, err
}
