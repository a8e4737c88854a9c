package lang

// This file holds the one description of the language: every block, label and
// attribute with its documentation. The loader checks files against it, the
// language server completes and hovers from it, and docs/language.md is
// generated from it. Never write a description of the language anywhere else.

import (
	"net/textproto"
	"strings"
)

// ValueKind says what an attribute's expression must be. The loader uses it only
// for documentation; the compiler checks values against it.
type ValueKind int

const (
	KindAny          ValueKind = iota // any expression
	KindString                        // a string expression
	KindNumber                        // a number expression
	KindBool                          // a bool expression
	KindCondition                     // a bool expression over event/customer/entry data
	KindType                          // an HCL type expression: string, number, list(string)...
	KindStageTarget                   // stage.NAME or end
	KindChannelRef                    // channel.NAME
	KindPolicyRef                     // policy.NAME
	KindJourneyList                   // [journey.A, journey.B]
	KindDuration                      // a duration string: "2d"
	KindWindow                        // a daily or weekly window string: "Mon-Fri 09:00-18:00"
	KindCap                           // a frequency cap string: "3 per 7d"
	KindReentry                       // a re-entry rule string: "never" | "always" | "after 30d"
	KindTimestamp                     // an RFC 3339 timestamp expression
	KindObject                        // an object expression: { key = value }
	KindStringList                    // a list of string literals
	KindStatus                        // an instance status: none | active | completed | converted | exited
	KindInFlight                      // an in-flight rule string: "migrate" | "pin"
	KindStageRef                      // stage.NAME of a stage that exists
	KindJourneyRef                    // journey.NAME of a journey that exists
	KindGoneStage                     // stage.NAME of a stage that no longer exists (moved and removed blocks)
	KindGoneJourney                   // journey.NAME of a journey that no longer exists (top-level moved blocks)
	KindTopicRef                      // topic.NAME
	KindSubscription                  // a subscription status string: "subscribed" | "unsubscribed"
)

var kindNames = map[ValueKind]string{
	KindAny:          "any value",
	KindString:       "string",
	KindNumber:       "number",
	KindBool:         "bool",
	KindCondition:    "bool condition",
	KindType:         "type expression",
	KindStageTarget:  "stage.NAME or end",
	KindChannelRef:   "channel.NAME",
	KindPolicyRef:    "policy.NAME",
	KindJourneyList:  "list of journey.NAME",
	KindDuration:     "duration string",
	KindWindow:       "time window string",
	KindCap:          "frequency cap string",
	KindReentry:      "re-entry rule string",
	KindTimestamp:    "RFC 3339 timestamp",
	KindObject:       "object",
	KindStringList:   "list of strings",
	KindStatus:       "status string",
	KindInFlight:     "in-flight rule string",
	KindStageRef:     "stage.NAME",
	KindJourneyRef:   "journey.NAME",
	KindGoneStage:    "stage.NAME of a stage that no longer exists",
	KindGoneJourney:  "journey.NAME of a journey that no longer exists",
	KindTopicRef:     "topic.NAME",
	KindSubscription: "subscription status string",
}

// String names the kind the way documentation and diagnostics say it.
func (k ValueKind) String() string { return kindNames[k] }

// LabelKind says what a block label names.
type LabelKind int

const (
	LabelName     LabelKind = iota // declares a new name (a stage, a journey...)
	LabelEvent                     // refers to a declared event
	LabelDuration                  // a duration string
)

// LabelSchema documents one block label.
type LabelSchema struct {
	Name string
	Kind LabelKind
	Doc  string
}

// AttrSchema documents one attribute.
type AttrSchema struct {
	Name     string
	Kind     ValueKind
	Required bool
	Doc      string
	// ChannelTypes lists the channel types that take this attribute, for send
	// fields; empty means every type.
	ChannelTypes []string
}

// BlockSchema documents one block type and what may appear inside it.
type BlockSchema struct {
	Type   string
	Labels []LabelSchema
	Doc    string
	Attrs  []*AttrSchema
	Blocks []*BlockSchema
	// OpenAttrs, when set, allows attributes of any name (the traits of an
	// update, the properties of a test event); it documents them.
	OpenAttrs *AttrSchema
	// Unique blocks may appear at most once in their parent.
	Unique bool
	// Snippet is an LSP snippet that writes a typical instance of the block.
	Snippet string
}

