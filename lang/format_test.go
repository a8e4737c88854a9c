package lang

import "testing"

func TestFormat(t *testing.T) {
	out, diags := Format("a.journey.hcl", []byte("\n\njourney \"j\" {\n    stage \"a\" {goto=end}\n}\n\n\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := "journey \"j\" {\n  stage \"a\" { goto = end }\n}\n"
	if string(out) != want {
		t.Errorf("Format = %q, want %q", out, want)
	}
	if again, _ := Format("a.journey.hcl", out); string(again) != want {
		t.Errorf("formatting formatted text changed it: %q", again)
	}
	if out, diags := Format("a.journey.hcl", []byte("journey \"j\" {\n  goto = stage.\n}\n")); !diags.HasErrors() || out != nil {
		t.Errorf("a file with a syntax error: got %q, %v; want it refused", out, diags)
	}
	if out, diags := Format("a.journey.hcl", []byte(" \n\n")); diags.HasErrors() || out != nil {
		t.Errorf("an empty file: got %q, %v; want nothing", out, diags)
	}
}
