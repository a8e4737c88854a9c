package lang

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/waymark-dev/waymark/lang/suggest"
)

// File name suffixes of a workspace.
const (
	JourneySuffix = ".journey.hcl"
	TestSuffix    = ".journeytest.hcl"
)

// SourceFile is a file's path relative to the workspace root and its content.
// The language server passes unsaved buffers this way.
type SourceFile struct {
	Path string
	Src  []byte
}

// KindOf tells whether path names a journey file, a test file, or neither.
func KindOf(path string) (FileKind, bool) {
	switch {
	case strings.HasSuffix(path, TestSuffix):
		return TestFile, true
	case strings.HasSuffix(path, JourneySuffix):
		return JourneyFile, true
	}
	return 0, false
}

// FindFiles lists the workspace files under root, recursively, skipping hidden
// folders, as slash-separated paths relative to root in lexical order.
// The root itself may be a symlink (a checkout linked into place): WalkDir
// does not follow it, so the walk starts at its target. Symlinks below the
// root are not followed (ReadFile refuses those that leave it).
func FindFiles(root string) ([]string, error) {
	var paths []string
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if _, ok := KindOf(d.Name()); !ok {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		paths = append(paths, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(paths)
	return paths, err
}

// LoadDir reads and parses every workspace file under root. A file that
// cannot be read is reported and skipped; the rest still load. Files are
// read through ReadFile, so only regular files inside root are loaded, and
// reading stops at MaxFiles files or MaxWorkspaceBytes bytes.
func LoadDir(root string) (*Workspace, hcl.Diagnostics) {
	paths, err := FindFiles(root)
	if err != nil {
		return &Workspace{Root: root}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read workspace",
			Detail:   fmt.Sprintf("Reading %s failed: %v. Pass a directory that holds *.journey.hcl files.", root, err),
		}}
	}
	var diags hcl.Diagnostics
	if len(paths) > MaxFiles {
		diags = append(diags, tooManyFiles(len(paths)))
		paths = paths[:MaxFiles]
	}
	files := make([]SourceFile, 0, len(paths))
	total := 0
	for _, p := range paths {
		src, err := ReadFile(root, p)
		if err != nil {
			diags = append(diags, unreadable(p, err))
			continue
		}
		if total+len(src) > MaxWorkspaceBytes {
			diags = append(diags, workspaceTooLarge(p))
			break
		}
		total += len(src)
		files = append(files, SourceFile{Path: p, Src: src})
	}
	ws, more := Parse(root, files)
	ws.LoadErrors = ws.LoadErrors || diags.HasErrors()
	return ws, append(diags, more...)
}

// unreadable is the error of a file that ReadFile refused or could not read.
func unreadable(path string, err error) *hcl.Diagnostic {
	summary, detail := readProblem(path, err)
	return fileDiag(path, summary, detail)
}

// fileDiag is an error about a whole file, placed at its start.
func fileDiag(path, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  &hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

func tooManyFiles(n int) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too many workspace files",
		Detail:   fmt.Sprintf("The workspace has %d journey and test files; the limit is %d. Split it into several workspaces.", n, MaxFiles),
	}
}

func workspaceTooLarge(at string) *hcl.Diagnostic {
	return fileDiag(at, "Workspace too large",
		fmt.Sprintf("The workspace's files together pass %s, the limit of a workspace, at %s; it and the files after it were not loaded. Split the workspace.", FormatBytes(MaxWorkspaceBytes), at))
}

