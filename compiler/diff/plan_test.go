package diff

import "testing"

func TestHeadlineAndExitCode(t *testing.T) {
	changed := &Diff{Journeys: []JourneyDiff{{Name: "trial", Change: Changed}}}
	for _, tc := range []struct {
		name     string
		p        Plan
		headline string
		code     int
	}{
		{"nothing", Plan{BaseVersion: "a", Version: "a", Changes: &Diff{}},
			"No change: the candidate is the program running now", ExitNoChange},
		{"a change, nobody in flight", Plan{BaseVersion: "a", Version: "b", Changes: changed},
			"No customer in flight is affected: the program changes, nobody moves", ExitChangesOnly},
		{"the issue's headline", Plan{BaseVersion: "a", Version: "b", Changes: changed, Summary: Summary{InFlight: 20, Redirected: 20}},
			"20 customers in flight would be redirected, 0 exited", ExitDisturbs},
		{"stay and pinned disturb nobody", Plan{BaseVersion: "a", Version: "b", Changes: changed, Summary: Summary{InFlight: 3, Stay: 2, Pinned: 1}},
			"3 customers in flight: 2 kept in their stage, 1 pinned to their version, 0 exited", ExitChangesOnly},
		{"all exit", Plan{BaseVersion: "a", Version: "b", Changes: changed, Summary: Summary{InFlight: 1, Exited: 1}},
			"1 customer in flight would exit", ExitDisturbs},
		{"a mix", Plan{BaseVersion: "a", Version: "b", Changes: changed, Summary: Summary{InFlight: 30, Moved: 10, Redirected: 15, Exited: 5}},
			"30 customers in flight: 10 moved, 15 redirected, 5 exited", ExitDisturbs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Headline(); got != tc.headline {
				t.Errorf("headline %q, want %q", got, tc.headline)
			}
			if got := tc.p.ExitCode(); got != tc.code {
				t.Errorf("exit code %d, want %d", got, tc.code)
			}
		})
	}
}

func TestHeldChange(t *testing.T) {
	old, new := compileTxtar(t, "trial")
	d := Compute(old, new)
	for _, tc := range []struct{ journey, stage, send, want string }{
		{"trial", "welcome", "welcome", HeldSendChanged}, // its data changed
		{"trial", "engaged", "x", HeldSendChanged},       // its stage is gone
		{"trial", "nudge", "y", HeldPolicyChanged},       // the policy's quiet hours changed
		{"other", "s", "z", ""},
	} {
		if got := d.HeldChange(old, tc.journey, tc.stage, tc.send); got != tc.want {
			t.Errorf("HeldChange(%s, %s, %s) = %q, want %q", tc.journey, tc.stage, tc.send, got, tc.want)
		}
	}
}

func TestNewName(t *testing.T) {
	old, new := compileTxtar(t, "moves")
	d := Compute(old, new)
	for from, want := range map[string]string{"onboarding": "welcome", "legacy": "legacy", "welcome": "welcome"} {
		if got := d.NewName(from); got != want {
			t.Errorf("NewName(%q) = %q, want %q", from, got, want)
		}
	}
}
