// Package lsp is Waymark's language server: live diagnostics for a whole
// workspace as you type, completion, hover, go to definition, find
// references, rename, document and workspace symbols, formatting, quick fixes
// and semantic tokens, for *.journey.hcl and *.journeytest.hcl files. `waymark
// lsp` runs it on stdin and stdout; README.md says how to set up editors.
//
// # How data flows
//
//	client ──JSON-RPC──▶ serve.go ──▶ *server (one method per LSP method, one file each)
//	                                      │
//	        didOpen/didChange/didSave ────▶ workspace.set: a new immutable document
//	                                      │   (the buffer over the file on disk)
//	                     50 ms debounce ──▶ checker goroutine: analyze (analysis.go)
//	                                      │   lang.Parse per changed file, compiler.Validate
//	                                      │   over changed files + stubs of the rest
//	                                      ▼
//	                                   snapshot (immutable): per-file diagnostics,
//	                                   symbols and references (a reference finds
//	                                   its current symbol by kind and name), and
//	                                   the table of declarations
//	                                      │
//	        publishDiagnostics ◀──────────┤ what changed, then each changed open
//	                                      │ document with its version
//	        requests ◀────────────────────┘ completion reads the latest snapshot and the
//	                                        buffer; definition, references, rename,
//	                                        hover, code actions and semantic tokens wait
//	                                        for the snapshot of the buffer they are about
//
// serve.go is the thin adapter to go.lsp.dev/jsonrpc2 (Content-Length
// framing) and go.lsp.dev/protocol (LSP 3.18 types and their union-aware
// codec). Messages are dispatched in wire order; a request captures its
// document, then calls jsonrpc2.Async so later messages are read while it
// computes.
//
// Checking is incremental (analysis.go explains how): a change re-parses its
// own file only and re-checks the files its declarations can affect, judged
// by each file's signature (signature.go). TestIncrementalMatchesFullCheck
// holds the result to a full check after every kind of edit.
//
// Positions: LSP counts UTF-16 code units; HCL counts bytes, and columns in
// grapheme clusters. position.go converts through byte offsets only
// (hcl.Pos.Byte), never through HCL's columns.
//
// Completion works on text that does not parse: cursor.go finds the blocks
// around the cursor from a token outline (outline.go) of the top-level block
// it is in, with the cursor's line blanked out, and reads the line up to the
// cursor with HCL's lexer. Its words come from lang's schema (blocks,
// attributes, their documentation and snippets), lang.Variables,
// lang.Functions, and the workspace's declarations. The `from` of moved and
// removed blocks names what is gone: it completes from the running
// server's occupied stages and journeys (production.go), and from the
// workspace as committed at git HEAD (previous.go, read once per HEAD
// commit).
//
// # Why not hashicorp/hcl-lang
//
// hcl-lang (what terraform-ls is built on) offers schema-driven completion,
// hover and semantic tokens for HCL. Waymark's own, over lang.Schema, is
// smaller and keeps one schema:
//
//   - hcl-lang wants its own schema (schema.BodySchema with its own
//     documentation fields). Waymark's schema and its documentation live once,
//     in lang; a translated copy would be a second description of the
//     language to keep in step.
//   - What matters most here is not in any schema: the event whose properties
//     `event.` offers is the one in the enclosing trigger's label, `entry.`
//     is the union of the journey's entry events, `stage.` is the stages of
//     this journey, a send's fields depend on its channel's type. hcl-lang
//     would need custom hooks for each, and reference resolution comes from
//     Waymark's compiler (compiler.Index) anyway.
//   - It would bring a large dependency, and its decoder and reference
//     collection, for what is here a few hundred lines.
//
// # Production (optional)
//
// production.go shows a running server's customers when one is configured
// (Options.Server, or the initialization options): a code lens per stage
// and a warning for an occupied stage deleted without a moved or removed
// block. It talks to the server over the admin API only (GET
// /v1/journeys), never through runtime packages, caches for 10s and is
// silent when the server is absent or down.
//
// The protocol types and the JSON-RPC transport are the libraries', used as
// they are; everything about the language is lang's and the compiler's.
package lsp