// Parse builds the workspace model from files already in memory. It never
// stops at the first problem: a file with syntax errors still contributes the
// blocks the parser recovered, and a malformed block is skipped on its own.
func Parse(root string, files []SourceFile) (*Workspace, hcl.Diagnostics) {
	ws := &Workspace{Root: root}
	sorted := append([]SourceFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	skip, diags := overLimits(sorted)
	parsed := parseAll(sorted, skip)
	for i, sf := range sorted {
		kind, _ := KindOf(sf.Path)
		f, fileDiags := parsed[i].file, parsed[i].diags
		diags = append(diags, fileDiags...)
		for _, d := range fileDiags {
			if d.Severity == hcl.DiagError && d.Subject != nil {
				ws.SyntaxErrors = append(ws.SyntaxErrors, *d.Subject)
			}
		}
		body, _ := f.Body.(*hclsyntax.Body)
		if body == nil {
			body = &hclsyntax.Body{}
		}
		ws.Files = append(ws.Files, &File{Path: sf.Path, Kind: kind, Src: sf.Src, Body: body})
		d := &decoder{ws: ws}
		if kind == TestFile {
			d.testFile(body)
		} else {
			d.journeyFile(body)
		}
		diags = append(diags, d.diags...)
	}
	ws.LoadErrors = diags.HasErrors()
	return ws, diags
}

// overLimits tells which files (in order) are not parsed because they pass
// the limits of a workspace: a file over MaxFileBytes, and every file past
// MaxFiles or MaxWorkspaceBytes. Files from LoadDir already fit; this is for
// the language server's buffers. A skipped file stays in the model, empty,
// so that every file given has its File.
func overLimits(files []SourceFile) ([]bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	skip := make([]bool, len(files))
	if len(files) > MaxFiles {
		diags = append(diags, tooManyFiles(len(files)))
	}
	total := 0
	for i, f := range files {
		switch {
		case i >= MaxFiles:
			skip[i] = true
		case len(f.Src) > MaxFileBytes:
			diags = append(diags, unreadable(f.Path, fileError(f.Path, ErrTooLarge)))
			skip[i] = true
		case total+len(f.Src) > MaxWorkspaceBytes:
			if total <= MaxWorkspaceBytes {
				diags = append(diags, workspaceTooLarge(f.Path))
				total = MaxWorkspaceBytes + 1
			}
			skip[i] = true
		default:
			total += len(f.Src)
		}
	}
	return skip, diags
}

type parsedFile struct {
	file  *hcl.File
	diags hcl.Diagnostics
}

// parseAll parses files on every core: parsing is most of a load, and files
// are independent. Results keep the order of files, so the model does not
// depend on scheduling.
func parseAll(files []SourceFile, skip []bool) []parsedFile {
	out := make([]parsedFile, len(files))
	parse := func(i int) {
		if skip[i] {
			out[i].file = &hcl.File{Body: &hclsyntax.Body{}}
			return
		}
		out[i].file, out[i].diags = ParseConfig(files[i].Src, files[i].Path)
	}
	workers := min(runtime.GOMAXPROCS(0), len(files))
	if workers <= 1 {
		for i := range files {
			parse(i)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(files); i = int(next.Add(1) - 1) {
				parse(i)
			}
		}()
	}
	wg.Wait()
	return out
}

// decoder turns hclsyntax bodies into model nodes, checking each body against
// its schema on the way.
type decoder struct {
	ws    *Workspace
	diags hcl.Diagnostics
}

func (d *decoder) errorf(subject hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
	})
}

// content is a body that passed its schema check: its known attributes by
// name and in source order, and its known blocks in source order.
type content struct {
	attrs  map[string]*Attr
	order  []*Attr
	blocks []*hclsyntax.Block
}

func (c *content) attr(name string) *Attr { return c.attrs[name] }

