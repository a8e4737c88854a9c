package suggest

import "testing"

func TestClosest(t *testing.T) {
	stages := []string{"guide", "check", "route", "nudge", "in_support", "call_back"}
	tests := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"chek", stages, "check"},
		{"giude", stages, "guide"},
		{"callback", stages, "call_back"},
		{"in_suport", stages, "in_support"},
		{"shipping", stages, ""},   // nothing close: no misleading hint
		{"ab", []string{"ac"}, ""}, // too short to guess
		{"check", stages, ""},      // an exact name is not a suggestion
		{"Guide", stages, "guide"}, // case does not count as an edit
		{"sned", []string{"send", "emit"}, "send"},
	}
	for _, tt := range tests {
		if got := Closest(tt.name, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestHint(t *testing.T) {
	if got := Hint("chek", []string{"check"}, "Stages: "); got != ` Did you mean "check"?` {
		t.Errorf("close name: got %q", got)
	}
	if got := Hint("zzz", []string{"check", "route"}, "Stages: "); got != " Stages: check, route." {
		t.Errorf("list: got %q", got)
	}
	if got := Hint("zzz", nil, "Stages: "); got != "" {
		t.Errorf("no candidates: got %q", got)
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"abc", "abc", 0}, {"abc", "acb", 1}, {"kitten", "sitting", 3}, {"日本", "日本語", 1},
	} {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
