package worker

import (
	"slices"
	"testing"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// TestNumberWrite: a customer's write numbers its records and inputs as one
// sequence, each input after the records its Step made before handling it
// (due timers) and before those it caused; a wake keeps no input.
func TestNumberWrite(t *testing.T) {
	type step struct {
		input    bool // an input (kept), not a wake
		inputSeq int  // the Result's InputSeq
		records  int  // how many records (numbered 1..records by the engine)
	}
	tests := []struct {
		name  string
		steps []step
		// want: per step, its records' Seq in engine order, then the
		// input's (absent for a wake)
		want [][]int
	}{
		{"an input after a due timer", []step{{true, 2, 3}}, [][]int{{1, 3, 4, 2}}},
		{"two inputs", []step{{true, 1, 2}, {true, 1, 1}}, [][]int{{2, 3, 1}, {5, 4}}},
		{"a wake, then an input", []step{{false, 4, 3}, {true, 1, 2}}, [][]int{{1, 2, 3}, {5, 6, 4}}},
		{"an input that did nothing, then one that did", []step{{true, 1, 0}, {true, 1, 2}}, [][]int{{1}, {3, 4, 2}}},
		{"a merge (no InputSeq): the input first", []step{{true, 0, 2}}, [][]int{{2, 3, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, total := 1, 0
			for k, st := range tt.steps {
				// Spread the records over the kinds, as a Result holds them.
				var res engine.Result
				res.InputSeq = st.inputSeq
				for seq := 1; seq <= st.records; seq++ {
					switch seq % 3 {
					case 1:
						res.Transitions = append(res.Transitions, engine.Transition{Seq: seq})
					case 2:
						res.Sends = append(res.Sends, engine.Send{Seq: seq})
					default:
						res.Errors = append(res.Errors, engine.Error{Seq: seq})
					}
				}
				var in store.Received
				next = numberWrite(&res, &in, st.input, next)
				// Back in engine order: the engine's record seq is in the
				// kind seq % 3 says, in order.
				var got []int
				ti, si, ei := 0, 0, 0
				for seq := 1; seq <= st.records; seq++ {
					switch seq % 3 {
					case 1:
						got = append(got, res.Transitions[ti].Seq)
						ti++
					case 2:
						got = append(got, res.Sends[si].Seq)
						si++
					default:
						got = append(got, res.Errors[ei].Seq)
						ei++
					}
				}
				if st.input {
					got = append(got, in.Seq)
					total++
				}
				total += st.records
				if !slices.Equal(got, tt.want[k]) {
					t.Errorf("step %d: %v, want %v", k, got, tt.want[k])
				}
			}
			if next != total+1 {
				t.Errorf("next = %d, want %d (one more than the write's records and inputs)", next, total+1)
			}
		})
	}
}
