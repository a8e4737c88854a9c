package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"time"

	"github.com/waymark-dev/waymark/runtime/console/svgchart"
)

var funcs = template.FuncMap{
	// short shows a version hash as its first 12 characters; the title
	// attribute carries the whole.
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"pathesc": url.PathEscape,
	// pct writes part of whole as a percentage.
	"pct": func(part, whole int) string { return svgchart.Percent(float64(part), float64(whole)) },
	// share writes a rate (0..1) as a percentage; pp a difference of
	// rates in percentage points.
	"share": func(r float64) string { return fmt.Sprintf("%.1f%%", 100*r) },
	"pp":    func(d float64) string { return fmt.Sprintf("%+.1f pp", 100*d) },
	"pretty": func(raw json.RawMessage) string {
		var b bytes.Buffer
		if json.Indent(&b, raw, "", "  ") != nil {
			return string(raw)
		}
		return b.String()
	},
}

var pageNames = []string{"login", "index", "journey", "customers", "customer", "status"}

// parseTemplates parses each page with the layout. The templates are
// embedded, so a parse error is a bug caught by every test: panic.
func parseTemplates() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range pageNames {
		m[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}
