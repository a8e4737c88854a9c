package main

import (
	"strings"
	"testing"
)

func TestParseStore(t *testing.T) {
	for _, tc := range []struct {
		in, kind, path, err string
	}{
		{in: "sqlite:./w.db", kind: "sqlite", path: "./w.db"},
		{in: "pebble:/var/w", kind: "pebble", path: "/var/w"},
		{in: "postgres://waymark@db:5432/waymark?sslmode=disable", kind: "postgres", path: "postgres://waymark@db:5432/waymark?sslmode=disable"},
		{in: "postgresql://waymark:s3cret@db/waymark", kind: "postgres", path: "postgresql://waymark:s3cret@db/waymark"},
		{in: "postgres://waymark:s3cret@db:notaport/x", err: "does not parse"},
		{in: "mysql:x", err: `unknown store kind "mysql"`},
		{in: "sqlite:", err: "path is empty"},
		{in: "w.db", err: "want KIND:PATH"},
	} {
		kind, path, err := parseStore(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseStore(%q) = %v, want an error with %q", tc.in, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("parseStore(%q): the error shows the password: %v", tc.in, err)
			}
			continue
		}
		if err != nil || kind != tc.kind || path != tc.path {
			t.Errorf("parseStore(%q) = %q, %q, %v; want %q, %q", tc.in, kind, path, err, tc.kind, tc.path)
		}
	}
}