// Attr returns the schema of the named attribute, or nil.
func (b *BlockSchema) Attr(name string) *AttrSchema {
	for _, a := range b.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Block returns the schema of the named nested block type, or nil.
func (b *BlockSchema) Block(typ string) *BlockSchema {
	for _, c := range b.Blocks {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

// AttrNames lists the attribute names in schema order.
func (b *BlockSchema) AttrNames() []string {
	names := make([]string, len(b.Attrs))
	for i, a := range b.Attrs {
		names[i] = a.Name
	}
	return names
}

// BlockTypes lists the nested block types in schema order.
func (b *BlockSchema) BlockTypes() []string {
	types := make([]string, len(b.Blocks))
	for i, c := range b.Blocks {
		types[i] = c.Type
	}
	return types
}

// Channel types the runtime can deliver through.
const (
	ChannelSMTP    = "smtp"
	ChannelWebhook = "webhook"
	ChannelLog     = "log"
	ChannelTwilio  = "twilio"
)

// ChannelTypes lists every channel type, in documentation order.
var ChannelTypes = []string{ChannelSMTP, ChannelWebhook, ChannelLog, ChannelTwilio}

// Subscription statuses: a customer's consent to one topic.
const (
	Subscribed   = "subscribed"
	Unsubscribed = "unsubscribed"
)

// SubscriptionStatuses lists the statuses, the default first.
var SubscriptionStatuses = []string{Subscribed, Unsubscribed}

// ReservedWebhookHeader reports whether name (in any case) is a header a
// webhook send may not give in `headers`: the channel sets it on every
// request (Content-Type, Idempotency-Key, X-Waymark-*, the receiver relies
// on them) or the HTTP transport owns it. The compiler refuses such a
// header at its key; the webhook channel refuses it again at delivery.
func ReservedWebhookHeader(name string) bool {
	name = textproto.CanonicalMIMEHeaderKey(name)
	return reservedWebhookHeaders[name] || strings.HasPrefix(name, "X-Waymark-")
}

var reservedWebhookHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Content-Encoding": true, "Transfer-Encoding": true,
	"Host": true, "Connection": true, "Te": true, "Trailer": true, "Upgrade": true,
	"Idempotency-Key": true,
}

// In-flight rules: what happens to customers inside a journey when a new
// version of it replaces the running one.
const (
	InFlightMigrate = "migrate"
	InFlightPin     = "pin"
)

// MapPhases lists the phases of a stage's journey map, in a customer's order.
var MapPhases = []string{"awareness", "interest", "consideration", "purchase", "use", "loyalty"}

// MetricKinds lists the kinds of a top-level metric: how its responses
// become one score (runtime/analytics/stats.Score).
var MetricKinds = []string{"nps", "csat", "ces", "mean"}

// InFlightRules lists the in-flight rules, the default first.
var InFlightRules = []string{InFlightMigrate, InFlightPin}

// Instance statuses, as scenario tests and the admin API name them.
var Statuses = []string{"none", "active", "completed", "converted", "exited"}

func description(what string) *AttrSchema {
	return &AttrSchema{Name: "description", Kind: KindString, Doc: "A sentence for people: what this " + what + " is for. Shown on hover and in the generated graph."}
}

func goTo() *AttrSchema {
	return &AttrSchema{Name: "goto", Kind: KindStageTarget, Required: true,
		Doc: "Where the customer goes next: `stage.NAME`, or `end` to finish the journey with status `completed`."}
}

func condition(doc string) *AttrSchema {
	return &AttrSchema{Name: "when", Kind: KindCondition, Doc: doc}
}

func fieldBlocks(kind, owner string) *BlockSchema {
	return &BlockSchema{
		Type:   kind,
		Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The " + kind + "'s name, as expressions refer to it: `" + owner + ".NAME`."}},
		Doc:    "Declares a " + kind + " and its type, so the compiler can check `" + owner + ".NAME` and the editor can complete it.",
		Attrs: []*AttrSchema{
			{Name: "type", Kind: KindType, Required: true, Doc: "An HCL type expression: `string`, `number`, `bool`, `list(string)`, `map(string)`, `object({...})` or `any`."},
			description(kind),
		},
		Snippet: kind + " \"${1:name}\" { type = ${2:string} }",
	}
}

// Schema is the root of the language: the blocks a `*.journey.hcl` file may hold.
var Schema = &BlockSchema{
	Type: "",
	Doc:  "A workspace file (`*.journey.hcl`). Every such file under the workspace directory shares one namespace.",
	Blocks: []*BlockSchema{
		{
			Type:    "customer",
			Doc:     "What a customer profile holds. `id` is always there and need not be declared. With a `customer` block, `customer.NAME` must name a declared trait; without one, any trait is allowed.",
			Blocks:  []*BlockSchema{fieldBlocks("trait", "customer")},
			Snippet: "customer {\n  trait \"${1:email}\" { type = ${2:string} }\n}",
		},
		{
			Type:    "event",
			Labels:  []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The event's name, as ingest receives it (the `event` field of a track call) and as `entry`, `on`, `goal` and `exit` labels name it."}},
			Doc:     "An event the journeys react to, with its properties. Once a workspace declares events, every trigger must name a declared event and `event.NAME` must name a declared property.",
			Attrs:   []*AttrSchema{description("event")},
			Blocks:  []*BlockSchema{fieldBlocks("property", "event")},
			Snippet: "event \"${1:name}\" {\n  description = \"${2}\"\n  property \"${3:id}\" { type = ${4:string} }\n}",
		},
		{
			Type:   "channel",
			Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The channel's name, as sends refer to it: `channel.NAME`."}},
			Doc:    "Where messages go. Hosts and secrets come from the environment through `env(\"NAME\")`, never from the file; the compiled IR keeps the call, not the value.",
			Attrs: []*AttrSchema{
				{Name: "type", Kind: KindString, Required: true, Doc: "The channel type: `smtp` (email through an SMTP server), `webhook` (a signed JSON POST), `log` (a structured log line) or `twilio` (SMS through Twilio's Messages API)."},
				description("channel"),
				{Name: "from", Kind: KindString, Doc: "smtp: the sender address, e.g. `\"Care <care@example.com>\"`. twilio: the sending phone number in E.164 form, e.g. `env(\"TWILIO_FROM\")`.", ChannelTypes: []string{ChannelSMTP, ChannelTwilio}},
				{Name: "addr", Kind: KindString, Doc: "smtp: the server as `host:port`, normally `env(\"SMTP_ADDR\")`.", ChannelTypes: []string{ChannelSMTP}},
				{Name: "username", Kind: KindString, Doc: "smtp: the user name for SMTP AUTH, normally from `env()`.", ChannelTypes: []string{ChannelSMTP}},
				{Name: "password", Kind: KindString, Doc: "smtp: the password for SMTP AUTH; always `env(\"...\")`.", ChannelTypes: []string{ChannelSMTP}},
				{Name: "starttls", Kind: KindBool, Doc: "smtp: upgrade the connection with STARTTLS before authenticating (default true when the server offers it).", ChannelTypes: []string{ChannelSMTP}},
				{Name: "url", Kind: KindString, Doc: "webhook: the URL each send is POSTed to, normally `env(\"...\")`.", ChannelTypes: []string{ChannelWebhook}},
				{Name: "secret", Kind: KindString, Doc: "webhook: the HMAC-SHA256 key; each request carries `X-Waymark-Signature: sha256=<hex>` of its body. Always `env(\"...\")`. Without it requests go unsigned and the compiler warns.", ChannelTypes: []string{ChannelWebhook}},
				{Name: "timeout", Kind: KindDuration, Doc: "webhook, smtp and twilio: how long one delivery attempt may take before it is retried (default \"10s\").", ChannelTypes: []string{ChannelWebhook, ChannelSMTP, ChannelTwilio}},
				{Name: "account_sid", Kind: KindString, Doc: "twilio: the account SID, the HTTP Basic user of every request and part of the Messages URL; normally `env(\"TWILIO_ACCOUNT_SID\")`.", ChannelTypes: []string{ChannelTwilio}},
				{Name: "auth_token", Kind: KindString, Doc: "twilio: the auth token, the HTTP Basic password, and the key that signs inbound webhooks (`X-Twilio-Signature`); always `env(\"TWILIO_AUTH_TOKEN\")`.", ChannelTypes: []string{ChannelTwilio}},
				{Name: "base_url", Kind: KindString, Doc: "twilio: the API's base URL (default `https://api.twilio.com`); tests point it at a local server.", ChannelTypes: []string{ChannelTwilio}},
			},
			Snippet: "channel \"${1:email}\" {\n  type = \"${2|smtp,webhook,log,twilio|}\"\n}",
		},
		{
			Type:   "topic",
			Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The topic's name, as policies and sends refer to it (`topic.NAME`) and as `POST /v1/subscriptions`, the unsubscribe link and the customer document name it."}},
			Doc:    "A subscription topic: a kind of message a customer consents to, or not. A send belongs to a topic through its own `topic` or its policy's; the engine drops a send to a customer unsubscribed from its topic, with fate `unsubscribed`, at the moment it is due (a held send is decided again when released). A send with no topic is transactional (receipts, security notices) and always allowed.",
			Attrs: []*AttrSchema{
				description("topic"),
				{Name: "default", Kind: KindSubscription, Doc: "The status of a customer who never said either way: `\"subscribed\"` (the default: an opt-out topic) or `\"unsubscribed\"` (an opt-in topic: nothing is sent until the customer subscribes)."},
			},
			Snippet: "topic \"${1:marketing}\" {\n  description = \"${2}\"\n  default     = \"${3|subscribed,unsubscribed|}\"\n}",
		},
		{
			Type:   "policy",
			Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The policy's name, as journeys refer to it: `policy.NAME`."}},
			Doc:    "Contact rules shared by journeys: when sends may go out, how many, and which journeys take precedence. Decided when a send is due, in the customer's `timezone` trait.",
			Attrs: []*AttrSchema{
				description("policy"),
				{Name: "quiet_hours", Kind: KindWindow, Doc: "A window in which sends are held, e.g. `\"21:00-08:00\"` or `\"Sat,Sun 00:00-24:00\"`; half-open `[start, end)` in the customer's time zone. A held send goes out when the window ends, unless its instance ended first. Cannot be combined with `send_window`."},
				{Name: "send_window", Kind: KindWindow, Doc: "The only window in which sends may go out, e.g. `\"Mon-Fri 09:00-18:00\"`; a send due outside it is held until it opens. Cannot be combined with `quiet_hours`."},
				{Name: "frequency_cap", Kind: KindCap, Doc: "At most N sends in any rolling window, e.g. `\"3 per 7d\"`, counting every send of every journey under this policy when it actually goes out. A capped send is dropped and recorded."},
				{Name: "topic", Kind: KindTopicRef, Doc: "The subscription topic every send under this policy belongs to, e.g. `topic.marketing`, unless the send names its own: a customer unsubscribed from it gets none of them."},
				{Name: "suppressed_by", Kind: KindJourneyList, Doc: "Journeys that take precedence, e.g. `[journey.support_case]`: while the customer is in one of them, journeys under this policy admit no one and their sends are dropped and recorded as suppressed."},
			},
			Snippet: "policy \"${1:marketing}\" {\n  quiet_hours   = \"${2:21:00-08:00}\"\n  frequency_cap = \"${3:3 per 7d}\"\n}",
		},
		journeySchema,
		{
			Type:   "metric",
			Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The metric's name, unique in the workspace, as the analytics report names it."}},
			Doc:    "A customer-experience score measured from an event's responses: NPS, CSAT, CES or a plain mean. Each response is attributed to the stage every active journey of the responding customer was in when the event arrived, and to the journey as a whole.",
			Attrs: []*AttrSchema{
				description("metric"),
				{Name: "kind", Kind: KindString, Required: true, Doc: "How responses become a score: `\"nps\"` (% of 9–10 minus % of 0–6, on 0–10), `\"csat\"` (% of 4–5 on 1–5), `\"ces\"` (the mean effort) or `\"mean\"` (the mean of any number)."},
				{Name: "event", Kind: KindString, Required: true, Doc: "The event that carries a response, e.g. `\"survey_answered\"`; a declared event when the workspace declares events."},
				{Name: "value", Kind: KindNumber, Required: true, Doc: "The response, a number expression over the event's properties, e.g. `event.score`."},
			},
			Snippet: "metric \"${1:nps}\" {\n  kind  = \"${2|nps,csat,ces,mean|}\"\n  event = \"${3:survey_answered}\"\n  value = event.${4:score}\n}",
		},
		{
			Type: "moved",
			Doc:  "Says that a journey was renamed, so that the customers inside it carry on: when this version replaces the running one, every instance of `from` becomes an instance of `to` (keeping its id) and then moves to the new version by stage name. Checked like Terraform's `moved` blocks: `from` must not exist any more and `to` must; one destination per source and one source per destination; no cycles. Chains (`a` to `b`, `b` to `c`) resolve to the end. Keep the block while a running version may still hold the old name.",
			Attrs: []*AttrSchema{
				{Name: "from", Kind: KindGoneJourney, Required: true, Doc: "The journey's old name, `journey.OLD`: a journey this workspace no longer declares."},
				{Name: "to", Kind: KindJourneyRef, Required: true, Doc: "The journey's new name, `journey.NEW`: a journey this workspace declares."},
			},
			Snippet: "moved {\n  from = journey.${1:old_name}\n  to   = journey.${2:new_name}\n}",
		},
	},
}

var journeySchema = &BlockSchema{
	Type:   "journey",
	Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The journey's name, unique in the workspace; `journey.NAME` refers to it."}},
	Doc:    "A customer journey: how customers enter it, the stages they move through, and the goals and exits that end it. The first stage in the block is where customers start.",
	Attrs: []*AttrSchema{
		description("journey"),
		{Name: "persona", Kind: KindString, Doc: "Who this journey is designed for, a sentence for people: `\"Salaried customer paying a card bill from the app\"`. Shown on the journey map."},
		{Name: "policy", Kind: KindPolicyRef, Doc: "The contact policy its sends obey: `policy.NAME`. A journey that sends without one gets a warning."},
		{Name: "reentry", Kind: KindReentry, Doc: "Whether a customer may enter again after an instance ended: `\"never\"` (the default), `\"always\"`, or `\"after 30d\"` counted from the end of the previous instance. While an instance is active, entry events are ignored."},
		{Name: "in_flight", Kind: KindInFlight, Doc: "What happens to customers already inside when this version replaces the running one: `\"migrate\"` (the default) moves them to this version by stage name, following `moved` and `removed`; `\"pin\"` lets each finish on the version it entered, while new entries use this one. The runtime keeps running every version that still has pinned customers."},
	},
	Blocks: []*BlockSchema{
		{
			Type:    "entry",
			Labels:  []LabelSchema{{Name: "event", Kind: LabelEvent, Doc: "The event that admits a customer."}},
			Doc:     "Admits a customer when this event arrives and `when` holds. The event's properties stay available as `entry.NAME` at every later step.",
			Attrs:   []*AttrSchema{condition("Admit only when this holds, e.g. `event.category == \"phone\"`. Must be a bool.")},
			Snippet: "entry \"${1:event}\" {\n  when = ${2:true}\n}",
		},
		{
			Type:    "goal",
			Labels:  []LabelSchema{{Name: "event", Kind: LabelEvent, Doc: "The event that counts as a conversion."}},
			Doc:     "Ends the instance as `converted` the moment this event arrives, wherever the customer is: checked on every event, not at the end of a wait.",
			Attrs:   []*AttrSchema{condition("Count the conversion only when this holds. Must be a bool.")},
			Snippet: "goal \"${1:event}\" {}",
		},
		{
			Type:    "exit",
			Labels:  []LabelSchema{{Name: "event", Kind: LabelEvent, Doc: "The event that ends the instance."}},
			Doc:     "Ends the instance as `exited` the moment this event arrives, wherever the customer is.",
			Attrs:   []*AttrSchema{condition("Exit only when this holds. Must be a bool.")},
			Snippet: "exit \"${1:event}\" {}",
		},
		stageSchema,
		{
			Type: "moved",
			Doc:  "Says that a stage was renamed: customers in `from` continue in `to` when this version replaces the running one. They keep their stage entry time, and their timers are recomputed as for a stage of the same name; the stage's actions do not run again. `from` must not exist any more and `to` must; one destination per source and one source per destination; no cycles. Chains (`a` to `b`, `b` to `c`) resolve to the end.",
			Attrs: []*AttrSchema{
				{Name: "from", Kind: KindGoneStage, Required: true, Doc: "The stage's old name, `stage.OLD`: a stage this journey no longer declares."},
				{Name: "to", Kind: KindStageRef, Required: true, Doc: "The stage's new name, `stage.NEW`: a stage of this journey."},
			},
			Snippet: "moved {\n  from = stage.${1:old_name}\n  to   = stage.${2:new_name}\n}",
		},
		{
			Type: "removed",
			Doc:  "Says where the customers of a stage that is gone go when this version replaces the running one. Without it (or without `goto`) they end `exited`, cause `stage_removed`. `from` must not exist any more.",
			Attrs: []*AttrSchema{
				{Name: "from", Kind: KindGoneStage, Required: true, Doc: "The removed stage, `stage.OLD`: a stage this journey no longer declares."},
				{Name: "goto", Kind: KindStageTarget, Doc: "Where its customers go: `stage.NAME` (the stage is entered and its actions run; the transition's cause is `removed`) or `end` (they complete). Leave it out to end them `exited`, cause `stage_removed`."},
			},
			Snippet: "removed {\n  from = stage.${1:old_name}\n  goto = stage.${2:name}\n}",
		},
	},
}

var stageSchema = &BlockSchema{
	Type:   "stage",
	Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The stage's name, unique in its journey; `stage.NAME` refers to it. Live instances move to a new version by stage name."}},
	Doc:    "A step of the journey. On entry its actions (`send`, `update`, `emit`) run in source order; then it leaves by one kind of transition: immediate (`goto`, `branch`, `split`) or waiting (`on`, `after`, `at`). A stage with no transition ends the journey as `completed`.",
	Attrs: []*AttrSchema{
		description("stage"),
		{Name: "goto", Kind: KindStageTarget, Doc: "Leave at once for `stage.NAME`, or `end` to finish the journey as `completed`."},
	},
	Blocks: []*BlockSchema{
		{
			Type:   "map",
			Unique: true,
			Doc:    "The journey map at this stage: the designed experience that the console shows above the measured one. It changes nothing at run time.",
			Attrs: []*AttrSchema{
				{Name: "phase", Kind: KindString, Doc: "The customer's phase: `\"awareness\"`, `\"interest\"`, `\"consideration\"`, `\"purchase\"`, `\"use\"` or `\"loyalty\"`."},
				{Name: "touchpoint", Kind: KindString, Doc: "Where the customer meets the business at this stage, e.g. `\"app push\"`."},
				{Name: "emotion", Kind: KindNumber, Doc: "The expected feeling at this point, a whole number from -2 (very negative) to 2 (very positive)."},
				{Name: "pain_points", Kind: KindStringList, Doc: "What hurts here, a list of strings."},
				{Name: "opportunities", Kind: KindStringList, Doc: "What could be better here, a list of strings."},
			},
			Snippet: "map {\n  phase      = \"${1|awareness,interest,consideration,purchase,use,loyalty|}\"\n  touchpoint = \"${2}\"\n  emotion    = ${3:0}\n}",
		},
		{
			Type:   "send",
			Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The send's name, unique in its journey; scenario tests and the admin API name sends by it."}},
			Doc:    "Sends a message through a channel when the customer enters the stage, subject to the journey's policy. Fields depend on the channel type: smtp takes `to`, `subject`, `body`, optional `html` and `reply_to`; webhook takes `data` and optional `headers`; log takes `data`; twilio takes `to` and `body`.",
			Attrs: []*AttrSchema{
				{Name: "channel", Kind: KindChannelRef, Required: true, Doc: "The channel to send through: `channel.NAME`."},
				{Name: "topic", Kind: KindTopicRef, Doc: "The subscription topic this send belongs to, e.g. `topic.product_news`, in place of its policy's. A send with no topic, own or its policy's, is transactional and always allowed."},
				{Name: "to", Kind: KindString, Doc: "smtp: the recipient address, usually `customer.email`. twilio: the recipient phone number in E.164 form, usually `customer.phone`.", ChannelTypes: []string{ChannelSMTP, ChannelTwilio}},
				{Name: "subject", Kind: KindString, Doc: "smtp: the subject line; a template string such as `\"Welcome, ${customer.first_name}\"`.", ChannelTypes: []string{ChannelSMTP}},
				{Name: "body", Kind: KindString, Doc: "smtp: the plain-text body, often `template(\"templates/NAME.txt\")`. twilio: the text of the SMS.", ChannelTypes: []string{ChannelSMTP, ChannelTwilio}},
				{Name: "html", Kind: KindString, Doc: "smtp: an HTML alternative body. Every value interpolated into it (a trait, a property, a function's result) is HTML-escaped, as Go's html/template does; the markup written in the journey and in its template files is kept. Wrap markup you control in `trusted_html()` to keep it unescaped.", ChannelTypes: []string{ChannelSMTP}},
				{Name: "reply_to", Kind: KindString, Doc: "smtp: the Reply-To address.", ChannelTypes: []string{ChannelSMTP}},
				{Name: "data", Kind: KindAny, Doc: "webhook and log: the JSON payload, any value, e.g. `{ customer = customer.id, reason = \"activation\" }`.", ChannelTypes: []string{ChannelWebhook, ChannelLog}},
				{Name: "headers", Kind: KindObject, Doc: "webhook: extra HTTP headers, a map of strings. Headers that Waymark sets itself (`Content-Type`, `Idempotency-Key`, `X-Waymark-*`) or that HTTP owns (`Host`, `Content-Length`, ...) are refused, in any case.", ChannelTypes: []string{ChannelWebhook}},
			},
			Snippet: "send \"${1:name}\" {\n  channel = channel.${2:email}\n  to      = customer.email\n  subject = \"${3}\"\n  body    = template(\"templates/${4:name}.txt\")\n}",
		},
		{
			Type:      "update",
			Doc:       "Sets customer traits, in order, when the customer enters the stage: `update { needs_call = true }`. With a `customer` schema, each must be a declared trait of its declared type.",
			OpenAttrs: &AttrSchema{Name: "TRAIT", Kind: KindAny, Doc: "A trait to set, and its new value."},
			Snippet:   "update {\n  ${1:trait} = ${2:value}\n}",
		},
		{
			Type:    "emit",
			Labels:  []LabelSchema{{Name: "event", Kind: LabelEvent, Doc: "The event to raise for this customer."}},
			Doc:     "Raises an event for this customer, handled after the current one; any journey may react to it. Chains of emits are bounded.",
			Attrs:   []*AttrSchema{{Name: "properties", Kind: KindObject, Doc: "The event's properties, e.g. `{ order_id = entry.order_id }`."}},
			Snippet: "emit \"${1:event}\" {\n  properties = { ${2} }\n}",
		},
		{
			Type: "branch",
			Doc:  "Leaves at once by the first branch, in source order, whose `when` holds. The last branch must have no `when`: it is the default.",
			Attrs: []*AttrSchema{
				condition("Take this branch when this holds. Must be a bool. Leave it out on the last branch."),
				goTo(),
			},
			Snippet: "branch {\n  when = ${1:condition}\n  goto = stage.${2:name}\n}",
		},
		{
			Type:   "split",
			Unique: true,
			Doc:    "Leaves at once into one variant, chosen by a stable hash of (customer id, journey, stage) over the integer weights in source order: the same customer always lands in the same variant, in every version.",
			Blocks: []*BlockSchema{{
				Type:   "variant",
				Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "The variant's name, as reports show it."}},
				Doc:    "One arm of a split, taken by a share of customers proportional to its weight.",
				Attrs: []*AttrSchema{
					{Name: "weight", Kind: KindNumber, Required: true, Doc: "A positive whole number; the variant's share is its weight over the sum of the weights."},
					goTo(),
				},
				Snippet: "variant \"${1:name}\" {\n  weight = ${2:50}\n  goto   = stage.${3:name}\n}",
			}},
			Snippet: "split {\n  variant \"${1:a}\" {\n    weight = 50\n    goto   = stage.${2:name}\n  }\n  variant \"${3:b}\" {\n    weight = 50\n    goto   = stage.${4:name}\n  }\n}",
		},
		{
			Type:   "on",
			Labels: []LabelSchema{{Name: "event", Kind: LabelEvent, Doc: "The event to wait for."}},
			Doc:    "Waits for an event; the first matching `on` in source order wins. May be combined with `after` and `at` in one stage: the first to happen wins.",
			Attrs: []*AttrSchema{
				condition("React only when this holds, e.g. `event.order_id == entry.order_id`. Must be a bool."),
				goTo(),
			},
			Snippet: "on \"${1:event}\" { goto = stage.${2:name} }",
		},
		{
			Type:    "after",
			Labels:  []LabelSchema{{Name: "duration", Kind: LabelDuration, Doc: "How long after entering the stage: `\"45s\"`, `\"30m\"`, `\"36h\"`, `\"2d\"`, `\"1w\"`, `\"1w 2d\"`."}},
			Doc:     "Waits, then leaves this long after the customer entered the stage, unless an `on` or `at` fired first.",
			Attrs:   []*AttrSchema{goTo()},
			Snippet: "after \"${1:1d}\" { goto = stage.${2:name} }",
		},
		{
			Type: "at",
			Doc:  "Waits until an absolute time computed from data, e.g. three days before a due date. A time already past fires at once. A time that fails or is not RFC 3339 (`\"next tuesday\"`) is recorded as an error in the customer's history and that wait is ignored: the stage's other `after`, `at` and `on` still run; a stage left with none ends the instance `exited` with cause `bad_time`.",
			Attrs: []*AttrSchema{
				{Name: "time", Kind: KindTimestamp, Required: true, Doc: "An RFC 3339 timestamp, e.g. `timeadd(entry.due_date, \"-72h\")`."},
				goTo(),
			},
			Snippet: "at {\n  time = ${1:timeadd(entry.due_date, \"-72h\")}\n  goto = stage.${2:name}\n}",
		},
	},
	Snippet: "stage \"${1:name}\" {\n  ${0}\n}",
}

