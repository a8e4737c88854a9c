package ir

// Format names this version of the IR; readers refuse any other.
const Format = "waymark.ir/v1"

// End is the target of `goto = end`. No stage may be named end.
const End = "end"

// Program is a compiled workspace: everything the runtime needs, and nothing
// from the environment (env() calls stay calls).
type Program struct {
	Format   string    `json:"format"`
	Customer *Customer `json:"customer,omitempty"` // nil when the workspace declares no customer schema
	Events   []Event   `json:"events"`             // empty when the workspace declares none
	Channels []Channel `json:"channels"`
	Policies []Policy  `json:"policies"`
	// Topics are the subscription topics; omitted when there are none, so
	// programs without consent encode as before.
	Topics   []Topic   `json:"topics,omitempty"`
	Journeys []Journey `json:"journeys"`
	// Moved lists the journeys renamed by top-level moved blocks: the
	// runtime gives their instances the new name, then migrates them as
	// usual. Chains (a to b, b to c) are resolved: To is always a journey
	// of this program, and From never is.
	Moved []JourneyMove `json:"moved,omitempty"`
	// Metrics are the CX scores (top-level metric blocks); omitted when
	// there are none, so programs without them encode as before.
	Metrics []Metric `json:"metrics,omitempty"`
	// Templates holds the content of every file template() names, by its
	// workspace-relative path, so that an IR file is self-contained.
	Templates map[string]string `json:"templates,omitempty"`
}

// Pos is a position in a source file: 1-based line and column (in
// characters), 0-based byte offset.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
	Byte int `json:"byte"`
}

// Range is a span of a source file; File is relative to the workspace root.
type Range struct {
	File  string `json:"file"`
	Start Pos    `json:"start"`
	End   Pos    `json:"end"`
}

// Expr is an expression kept as its source text, re-parsed by the runtime
// (hclsyntax.ParseExpression with Range.Start as the start position, so
// runtime errors point at the journey file).
type Expr struct {
	Src   string `json:"src"`
	Range Range  `json:"range"`
}

// Setting is a named expression: a channel setting, a send field, a trait to update.
type Setting struct {
	Name string `json:"name"`
	Expr Expr   `json:"expr"`
}

// Customer is the declared customer schema.
type Customer struct {
	Traits []Field `json:"traits"`
}

// Field is a declared trait or event property; Type is an HCL type expression
// in canonical form ("string", "list(string)").
type Field struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	Range       Range  `json:"range"`
}

// Event is a declared event.
type Event struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Properties  []Field `json:"properties"`
	Range       Range   `json:"range"`
}

// Channel is where sends go. Settings are expressions evaluated by the
// runtime when it sets the channel up (env() is read then).
type Channel struct {
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	Settings []Setting `json:"settings"`
	Range    Range     `json:"range"`
}

// Policy is a set of contact rules. Windows and caps are kept in the
// canonical text of lang/timespec, which the runtime parses.
type Policy struct {
	Name         string   `json:"name"`
	QuietHours   string   `json:"quiet_hours,omitempty"`
	SendWindow   string   `json:"send_window,omitempty"`
	FrequencyCap *Cap     `json:"frequency_cap,omitempty"`
	SuppressedBy []string `json:"suppressed_by,omitempty"` // journey names
	Topic        string   `json:"topic,omitempty"`         // the topic of its sends, unless a send names its own
	Range        Range    `json:"range"`
}

// Topic is a subscription topic. Default is the status of a customer who
// never said either way: TopicSubscribed (opt-out) or TopicUnsubscribed
// (opt-in).
type Topic struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Default     string `json:"default"`
	Range       Range  `json:"range"`
}

// Subscription statuses.
const (
	TopicSubscribed   = "subscribed"
	TopicUnsubscribed = "unsubscribed"
)

// Cap is a frequency cap: at most N sends in any window of PerSeconds.
type Cap struct {
	N          int   `json:"n"`
	PerSeconds int64 `json:"per_seconds"`
}

// Reentry kinds.
const (
	ReentryNever  = "never"
	ReentryAlways = "always"
	ReentryAfter  = "after"
)

// Reentry says whether a customer may enter a journey again.
type Reentry struct {
	Kind         string `json:"kind"`                    // never | always | after
	AfterSeconds int64  `json:"after_seconds,omitempty"` // with kind after
}

// Journey is one compiled journey. Version is a content hash of everything
// but source ranges, so moving code around in a file keeps the version.
type Journey struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Description string    `json:"description,omitempty"`
	Persona     string    `json:"persona,omitempty"`
	Policy      string    `json:"policy,omitempty"`
	Reentry     Reentry   `json:"reentry"`
	Entries     []Trigger `json:"entries"`
	Goals       []Trigger `json:"goals"`
	Exits       []Trigger `json:"exits"`
	Start       string    `json:"start"` // the first stage; "" for a journey without stages
	Stages      []Stage   `json:"stages"`
	// InFlight says what happens to customers inside an older version when
	// this version replaces it: "" (migrate: they move by stage name, the
	// default) or InFlightPin (they finish on the version they entered).
	InFlight string `json:"in_flight,omitempty"`
	// Moved are stage renames: customers in From continue in To. Chains are
	// resolved: To is a stage of this journey, From is not.
	Moved []StageMove `json:"moved,omitempty"`
	// Removed are stages that are gone and where their customers go.
	Removed []StageRemoval `json:"removed,omitempty"`
	Range   Range          `json:"range"`
}

