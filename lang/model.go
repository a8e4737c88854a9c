package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The model is a typed view of the workspace's files. Every node keeps the
// ranges the compiler, the language server and the IR need; optional
// attributes are nil when absent. The model holds what was written, valid or
// not: checking it is the compiler's job.

// FileKind tells definitions from scenario tests.
type FileKind int

const (
	JourneyFile FileKind = iota // *.journey.hcl
	TestFile                    // *.journeytest.hcl
)

// File is one source file of the workspace.
type File struct {
	Path string // relative to the workspace root, with forward slashes; ranges use it as Filename
	Kind FileKind
	Src  []byte
	Body *hclsyntax.Body // the parsed body, partial when the file has syntax errors
}

// Label is a block label and the range of its quoted text.
type Label struct {
	Value string
	Range hcl.Range
}

// Attr is an attribute as written.
type Attr struct {
	Name      string
	Expr      hclsyntax.Expression
	Range     hcl.Range // the whole `name = expr`
	NameRange hcl.Range
}

// Node is what every block in the model has: where it is.
type Node struct {
	Type      string
	TypeRange hcl.Range
	DefRange  hcl.Range // the type and labels: where diagnostics about the block point
	Range     hcl.Range // the whole block, braces included
}

// Def returns the node itself; it lets code handle any block uniformly.
func (n *Node) Def() *Node { return n }

// Workspace is every file of a workspace, as typed blocks in file and source order.
type Workspace struct {
	Root      string
	Files     []*File // sorted by Path
	Customers []*Customer
	Events    []*Event
	Channels  []*Channel
	Policies  []*Policy
	Topics    []*Topic
	Journeys  []*Journey
	// Moved are the top-level moved blocks: renamed journeys.
	Moved []*Moved
	// Metrics are the top-level metric blocks: CX scores from an event.
	Metrics []*Metric
	Tests   []*Test
	// SyntaxErrors holds the ranges of the parser's errors, so that later
	// checks do not report the same broken spot a second time.
	SyntaxErrors []hcl.Range
	// LoadErrors tells that loading reported an error (syntax, schema): the
	// model may miss required parts, so it must not be lowered to IR.
	LoadErrors bool
}

// File returns the file with the given workspace-relative path, or nil.
func (w *Workspace) File(path string) *File {
	for _, f := range w.Files {
		if f.Path == path {
			return f
		}
	}
	return nil
}

// Customer declares the customer profile's traits.
type Customer struct {
	Node
	Traits []*Field
}

// Field is a declared trait or event property.
type Field struct {
	Node
	Name        Label
	Type        *Attr
	Description *Attr
}

// Event declares an event and its properties.
type Event struct {
	Node
	Name        Label
	Description *Attr
	Properties  []*Field
}

// Channel declares where messages go. Settings holds every attribute but
// `type` and `description`, in source order.
type Channel struct {
	Node
	Name        Label
	Type        *Attr
	Description *Attr
	Settings    []*Attr
}

// Setting returns the named setting, or nil.
func (c *Channel) Setting(name string) *Attr { return findAttr(c.Settings, name) }

// Policy declares contact rules.
type Policy struct {
	Node
	Name         Label
	Description  *Attr
	QuietHours   *Attr
	SendWindow   *Attr
	FrequencyCap *Attr
	SuppressedBy *Attr
	Topic        *Attr
}

// Metric declares a score computed from an event's responses.
type Metric struct {
	Node
	Name        Label
	Description *Attr
	Kind        *Attr
	Event       *Attr
	Value       *Attr
}

// Topic declares a subscription topic.
type Topic struct {
	Node
	Name        Label
	Description *Attr
	Default     *Attr
}

// Journey is a journey block.
type Journey struct {
	Node
	Name        Label
	Description *Attr
	Persona     *Attr
	Policy      *Attr
	Reentry     *Attr
	InFlight    *Attr
	Entries     []*Trigger
	Goals       []*Trigger
	Exits       []*Trigger
	Stages      []*Stage
	Moved       []*Moved   // renamed stages
	Removed     []*Removed // removed stages
}

// Moved is a moved block: a renamed stage inside a journey, or a renamed
// journey at the top level. From names something that no longer exists.
type Moved struct {
	Node
	From *Attr
	To   *Attr
}

