package lsp

import (
	"strings"
	"testing"

	"github.com/waymark-dev/waymark/lang"
)

// The completion context of positions in text that does not parse: the
// line being typed, and what it does to the lines after it (an unclosed
// quote turns the rest of the file inside out for the lexer).
func TestCursorOnIncompleteText(t *testing.T) {
	cases := []struct {
		name, src string // ‸ marks the cursor
		kind      cursorKind
		path      string // the enclosing block types
		want      string // attr, root, block/label or typed, as the kind has them
	}{
		{"empty file", "‸", ctxBody, "", ""},
		{"attribute name being typed", "journey \"j\" {\n  pol‸\n}\n", ctxBody, "journey", "typed=pol"},
		{"unclosed label, text after", "journey \"j\" {\n  on \"ord‸\n  stage \"s\" {}\n}\n", ctxLabel, "journey", "block=on label=0 typed=ord"},
		{"label closed after the cursor", "journey \"j\" {\n  stage \"s\" {\n    on \"‸\" {}\n  }\n}\n", ctxLabel, "journey stage", "block=on label=0 typed="},
		{"dot at the end of a line", "journey \"j\" {\n  stage \"a\" {\n    goto = stage.‸\n  }\n  stage \"b\" {}\n}\n", ctxTraversal, "journey stage", "root=stage attr=goto"},
		{"one-line block on the cursor's line", "journey \"j\" {\n  stage \"a\" {\n    on \"x\" { goto = stage.b‸\n  }\n}\n", ctxTraversal, "journey stage on", "root=stage attr=goto typed=b"},
		{"interpolation in a string", "journey \"j\" {\n  stage \"a\" {\n    send \"m\" {\n      subject = \"Hi ${customer.‸\n    }\n  }\n}\n", ctxTraversal, "journey stage send", "root=customer attr=subject"},
		{"heredoc", "journey \"j\" {\n  stage \"a\" {\n    send \"m\" {\n      body = <<EOT\nHello ${entry.‸}\nEOT\n    }\n  }\n}\n", ctxTraversal, "journey stage send", "root=entry attr=body"},
		{"multi-line object key", "journey \"j\" {\n  stage \"a\" {\n    emit \"e\" {\n      properties = {\n        ‸\n      }\n    }\n  }\n}\n", ctxKey, "journey stage emit", "attr=properties"},
		{"multi-line object value", "journey \"j\" {\n  stage \"a\" {\n    emit \"e\" {\n      properties = {\n        a = entry.‸\n      }\n    }\n  }\n}\n", ctxTraversal, "journey stage emit", "root=entry attr=properties"},
		{"in a string literal", "channel \"c\" {\n  type = \"sm‸\"\n}\n", ctxString, "channel", "attr=type typed=sm"},
		{"after an operator", "journey \"j\" {\n  entry \"e\" {\n    when = event.a == 1 && ‸\n  }\n}\n", ctxValue, "journey entry", "attr=when"},
		{"right after a number", "journey \"j\" {\n  stage \"a\" {\n    split {\n      variant \"v\" {\n        weight = 5‸\n", ctxNone, "journey stage split variant", "attr=weight"},
		{"unclosed blocks to the end", "journey \"j\" {\n  stage \"a\" {\n    ‸", ctxBody, "journey stage", ""},
		{"Chinese before the cursor", "journey \"手机\" {\n  description = \"你好 👋🏽\"\n  stage \"引导\" {\n    goto = stage.引‸\n  }\n}\n", ctxTraversal, "journey stage", "root=stage attr=goto typed=引"},
	}
	for _, c := range cases {
		off := strings.Index(c.src, "‸")
		src := strings.Replace(c.src, "‸", "", 1)
		cur := cursorAt([]byte(src), newLineIndex([]byte(src)), lang.JourneyFile, off)
		var path []string
		for _, f := range cur.frames {
			path = append(path, f.typ)
		}
		var got []string
		if cur.root != "" {
			got = append(got, "root="+cur.root)
		}
		if cur.block != "" {
			got = append(got, "block="+cur.block, "label="+string(rune('0'+cur.label)))
		}
		if cur.attr != "" {
			got = append(got, "attr="+cur.attr)
		}
		if cur.typed != "" || cur.kind == ctxLabel {
			got = append(got, "typed="+cur.typed)
		}
		if cur.kind != c.kind || strings.Join(path, " ") != c.path || !sameWords(strings.Join(got, " "), c.want) {
			t.Errorf("%s: kind %d in %q with %q; want kind %d in %q with %q", c.name, cur.kind, strings.Join(path, " "), strings.Join(got, " "), c.kind, c.path, c.want)
		}
		if cur.typed != "" && src[cur.start:off] != cur.typed {
			t.Errorf("%s: the typed text %q is not at its start offset (%q there)", c.name, cur.typed, src[cur.start:off])
		}
	}
}

func sameWords(a, b string) bool {
	wa, wb := strings.Fields(a), strings.Fields(b)
	if len(wa) != len(wb) {
		return false
	}
	seen := map[string]int{}
	for _, w := range wa {
		seen[w]++
	}
	for _, w := range wb {
		seen[w]--
		if seen[w] < 0 {
			return false
		}
	}
	return true
}