func init() {
	journeySchema.Snippet = "journey \"${1:name}\" {\n  description = \"${2}\"\n  policy      = policy.${3:marketing}\n\n  entry \"${4:event}\" {}\n  goal \"${5:event}\" {}\n\n  stage \"${6:start}\" {\n    ${0}\n  }\n}"
}

// TestSchema is the root of a scenario test file (`*.journeytest.hcl`).
var TestSchema = &BlockSchema{
	Type: "",
	Doc:  "A scenario test file (`*.journeytest.hcl`): tests that run the workspace's journeys on a virtual clock.",
	Blocks: []*BlockSchema{{
		Type:   "test",
		Labels: []LabelSchema{{Name: "name", Kind: LabelName, Doc: "What the test shows, in words; `waymark test -run` matches it."}},
		Doc:    "A scenario: a customer, a timeline of events and waits, and expectations, run by the real engine on a virtual clock. Steps run in source order; each test starts from nothing.",
		Attrs: []*AttrSchema{
			description("test"),
			{Name: "start", Kind: KindTimestamp, Required: true, Doc: "Where the virtual clock starts, as RFC 3339: `\"2026-03-02T10:00:00+08:00\"`."},
			{Name: "customer", Kind: KindObject, Required: true, Doc: "The customer's profile: `id` and traits, e.g. `{ id = \"c-1\", email = \"li@example.com\", timezone = \"Asia/Shanghai\" }`."},
		},
		Blocks: []*BlockSchema{
			{
				Type:      "event",
				Labels:    []LabelSchema{{Name: "event", Kind: LabelEvent, Doc: "The event the customer sends."}},
				Doc:       "A step: the customer sends this event now, with the attributes as its properties.",
				OpenAttrs: &AttrSchema{Name: "PROPERTY", Kind: KindAny, Doc: "A property of the event."},
				Snippet:   "event \"${1:name}\" {\n  ${0}\n}",
			},
			{
				Type:      "identify",
				Doc:       "A step: the customer's traits change now, as an identify call would change them.",
				OpenAttrs: &AttrSchema{Name: "TRAIT", Kind: KindAny, Doc: "A trait and its new value."},
				Snippet:   "identify {\n  ${1:trait} = ${2:value}\n}",
			},
			{
				Type: "subscription",
				Doc:  "A step: the customer's consent to a topic changes now, as `POST /v1/subscriptions`, the unsubscribe link or an SMS STOP would change it.",
				Attrs: []*AttrSchema{
					{Name: "topic", Kind: KindString, Required: true, Doc: "The topic, by name: `\"marketing\"`."},
					{Name: "status", Kind: KindSubscription, Required: true, Doc: "`\"subscribed\"` or `\"unsubscribed\"`."},
				},
				Snippet: "subscription {\n  topic  = \"${1:marketing}\"\n  status = \"${2|unsubscribed,subscribed|}\"\n}",
			},
			{
				Type:    "wait",
				Labels:  []LabelSchema{{Name: "duration", Kind: LabelDuration, Doc: "How far to advance the virtual clock: `\"3d\"`."}},
				Doc:     "A step: advances the virtual clock; everything due on the way happens in time order before the next step.",
				Snippet: "wait \"${1:1d}\" {}",
			},
			{
				Type: "expect",
				Doc:  "A step: checks where the customer is and what was sent since the previous `expect`.",
				Attrs: []*AttrSchema{
					{Name: "journey", Kind: KindString, Doc: "The journey the expectations are about, by name. Needed for `stage` and `status`."},
					{Name: "stage", Kind: KindString, Doc: "The stage the customer's active instance is in."},
					{Name: "status", Kind: KindStatus, Doc: "The status of the customer's latest instance of the journey: `none` (never entered), `active`, `completed`, `converted` or `exited`."},
					{Name: "sent", Kind: KindStringList, Doc: "Exactly the sends delivered since the previous `expect`, in order: only this journey's when `journey` is set. Held sends count when they go out; suppressed and capped ones never do."},
					{Name: "not_sent", Kind: KindStringList, Doc: "Sends that must not have gone out since the previous `expect`."},
					{Name: "unsubscribed", Kind: KindStringList, Doc: "Exactly the sends dropped since the previous `expect` because the customer was unsubscribed from their topic, in order (only this journey's when `journey` is set)."},
				},
				Snippet: "expect {\n  journey = \"${1:name}\"\n  stage   = \"${2:stage}\"\n  sent    = [${3}]\n}",
			},
		},
		Snippet: "test \"${1:what it shows}\" {\n  start    = \"${2:2026-01-05T09:00:00Z}\"\n  customer = { id = \"${3:c-1}\" }\n\n  ${0}\n}",
	}},
}
