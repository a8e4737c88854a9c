package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// What one Step may spend is bounded: a call that would make a huge string
// fails before the work, templates that render each other stop at the
// Step's budget (an IR made by hand: the compiler refuses such templates),
// and a trait that doubles at every visit stops at the size of a value.
// Each is an error recorded for the instance, in milliseconds, where the
// replace() case took 5.4 s of one event's handling and the templates 73 s.
func TestStepCostIsBounded(t *testing.T) {
	p := compile(t, `
journey "j" {
  entry "go" {}
  stage "s" {
    send "replace" {
      channel = channel.log
      data    = replace(entry.note, "a", entry.note)
    }
    send "chain" {
      channel = channel.log
      data    = template("t/0.txt")
    }
    update {
      first_name = "${customer.first_name}${customer.first_name}"
    }
    after "1h" { goto = stage.s }
  }
}`, "t/0.txt", "x", "t/1.txt", "x", "t/2.txt", "x", "t/3.txt", "x", "t/4.txt", "x")
	// Five 8 KB templates, each including the next 12 times: 8 KB × 12⁴
	// is 162 MB per send.
	for i := range 5 {
		body := strings.Repeat("padding of the template\n", 8<<10/24)
		if i < 4 {
			body += strings.Repeat(fmt.Sprintf("${template(\"t/%d.txt\")}", i+1), 12)
		}
		p.Templates[fmt.Sprintf("t/%d.txt", i)] = body
	}
	e := newEngine(t, p, Options{})
	s := newSim(t, e, "c-1", map[string]any{"first_name": strings.Repeat("x", 1<<10)})
	start := time.Now()
	r := s.event("go", map[string]any{"note": strings.Repeat("a", 16<<10)})
	took := time.Since(start)
	t.Logf("the step took %v", took)
	if f := findSend(t, "replace", r); f.Fate != FateFailed || !strings.Contains(f.Reason, "limit of a value") {
		t.Errorf("replace: %s %s", f.Fate, f.Reason)
	}
	if f := findSend(t, "chain", r); f.Fate != FateFailed || !strings.Contains(f.Reason, "rendered more than") {
		t.Errorf("chain: %s %s", f.Fate, f.Reason)
	}
	// Generous for a loaded 2-core machine.
	if took > 3*time.Second {
		t.Errorf("the step took %v", took)
	}
	// The trait doubles at every visit, from 1 KB: past 1 MiB it stops.
	for range 14 {
		s.advance(time.Hour)
	}
	if n := len(s.c.Traits["first_name"].(string)); n > 1<<20 || n < 512<<10 {
		t.Errorf("first_name is %d bytes; want it stopped under 1 MiB", n)
	}
}

// A JSON number out of range (an event property or a stored trait read
// back as json.Number) is null, as an infinity is: 1e300000000 parses at
// once, and a template writing it would make 300 million digits.
func TestHugeJSONNumbersAreNull(t *testing.T) {
	tests := []struct {
		in   json.Number
		null bool
	}{
		{"1e300000000", true},
		{"-1e300000000", true},
		{"1e-300000000", true},
		{"12345678901234567890123", false},
		{"2.5", false},
		{"1e300", false},
		{"0", false},
	}
	for _, tt := range tests {
		if got := toCty(tt.in); got.IsNull() != tt.null {
			t.Errorf("toCty(%s): null is %v, want %v", tt.in, got.IsNull(), tt.null)
		}
	}
}
