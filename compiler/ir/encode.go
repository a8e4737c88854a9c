package ir

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Encode writes p as indented JSON. The same program always gives the same
// bytes: field order is fixed by the types, slices keep source order, and
// maps (templates) are written with sorted keys.
func Encode(p *Program) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode reads an IR document, refusing anything but this format.
func Decode(data []byte) (*Program, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("reading IR: %w", err)
	}
	if head.Format != Format {
		return nil, fmt.Errorf("reading IR: format is %q, this program reads %q; recompile the workspace", head.Format, Format)
	}
	var p Program
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("reading IR: %w", err)
	}
	return &p, nil
}

// Hash returns the journey's content hash: SHA-256 over its JSON with every
// source range and the version itself left out, as "sha256:" and the first
// 16 hex digits. Moving a journey within its file keeps its version; changing
// what it does changes it.
func Hash(j *Journey) string {
	c := *j
	c.Version = ""
	data, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("ir: a journey always marshals: %v", err)) // only plain data types
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		panic(fmt.Sprintf("ir: re-reading our own JSON: %v", err))
	}
	stripRanges(tree)
	canon, _ := json.Marshal(tree) // maps marshal with sorted keys
	sum := sha256.Sum256(canon)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

func stripRanges(v any) {
	switch t := v.(type) {
	case map[string]any:
		delete(t, "range")
		for _, c := range t {
			stripRanges(c)
		}
	case []any:
		for _, c := range t {
			stripRanges(c)
		}
	}
}
