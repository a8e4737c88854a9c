// Package report renders diagnostics for people and for tools. It is shared by
// every command that reports problems in a workspace (validate, compile, test)
// and by the language server.
//
// Data flows one way: a caller hands a Printer the diagnostics it collected
// (hcl.Diagnostics, whose ranges name files relative to the workspace root)
// and a way to read those files; the Printer writes them in one of three
// formats:
//
//   - Text: for a terminal. Each diagnostic is "path:LINE:COL: error: Summary",
//     its detail, and the source line with the range underlined. Carets line
//     up under tabs (expanded to 4 columns) and wide or multi-byte characters.
//   - JSON: a stable document for tools:
//     {"diagnostics":[...],"errors":N,"warnings":N}.
//   - GitHub: workflow commands ("::error file=...::detail") that GitHub
//     Actions turns into annotations on a pull request.
//
// Paths are printed as the Printer's Root joined with each range's Filename,
// so output names files the way the user named the workspace.
package report