// check validates body against schema and keeps what the schema knows.
// owner is the enclosing block, for diagnostics about missing attributes.
func (d *decoder) check(body *hclsyntax.Body, schema *BlockSchema, owner *Node) *content {
	c := &content{attrs: map[string]*Attr{}}
	for _, a := range body.Attributes {
		attr := &Attr{Name: a.Name, Expr: a.Expr, Range: a.SrcRange, NameRange: a.NameRange}
		if schema.Attr(a.Name) == nil && schema.OpenAttrs == nil {
			if schema.Block(a.Name) != nil {
				d.errorf(a.NameRange, "Block written as an attribute",
					"%q is a block in %s, not an attribute: write `%s { ... }`.", a.Name, inside(schema), a.Name)
				continue
			}
			d.errorf(a.NameRange, "Unsupported attribute",
				"%s does not take an attribute named %q.%s", where(schema), a.Name,
				suggest.Hint(a.Name, schema.AttrNames(), "Attributes here: "))
			continue
		}
		c.attrs[a.Name] = attr
		c.order = append(c.order, attr)
	}
	sort.Slice(c.order, func(i, j int) bool { return c.order[i].Range.Start.Byte < c.order[j].Range.Start.Byte })

	seen := map[string]hcl.Range{}
	for _, b := range body.Blocks {
		bs := schema.Block(b.Type)
		if bs == nil {
			if schema.Attr(b.Type) != nil {
				d.errorf(b.TypeRange, "Attribute written as a block",
					"%q is an attribute in %s, not a block: write `%s = ...`.", b.Type, inside(schema), b.Type)
				continue
			}
			d.errorf(b.TypeRange, "Unsupported block type",
				"%s does not take a %q block.%s", where(schema), b.Type,
				suggest.Hint(b.Type, schema.BlockTypes(), "Blocks here: "))
			continue
		}
		if len(b.Labels) != len(bs.Labels) {
			d.labelCountError(b, bs)
			continue
		}
		if bs.Unique {
			if prev, dup := seen[b.Type]; dup {
				d.errorf(b.TypeRange, "Duplicate "+b.Type+" block",
					"%s takes one %q block; the first is at %s:%d:%d. Merge them.", where(schema), b.Type, prev.Filename, prev.Start.Line, prev.Start.Column)
				continue
			}
			seen[b.Type] = b.TypeRange
		}
		c.blocks = append(c.blocks, b)
	}
	for _, as := range schema.Attrs {
		if as.Required && c.attrs[as.Name] == nil && owner != nil {
			d.errorf(owner.DefRange, "Missing required attribute",
				"%s needs %s: %s", where(schema), "`"+as.Name+"`", as.Doc)
		}
	}
	return c
}

func (d *decoder) labelCountError(b *hclsyntax.Block, bs *BlockSchema) {
	subject := b.TypeRange
	if len(b.LabelRanges) > 0 {
		subject = hcl.RangeOver(b.TypeRange, b.LabelRanges[len(b.LabelRanges)-1])
	}
	switch {
	case len(bs.Labels) == 0:
		d.errorf(subject, "Unexpected label", "A %q block takes no label: write `%s { ... }`.", b.Type, b.Type)
	case len(b.Labels) == 0:
		d.errorf(subject, "Missing label", "A %q block needs a label: the %s, as in `%s \"NAME\" { ... }`. %s",
			b.Type, bs.Labels[0].Name, b.Type, bs.Labels[0].Doc)
	default:
		d.errorf(subject, "Too many labels", "A %q block takes %d label (the %s), not %d.",
			b.Type, len(bs.Labels), bs.Labels[0].Name, len(b.Labels))
	}
}

// where names a schema's block for diagnostics: `A "stage" block`.
func where(schema *BlockSchema) string {
	if schema.Type == "" {
		return "The top level of a file"
	}
	return fmt.Sprintf("A %q block", schema.Type)
}

// inside names a schema's block after "in": `a "stage" block`.
func inside(schema *BlockSchema) string {
	if schema.Type == "" {
		return "the top level of a file"
	}
	return fmt.Sprintf("a %q block", schema.Type)
}

func nodeOf(b *hclsyntax.Block) Node {
	def := b.TypeRange
	if n := len(b.LabelRanges); n > 0 {
		def = hcl.RangeBetween(b.TypeRange, b.LabelRanges[n-1])
	}
	return Node{
		Type:      b.Type,
		TypeRange: b.TypeRange,
		DefRange:  def,
		Range:     hcl.RangeBetween(b.TypeRange, b.CloseBraceRange),
	}
}

func label(b *hclsyntax.Block, i int) Label {
	return Label{Value: b.Labels[i], Range: b.LabelRanges[i]}
}

