package svgchart

import (
	"fmt"
	"html"
	"strings"
)

// Palette holds fill colours that keep a contrast of at least 3:1 against
// white (WCAG's figure for graphics), in the order series take them.
var Palette = []string{"#1f5fa8", "#b3541e", "#2e7d32", "#8e24aa", "#c62828", "#00695c", "#5d4037", "#455a64"}

// writer builds an SVG document. Numbers are written with at most one
// decimal, so that the golden files do not depend on float noise.
type writer struct{ b strings.Builder }

func (w *writer) open(width, height float64, label string) {
	fmt.Fprintf(&w.b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s" width="%s" height="%s" viewBox="0 0 %s %s">`,
		esc(label), num(width), num(height), num(width), num(height))
	fmt.Fprintf(&w.b, "<title>%s</title>", esc(label))
}

func (w *writer) close() string {
	w.b.WriteString("</svg>")
	return w.b.String()
}

func (w *writer) printf(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// text writes a text element; anchor is start, middle or end.
func (w *writer) text(x, y float64, anchor, class, s string) {
	fmt.Fprintf(&w.b, `<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, num(x), num(y), anchor, class, esc(s))
}

func esc(s string) string { return html.EscapeString(s) }

// num writes a coordinate: an integer when it is one, else one decimal.
func num(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		s = "0"
	}
	return s
}

// clip shortens s to n runes with an ellipsis, for labels in fixed boxes
// (the full text stays in the element's title).
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
