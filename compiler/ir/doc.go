// Package ir defines Waymark's intermediate representation: the compiled,
// checked form of a workspace that the runtime executes.
//
// The compiler lowers a workspace into a Program; Encode writes it as JSON
// ("format": "waymark.ir/v1") that is deterministic byte for byte, and Decode
// reads it back, refusing other formats. Expressions stay source text with
// their ranges and are re-parsed by the runtime, so an IR file is
// self-contained: CI can compile once and ship the file. Secrets never enter
// it: env() calls are kept as calls. See docs/ir.md for the format.
package ir