// journeyFile decodes the top level of a *.journey.hcl file.
func (d *decoder) journeyFile(body *hclsyntax.Body) {
	c := d.check(body, Schema, nil)
	for _, b := range c.blocks {
		bs := Schema.Block(b.Type)
		n := nodeOf(b)
		switch b.Type {
		case "customer":
			bc := d.check(b.Body, bs, &n)
			cust := &Customer{Node: n}
			for _, tb := range bc.blocks {
				cust.Traits = append(cust.Traits, d.field(tb, bs.Block("trait")))
			}
			d.ws.Customers = append(d.ws.Customers, cust)
		case "event":
			bc := d.check(b.Body, bs, &n)
			ev := &Event{Node: n, Name: label(b, 0), Description: bc.attr("description")}
			for _, pb := range bc.blocks {
				ev.Properties = append(ev.Properties, d.field(pb, bs.Block("property")))
			}
			d.ws.Events = append(d.ws.Events, ev)
		case "channel":
			bc := d.check(b.Body, bs, &n)
			ch := &Channel{Node: n, Name: label(b, 0), Type: bc.attr("type"), Description: bc.attr("description")}
			for _, a := range bc.order {
				if a.Name != "type" && a.Name != "description" {
					ch.Settings = append(ch.Settings, a)
				}
			}
			d.ws.Channels = append(d.ws.Channels, ch)
		case "policy":
			bc := d.check(b.Body, bs, &n)
			d.ws.Policies = append(d.ws.Policies, &Policy{
				Node: n, Name: label(b, 0),
				Description:  bc.attr("description"),
				QuietHours:   bc.attr("quiet_hours"),
				SendWindow:   bc.attr("send_window"),
				FrequencyCap: bc.attr("frequency_cap"),
				SuppressedBy: bc.attr("suppressed_by"),
				Topic:        bc.attr("topic"),
			})
		case "topic":
			bc := d.check(b.Body, bs, &n)
			d.ws.Topics = append(d.ws.Topics, &Topic{Node: n, Name: label(b, 0), Description: bc.attr("description"), Default: bc.attr("default")})
		case "journey":
			d.ws.Journeys = append(d.ws.Journeys, d.journey(b, bs))
		case "moved":
			d.ws.Moved = append(d.ws.Moved, d.moved(b, bs))
		case "metric":
			bc := d.check(b.Body, bs, &n)
			d.ws.Metrics = append(d.ws.Metrics, &Metric{Node: n, Name: label(b, 0),
				Description: bc.attr("description"), Kind: bc.attr("kind"), Event: bc.attr("event"), Value: bc.attr("value")})
		}
	}
}

func (d *decoder) field(b *hclsyntax.Block, bs *BlockSchema) *Field {
	n := nodeOf(b)
	c := d.check(b.Body, bs, &n)
	return &Field{Node: n, Name: label(b, 0), Type: c.attr("type"), Description: c.attr("description")}
}

func (d *decoder) journey(b *hclsyntax.Block, bs *BlockSchema) *Journey {
	n := nodeOf(b)
	c := d.check(b.Body, bs, &n)
	j := &Journey{Node: n, Name: label(b, 0),
		Description: c.attr("description"), Persona: c.attr("persona"), Policy: c.attr("policy"), Reentry: c.attr("reentry"), InFlight: c.attr("in_flight")}
	for _, cb := range c.blocks {
		cs := bs.Block(cb.Type)
		switch cb.Type {
		case "entry", "goal", "exit":
			tn := nodeOf(cb)
			tc := d.check(cb.Body, cs, &tn)
			t := &Trigger{Node: tn, Event: label(cb, 0), When: tc.attr("when")}
			switch cb.Type {
			case "entry":
				j.Entries = append(j.Entries, t)
			case "goal":
				j.Goals = append(j.Goals, t)
			default:
				j.Exits = append(j.Exits, t)
			}
		case "stage":
			j.Stages = append(j.Stages, d.stage(cb, cs))
		case "moved":
			j.Moved = append(j.Moved, d.moved(cb, cs))
		case "removed":
			rn := nodeOf(cb)
			rc := d.check(cb.Body, cs, &rn)
			j.Removed = append(j.Removed, &Removed{Node: rn, From: rc.attr("from"), Goto: rc.attr("goto")})
		}
	}
	return j
}

func (d *decoder) moved(b *hclsyntax.Block, bs *BlockSchema) *Moved {
	n := nodeOf(b)
	c := d.check(b.Body, bs, &n)
	return &Moved{Node: n, From: c.attr("from"), To: c.attr("to")}
}