// In-flight rules.
const (
	InFlightMigrate = "migrate" // written as "" in the IR: the default
	InFlightPin     = "pin"
)

// StageMove is a `moved` block in a journey: a stage renamed from From to To.
type StageMove struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Range Range  `json:"range"`
}

// StageRemoval is a `removed` block: customers in the stage From, which no
// longer exists, go to Goto: a stage (entered: its actions run), End (the
// instance completes), or "" (it ends exited, cause "stage_removed").
type StageRemoval struct {
	From  string `json:"from"`
	Goto  string `json:"goto,omitempty"`
	Range Range  `json:"range"`
}

// JourneyMove is a top-level `moved` block: a journey renamed from From to To.
type JourneyMove struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Range Range  `json:"range"`
}

// Trigger is an entry, goal or exit.
type Trigger struct {
	Event string `json:"event"`
	When  *Expr  `json:"when,omitempty"`
	Range Range  `json:"range"`
}

// Stage is one state of the journey's state machine.
type Stage struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Map         *Map       `json:"map,omitempty"`
	Actions     []Action   `json:"actions"`
	Transition  Transition `json:"transition"`
	Range       Range      `json:"range"`
}

// Action kinds.
const (
	ActionSend   = "send"
	ActionUpdate = "update"
	ActionEmit   = "emit"
)

// Action is a send, an update or an emit; which fields are set depends on Kind.
type Action struct {
	Kind       string    `json:"kind"`
	Name       string    `json:"name,omitempty"`       // send: its name
	Channel    string    `json:"channel,omitempty"`    // send: the channel name
	Topic      string    `json:"topic,omitempty"`      // send: its own topic; "" takes the policy's
	Fields     []Setting `json:"fields,omitempty"`     // send: the channel-type fields
	Traits     []Setting `json:"traits,omitempty"`     // update: the traits to set, in order
	Event      string    `json:"event,omitempty"`      // emit: the event name
	Properties *Expr     `json:"properties,omitempty"` // emit: an object expression
	Range      Range     `json:"range"`
}

// Transition kinds.
const (
	TransitionNone   = "none"   // no transition: the journey completes
	TransitionGoto   = "goto"   // leave at once
	TransitionBranch = "branch" // leave at once by the first branch that holds
	TransitionSplit  = "split"  // leave at once into a hashed variant
	TransitionWait   = "wait"   // wait for on / after / at, the first to happen
)

// Transition is how a stage is left. Targets are stage names or End.
type Transition struct {
	Kind     string    `json:"kind"`
	Goto     string    `json:"goto,omitempty"`
	Branches []Branch  `json:"branches,omitempty"`
	Variants []Variant `json:"variants,omitempty"`
	Ons      []On      `json:"on,omitempty"`
	Afters   []After   `json:"after,omitempty"`
	Ats      []At      `json:"at,omitempty"`
	Range    Range     `json:"range"` // the goto attribute, or the first transition block
}

// Branch is one arm of a branch list; the last has no When.
type Branch struct {
	When  *Expr  `json:"when,omitempty"`
	Goto  string `json:"goto"`
	Range Range  `json:"range"`
}

// Variant is one arm of a split.
type Variant struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	Goto   string `json:"goto"`
	Range  Range  `json:"range"`
}

// On waits for an event.
type On struct {
	Event string `json:"event"`
	When  *Expr  `json:"when,omitempty"`
	Goto  string `json:"goto"`
	Range Range  `json:"range"`
}

// After waits a fixed time after the stage was entered.
type After struct {
	Seconds int64  `json:"seconds"`
	Spec    string `json:"spec"` // canonical duration text, e.g. "1w 2d"
	Goto    string `json:"goto"`
	Range   Range  `json:"range"`
}

// At waits until a time computed when the stage is entered.
type At struct {
	Time  Expr   `json:"time"`
	Goto  string `json:"goto"`
	Range Range  `json:"range"`
}

// Topic returns the named topic, or nil.
func (p *Program) Topic(name string) *Topic {
	for i := range p.Topics {
		if p.Topics[i].Name == name {
			return &p.Topics[i]
		}
	}
	return nil
}

// Journey returns the named journey, or nil.
func (p *Program) Journey(name string) *Journey {
	for i := range p.Journeys {
		if p.Journeys[i].Name == name {
			return &p.Journeys[i]
		}
	}
	return nil
}

// Stage returns the named stage, or nil.
func (j *Journey) Stage(name string) *Stage {
	for i := range j.Stages {
		if j.Stages[i].Name == name {
			return &j.Stages[i]
		}
	}
	return nil
}

// Map is a stage's journey map: the designed experience, for people and
// the console; the engine ignores it. Emotion is from -2 to 2.
type Map struct {
	Phase         string   `json:"phase,omitempty"`
	Touchpoint    string   `json:"touchpoint,omitempty"`
	Emotion       int      `json:"emotion"`
	PainPoints    []string `json:"pain_points,omitempty"`
	Opportunities []string `json:"opportunities,omitempty"`
}

// Metric is a score measured from an event's responses: Kind is nps, csat,
// ces or mean; Value, evaluated with `event` bound to the arriving Event,
// is one response (a number).
type Metric struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Event string `json:"event"`
	Value Expr   `json:"value"`
	Range Range  `json:"range"`
}
