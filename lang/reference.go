package lang

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

//go:generate go test -run TestReferenceIsCurrent -update

// ReferenceDoc renders the language reference (docs/language.md) from the
// schema, so the documentation cannot drift from what the loader accepts.
func ReferenceDoc() []byte {
	var b strings.Builder
	b.WriteString("# Waymark language reference\n\n")
	b.WriteString("<!-- Generated from lang/schema.go by `go generate ./lang`; do not edit. -->\n\n")
	b.WriteString("This reference lists every block and attribute the loader accepts, with the text that hover and completion show in editors. ")
	b.WriteString("For the semantics (how customers move through stages, how policies decide), with complete examples, read the [language guide](guide.md).\n\n")
	b.WriteString("## Journey files (`*.journey.hcl`)\n\n")
	for _, bs := range Schema.Blocks {
		writeBlock(&b, bs, nil)
	}
	b.WriteString("## Scenario test files (`*.journeytest.hcl`)\n\n")
	for _, bs := range TestSchema.Blocks {
		writeBlock(&b, bs, nil)
	}
	b.WriteString("## Variables\n\n")
	b.WriteString("| variable | what it holds |\n| --- | --- |\n")
	for _, v := range Variables {
		fmt.Fprintf(&b, "| `%s` | %s |\n", v.Name, tableCell(v.Doc))
	}
	b.WriteString("\n## Functions\n\n")
	b.WriteString("Expressions may call go-cty's standard library and these functions of Waymark's own:\n\n")
	for _, name := range slices.Sorted(maps.Keys(FuncDocs)) {
		fmt.Fprintf(&b, "- `%s`: %s\n", name, strings.TrimPrefix(FuncDocs[name], name))
	}
	b.WriteString("\nThe standard functions: ")
	var std []string
	for _, name := range FunctionNames() {
		if _, own := FuncDocs[name]; !own {
			std = append(std, "`"+name+"`")
		}
	}
	b.WriteString(strings.Join(std, ", ") + ".\n")
	return []byte(b.String())
}

func writeBlock(b *strings.Builder, bs *BlockSchema, path []string) {
	path = append(path, bs.Type)
	level := min(len(path)+2, 6)
	fmt.Fprintf(b, "%s `%s`\n\n", strings.Repeat("#", level), blockSyntax(bs, path))
	b.WriteString(bs.Doc)
	if sec := GuideSection(bs); sec != "" {
		fmt.Fprintf(b, " ([guide](guide.md#%s))", sec)
	}
	b.WriteString("\n\n")
	for _, l := range bs.Labels {
		fmt.Fprintf(b, "- label **%s**: %s\n", l.Name, l.Doc)
	}
	if len(bs.Attrs) > 0 || bs.OpenAttrs != nil {
		if len(bs.Labels) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("| attribute | value | required | meaning |\n| --- | --- | --- | --- |\n")
		for _, a := range bs.Attrs {
			req := ""
			if a.Required {
				req = "yes"
			}
			fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", a.Name, a.Kind, req, tableCell(a.Doc))
		}
		if a := bs.OpenAttrs; a != nil {
			fmt.Fprintf(b, "| *%s* | %s | | %s |\n", a.Name, a.Kind, tableCell(a.Doc))
		}
	}
	if len(bs.Blocks) > 0 {
		names := make([]string, len(bs.Blocks))
		for i, c := range bs.Blocks {
			names[i] = "`" + c.Type + "`"
		}
		if len(bs.Labels) > 0 || len(bs.Attrs) > 0 || bs.OpenAttrs != nil {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "Nested blocks: %s.\n", strings.Join(names, ", "))
	}
	b.WriteString("\n")
	for _, c := range bs.Blocks {
		writeBlock(b, c, path)
	}
}

// blockSyntax writes a block's header as it appears in a file.
func blockSyntax(bs *BlockSchema, path []string) string {
	s := bs.Type
	for _, l := range bs.Labels {
		s += fmt.Sprintf(" \"%s\"", strings.ToUpper(l.Name))
	}
	if len(path) > 1 {
		s += " (in " + strings.Join(path[:len(path)-1], " › ") + ")"
	}
	return s
}

func tableCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