func (d *decoder) stage(b *hclsyntax.Block, bs *BlockSchema) *Stage {
	n := nodeOf(b)
	c := d.check(b.Body, bs, &n)
	s := &Stage{Node: n, Name: label(b, 0), Description: c.attr("description"), Goto: c.attr("goto")}
	for _, cb := range c.blocks {
		cs := bs.Block(cb.Type)
		cn := nodeOf(cb)
		cc := d.check(cb.Body, cs, &cn)
		switch cb.Type {
		case "map":
			s.Map = &StageMap{Node: cn, Phase: cc.attr("phase"), Touchpoint: cc.attr("touchpoint"), Emotion: cc.attr("emotion"),
				PainPoints: cc.attr("pain_points"), Opportunities: cc.attr("opportunities")}
		case "send":
			send := &Send{Node: cn, Name: label(cb, 0), Channel: cc.attr("channel"), Topic: cc.attr("topic")}
			for _, a := range cc.order {
				if a.Name != "channel" && a.Name != "topic" {
					send.Fields = append(send.Fields, a)
				}
			}
			s.Actions = append(s.Actions, send)
		case "update":
			s.Actions = append(s.Actions, &Update{Node: cn, Traits: cc.order})
		case "emit":
			s.Actions = append(s.Actions, &Emit{Node: cn, Event: label(cb, 0), Properties: cc.attr("properties")})
		case "branch":
			s.Branches = append(s.Branches, &Branch{Node: cn, When: cc.attr("when"), Goto: cc.attr("goto")})
		case "split":
			split := &Split{Node: cn}
			vs := cs.Block("variant")
			for _, vb := range cc.blocks {
				vn := nodeOf(vb)
				vc := d.check(vb.Body, vs, &vn)
				split.Variants = append(split.Variants, &Variant{Node: vn, Name: label(vb, 0), Weight: vc.attr("weight"), Goto: vc.attr("goto")})
			}
			s.Splits = append(s.Splits, split)
		case "on":
			s.Ons = append(s.Ons, &On{Node: cn, Event: label(cb, 0), When: cc.attr("when"), Goto: cc.attr("goto")})
		case "after":
			s.Afters = append(s.Afters, &After{Node: cn, Duration: label(cb, 0), Goto: cc.attr("goto")})
		case "at":
			s.Ats = append(s.Ats, &At{Node: cn, Time: cc.attr("time"), Goto: cc.attr("goto")})
		}
	}
	return s
}

// testFile decodes the top level of a *.journeytest.hcl file.
func (d *decoder) testFile(body *hclsyntax.Body) {
	c := d.check(body, TestSchema, nil)
	for _, b := range c.blocks {
		bs := TestSchema.Block(b.Type)
		n := nodeOf(b)
		tc := d.check(b.Body, bs, &n)
		t := &Test{Node: n, Name: label(b, 0),
			Description: tc.attr("description"), Start: tc.attr("start"), Customer: tc.attr("customer")}
		for _, sb := range tc.blocks {
			sn := nodeOf(sb)
			sc := d.check(sb.Body, bs.Block(sb.Type), &sn)
			switch sb.Type {
			case "event":
				t.Steps = append(t.Steps, &EventStep{Node: sn, Event: label(sb, 0), Properties: sc.order})
			case "identify":
				t.Steps = append(t.Steps, &IdentifyStep{Node: sn, Traits: sc.order})
			case "wait":
				t.Steps = append(t.Steps, &WaitStep{Node: sn, Duration: label(sb, 0)})
			case "expect":
				t.Steps = append(t.Steps, &ExpectStep{Node: sn,
					Journey: sc.attr("journey"), Stage: sc.attr("stage"), Status: sc.attr("status"),
					Sent: sc.attr("sent"), NotSent: sc.attr("not_sent"), Unsubscribed: sc.attr("unsubscribed")})
			case "subscription":
				t.Steps = append(t.Steps, &SubscriptionStep{Node: sn, Topic: sc.attr("topic"), Status: sc.attr("status")})
			}
		}
		d.ws.Tests = append(d.ws.Tests, t)
	}
}
