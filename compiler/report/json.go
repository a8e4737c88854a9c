package report

import (
	"encoding/json"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// The JSON document. Field names and order are part of the contract with
// tools: add fields, never rename or remove them.
type (
	jsonReport struct {
		Diagnostics []jsonDiagnostic `json:"diagnostics"`
		Errors      int              `json:"errors"`
		Warnings    int              `json:"warnings"`
	}
	jsonDiagnostic struct {
		Severity string   `json:"severity"` // "error" or "warning"
		Summary  string   `json:"summary"`
		Detail   string   `json:"detail"`
		File     string   `json:"file,omitempty"` // the printed path; absent with start and end when the diagnostic points nowhere
		Start    *jsonPos `json:"start,omitempty"`
		End      *jsonPos `json:"end,omitempty"`
	}
	jsonPos struct {
		Line   int `json:"line"`   // 1-based
		Column int `json:"column"` // 1-based, in characters (grapheme clusters)
		Byte   int `json:"byte"`   // 0-based offset in the file
	}
)

// JSON writes diags as one indented JSON document:
//
//	{"diagnostics":[{"severity","summary","detail","file","start","end"}],"errors":N,"warnings":N}
//
// where start and end are {"line","column","byte"} and end is exclusive.
// "diagnostics" is an empty list, never null, when there are none.
func (p Printer) JSON(w io.Writer, diags hcl.Diagnostics) error {
	doc := jsonReport{Diagnostics: make([]jsonDiagnostic, 0, len(diags))}
	doc.Errors, doc.Warnings = Count(diags)
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: severity(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if r := d.Subject; r != nil && r.Filename != "" {
			jd.File = p.Path(r.Filename)
			jd.Start = &jsonPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte}
			jd.End = &jsonPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte}
		}
		doc.Diagnostics = append(doc.Diagnostics, jd)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
