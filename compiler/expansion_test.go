package compiler_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/lang"
)

// includeChain is the reported case: n templates of size bytes, each
// including the next k times.
func includeChain(n, k, size int) map[string][]byte {
	other := map[string][]byte{}
	for i := range n {
		var b strings.Builder
		b.WriteString("Hello ${customer.email}\n")
		if i+1 < n {
			for range k {
				fmt.Fprintf(&b, "${template(\"t/%d.txt\")}\n", i+1)
			}
		}
		for b.Len() < size {
			b.WriteString("padding line of the template.\n")
		}
		other[fmt.Sprintf("t/%d.txt", i)] = []byte(b.String())
	}
	return other
}

const expansionJourney = `customer {
  trait "email" { type = string }
}
channel "email" {
  type = "smtp"
  from = "care@example.com"
}
event "x" {}
journey "j" {
  entry "x" {}
  stage "s" {
    send "a" {
      channel = channel.email
      to      = customer.email
      subject = "Hi"
      body    = template("t/0.txt")
    }
  }
}
`

// Templates that include each other are checked once each, not once per
// path through them, and an expansion past the limits is an error at the
// call. Before, four 8 KB templates each including the next 12 times took
// 5.3 s to validate and rendered 83 MB per send.
func TestTemplateExpansionIsBounded(t *testing.T) {
	tests := []struct {
		name      string
		n, k      int
		size      int
		wantError bool
	}{
		{"reported case", 4, 12, 8 << 10, true},
		{"more levels", 5, 12, 8 << 10, true},
		{"too many includes", 3, 11, 100, true}, // 11 + 121 calls, small files
		{"a layout", 3, 4, 8 << 10, false},      // 4 + 16 calls, 168 KB
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := []lang.SourceFile{{Path: "main.journey.hcl", Src: []byte(expansionJourney)}}
			start := time.Now()
			_, diags := check(files, includeChain(tt.n, tt.k, tt.size))
			took := time.Since(start)
			var found bool
			for _, d := range diags {
				if d.Summary == "Template expands too much" {
					found = true
					if d.Subject == nil || d.Subject.Filename != "main.journey.hcl" || d.Subject.Start.Line != 16 {
						t.Errorf("reported at %v, want the template() argument in main.journey.hcl:16", d.Subject)
					}
				} else if d.Severity == hcl.DiagError {
					t.Errorf("unexpected error: %v", d)
				}
			}
			if found != tt.wantError {
				t.Errorf("expansion error %v, want %v: %v", found, tt.wantError, diags)
			}
			// Generous for a loaded 2-core machine: the exponential check
			// took seconds.
			if took > 2*time.Second {
				t.Errorf("checking took %v", took)
			}
		})
	}
}
