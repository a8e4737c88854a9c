// Package svgchart draws the web console's charts as inline SVG, in Go, so
// that a page needs no script and no network to show them: a journey's
// graph in layers (Graph), horizontal bars, plain or stacked (Bars), flows
// between columns (Sankey), estimates with intervals around zero
// (Intervals).
//
// Data flows one way: the console builds a chart value from an admin API
// document, and the chart's SVG method returns markup with every text
// escaped and its size set (width, height and viewBox), so that the page
// does not shift while it loads. Every chart carries a <title> and
// role="img" with an aria-label, for screen readers and tooltips.
//
// The layout is deterministic (no map order, no randomness): the golden
// files under testdata pin it (go test -update rewrites them).
package svgchart
