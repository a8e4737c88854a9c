package lang

import "strings"

// GuideFile is the project's language guide, from the repository root: the
// semantics and examples that the schema's one-line docs point to.
const GuideFile = "docs/guide.md"

// guideSections maps a block, by its path of block types from the top of
// its file ("journey.stage.send"; scenario test files under "test"), to
// the section of the guide that explains it. TestGuideSections checks
// that every block has one and that each section exists.
var guideSections = map[string]string{
	"customer":                    "customer",
	"customer.trait":              "customer",
	"event":                       "event",
	"event.property":              "event",
	"channel":                     "channel",
	"policy":                      "contact-policy",
	"topic":                       "topic",
	"moved":                       "changing-journeys-under-way",
	"metric":                      "metrics",
	"journey":                     "journeys",
	"journey.entry":               "entries",
	"journey.goal":                "goals-and-exits",
	"journey.exit":                "goals-and-exits",
	"journey.moved":               "changing-journeys-under-way",
	"journey.removed":             "changing-journeys-under-way",
	"journey.stage":               "stages",
	"journey.stage.map":           "journey-maps",
	"journey.stage.send":          "send",
	"journey.stage.update":        "update",
	"journey.stage.emit":          "emit",
	"journey.stage.branch":        "branch",
	"journey.stage.split":         "split",
	"journey.stage.split.variant": "split",
	"journey.stage.on":            "waits-on-after-at",
	"journey.stage.after":         "waits-on-after-at",
	"journey.stage.at":            "waits-on-after-at",
	"test":                        "scenario-tests",
	"test.event":                  "scenario-tests",
	"test.identify":               "scenario-tests",
	"test.wait":                   "scenario-tests",
	"test.subscription":           "scenario-tests",
	"test.expect":                 "scenario-tests",
}

// bySchema is guideSections keyed by the schemas themselves.
var bySchema = func() map[*BlockSchema]string {
	m := map[*BlockSchema]string{}
	var walk func(bs *BlockSchema, path []string)
	walk = func(bs *BlockSchema, path []string) {
		for _, c := range bs.Blocks {
			p := append(path[:len(path):len(path)], c.Type)
			if s, ok := guideSections[strings.Join(p, ".")]; ok {
				m[c] = s
			}
			walk(c, p)
		}
	}
	walk(Schema, nil)
	walk(TestSchema, nil)
	return m
}()

// GuideSection returns the anchor of the guide's section that explains a
// block ("stages" for docs/guide.md#stages), or "" for none.
func GuideSection(bs *BlockSchema) string { return bySchema[bs] }
