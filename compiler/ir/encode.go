package ir

import (
	"bytes"
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
