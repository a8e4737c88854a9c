package console

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/url"
	"time"
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
	"pretty": func(raw json.RawMessage) string {
		var b bytes.Buffer
		if json.Indent(&b, raw, "", "  ") != nil {
			return string(raw)
		}
		return b.String()
	},
}

var pageNames = []string{"login", "index", "journey", "customer", "status"}

// parseTemplates parses each page with the layout. The templates are
// embedded, so a parse error is a bug caught by every test: panic.
func parseTemplates() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range pageNames {
		m[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}