// Removed is a removed block: a stage that no longer exists, and where its
// customers go (Goto nil: they exit).
type Removed struct {
	Node
	From *Attr
	Goto *Attr
}

// Stage returns the named stage, or nil.
func (j *Journey) Stage(name string) *Stage {
	for _, s := range j.Stages {
		if s.Name.Value == name {
			return s
		}
	}
	return nil
}

// Trigger is an entry, goal or exit: an event label and an optional condition.
type Trigger struct {
	Node
	Event Label
	When  *Attr
}

// Stage is a stage block. Actions keep source order; the transitions are
// grouped by kind, each in source order.
type Stage struct {
	Node
	Name        Label
	Description *Attr
	Map         *StageMap
	Actions     []Action
	Goto        *Attr
	Branches    []*Branch
	Splits      []*Split
	Ons         []*On
	Afters      []*After
	Ats         []*At
}

// Waits reports whether the stage has a waiting transition.
func (s *Stage) Waits() bool { return len(s.Ons)+len(s.Afters)+len(s.Ats) > 0 }

// Immediate reports whether the stage has an immediate transition.
func (s *Stage) Immediate() bool { return s.Goto != nil || len(s.Branches)+len(s.Splits) > 0 }

// Action is a send, update or emit.
type Action interface {
	Def() *Node
	action()
}

// Send is a message through a channel. Fields holds every attribute but
// `channel` and `topic`, in source order.
type Send struct {
	Node
	Name    Label
	Channel *Attr
	Topic   *Attr
	Fields  []*Attr
}

// Field returns the named field, or nil.
func (s *Send) Field(name string) *Attr { return findAttr(s.Fields, name) }

// Update sets customer traits.
type Update struct {
	Node
	Traits []*Attr
}

// Emit raises an event for the customer.
type Emit struct {
	Node
	Event      Label
	Properties *Attr
}

func (*Send) action()   {}
func (*Update) action() {}
func (*Emit) action()   {}

// Branch is one arm of a branch list.
type Branch struct {
	Node
	When *Attr
	Goto *Attr
}

// Split chooses a variant by a stable hash.
type Split struct {
	Node
	Variants []*Variant
}

// Variant is one arm of a split.
type Variant struct {
	Node
	Name   Label
	Weight *Attr
	Goto   *Attr
}

// On waits for an event.
type On struct {
	Node
	Event Label
	When  *Attr
	Goto  *Attr
}

// After waits for a duration.
type After struct {
	Node
	Duration Label
	Goto     *Attr
}

// At waits until an absolute time.
type At struct {
	Node
	Time *Attr
	Goto *Attr
}

// Test is a scenario test.
type Test struct {
	Node
	Name        Label
	Description *Attr
	Start       *Attr
	Customer    *Attr
	Steps       []Step
}

// Step is one step of a scenario test.
type Step interface {
	Def() *Node
	step()
}

// EventStep sends an event; Properties are its attributes in source order.
type EventStep struct {
	Node
	Event      Label
	Properties []*Attr
}

// IdentifyStep changes traits.
type IdentifyStep struct {
	Node
	Traits []*Attr
}

// WaitStep advances the virtual clock.
type WaitStep struct {
	Node
	Duration Label
}

// ExpectStep checks the customer's state and sends.
type ExpectStep struct {
	Node
	Journey *Attr
	Stage   *Attr
	Status  *Attr
	Sent    *Attr
	NotSent *Attr
	// Unsubscribed lists the sends dropped because the customer was
	// unsubscribed from their topic.
	Unsubscribed *Attr
}

// SubscriptionStep changes the customer's consent to a topic.
type SubscriptionStep struct {
	Node
	Topic  *Attr
	Status *Attr
}

func (*SubscriptionStep) step() {}
func (*EventStep) step()        {}
func (*IdentifyStep) step()     {}
func (*WaitStep) step()         {}
func (*ExpectStep) step()       {}

func findAttr(attrs []*Attr, name string) *Attr {
	for _, a := range attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// StageMap is a stage's `map` block: its journey map.
type StageMap struct {
	Node
	Phase, Touchpoint, Emotion, PainPoints, Opportunities *Attr
}
