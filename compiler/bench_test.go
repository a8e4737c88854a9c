package compiler_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
)

// generatedWorkspace writes a workspace of n journeys of 12 stages each, one
// file per journey, plus a schema file: the size the issue asks to check.
func generatedWorkspace(n int) []lang.SourceFile {
	files := []lang.SourceFile{{Path: "schema.journey.hcl", Src: []byte(`
customer {
  trait "email"    { type = string }
  trait "plan"     { type = string }
  trait "timezone" { type = string }
  trait "ltv"      { type = number }
  trait "vip"      { type = bool }
}
event "signed_up" {
  property "plan"   { type = string }
  property "source" { type = string }
}
event "activated" {}
event "clicked" {
  property "link" { type = string }
}
event "unsubscribed" {}
channel "email" {
  type = "smtp"
  from = "Team <team@example.com>"
  addr = env("SMTP_ADDR")
}
channel "crm" {
  type   = "webhook"
  url    = env("CRM_URL")
  secret = env("CRM_SECRET")
}
policy "marketing" {
  quiet_hours   = "21:00-08:00"
  frequency_cap = "3 per 7d"
}
`)}}
	for i := 0; i < n; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "journey \"j%d\" {\n  description = \"Generated journey %d.\"\n  policy      = policy.marketing\n  reentry     = \"after 30d\"\n\n", i, i)
		b.WriteString("  entry \"signed_up\" {\n    when = event.plan != \"free\" && event.source == \"web\"\n  }\n  goal \"activated\" {}\n  exit \"unsubscribed\" {}\n\n")
		for s := 0; s < 12; s++ {
			skip := min(s+2, 11) // a later stage, never past the last
			fmt.Fprintf(&b, "  stage \"s%d\" {\n", s)
			switch {
			case s == 11:
				b.WriteString("    send \"last\" {\n      channel = channel.crm\n      data    = { customer = customer.id, plan = entry.plan }\n    }\n")
			case s%3 == 0:
				fmt.Fprintf(&b, "    send \"mail_%d\" {\n      channel = channel.email\n      to      = customer.email\n      subject = \"Step %d for ${customer.plan} customers\"\n      body    = \"Hello, this is step %d.\"\n    }\n", s, s, s)
				fmt.Fprintf(&b, "    on \"clicked\" {\n      when = event.link == \"step-%d\"\n      goto = stage.s%d\n    }\n    after \"2d\" { goto = stage.s%d }\n", s, skip, s+1)
			case s%3 == 1:
				fmt.Fprintf(&b, "    branch {\n      when = customer.vip && customer.ltv > %d\n      goto = stage.s%d\n    }\n    branch { goto = stage.s%d }\n", s*100, skip, s+1)
			default:
				fmt.Fprintf(&b, "    update { ltv = customer.ltv + 1 }\n    after \"1d 12h\" { goto = stage.s%d }\n", s+1)
			}
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
		files = append(files, lang.SourceFile{Path: fmt.Sprintf("journeys/j%04d.journey.hcl", i), Src: []byte(b.String())})
	}
	return files
}

// BenchmarkValidate1000x12 measures a full validate (load + every check) of
// 1,000 journeys × 12 stages against plain hclsyntax parsing of the same
// files, one after another, in the same run, and reports both and their
// ratio. Targets: ratio ≤ 3 and validate under 1 s. The loader parses files
// on every core (lang.parseAll); the baseline is the plain sequential loop
// a tool would write, so the ratio says what the whole of validate costs
// over merely reading the files.
func BenchmarkValidate1000x12(b *testing.B) {
	files := generatedWorkspace(1000)
	var parse, validate time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for _, f := range files {
			if _, diags := hclsyntax.ParseConfig(f.Src, f.Path, hcl.InitialPos); diags.HasErrors() {
				b.Fatal(diags)
			}
		}
		t1 := time.Now()
		ws, diags := lang.Parse(".", files)
		_, more := compiler.Validate(ws, compiler.Options{})
		t2 := time.Now()
		if all := append(diags, more...); len(all) > 0 {
			b.Fatalf("generated workspace is not clean: %s", all[0])
		}
		parse += t1.Sub(t0)
		validate += t2.Sub(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(parse.Milliseconds())/n, "parse-ms")
	b.ReportMetric(float64(validate.Milliseconds())/n, "validate-ms")
	b.ReportMetric(float64(validate)/float64(parse), "x-parse")
}
