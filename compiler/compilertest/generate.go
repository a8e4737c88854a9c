package compilertest

import (
	"fmt"
	"strings"

	"github.com/waymark-dev/waymark/lang"
)

// Schema is the schema file every generated journey is checked against.
// policyExtra is appended inside the marketing policy (for example a
// suppressed_by line).
func Schema(policyExtra string) string {
	return `customer {
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
` + policyExtra + `}
`
}

// Journey is journey "j<i>", 12 stages, about a hundred lines; extra is
// written after its entry, goal and exit blocks (more exits, say).
func Journey(i int, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "journey \"j%d\" {\n  description = \"Generated journey %d.\"\n  policy      = policy.marketing\n  reentry     = \"after 30d\"\n\n", i, i)
	b.WriteString("  entry \"signed_up\" {\n    when = event.plan != \"free\" && event.source == \"web\"\n  }\n  goal \"activated\" {}\n  exit \"unsubscribed\" {}\n")
	b.WriteString(extra)
	b.WriteString("\n")
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
	return b.String()
}

// Workspace is the schema file and n journeys, one file each.
func Workspace(n int) []lang.SourceFile {
	files := []lang.SourceFile{{Path: "schema.journey.hcl", Src: []byte(Schema(""))}}
	for i := range n {
		files = append(files, lang.SourceFile{Path: fmt.Sprintf("journeys/j%04d.journey.hcl", i), Src: []byte(Journey(i, ""))})
	}
	return files
}
