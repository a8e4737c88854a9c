package lang

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// guideAnchors are the anchors GitHub gives the headings of docs/guide.md:
// lower case, punctuation dropped, blanks as hyphens.
func guideAnchors(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(GuideFile)))
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^\p{L}\p{N} -]`)
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} (.+)$`).FindAllStringSubmatch(string(src), -1) {
		a := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(m[1]), ""), " ", "-")
		anchors[a] = true
	}
	return anchors
}

// Every block of both schemas points to a section of the guide that
// exists, so hover and the reference never link to nothing.
func TestGuideSections(t *testing.T) {
	anchors := guideAnchors(t)
	var walk func(bs *BlockSchema, path string)
	walk = func(bs *BlockSchema, path string) {
		for _, c := range bs.Blocks {
			p := strings.TrimPrefix(path+"."+c.Type, ".")
			switch s := GuideSection(c); {
			case s == "":
				t.Errorf("block %s has no section of %s: add it to guideSections", p, GuideFile)
			case !anchors[s]:
				t.Errorf("block %s points to #%s, which is not a heading of %s", p, s, GuideFile)
			}
			walk(c, p)
		}
	}
	walk(Schema, "")
	walk(TestSchema, "")
}
