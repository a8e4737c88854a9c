package compiler

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/suggest"
)

// scope says which variables an expression may use. It mirrors the table of
// variables in docs/guide.md: `event` only where an event is being handled,
// `entry` only inside a journey, env() only in channel settings.
type scope struct {
	where    string // for errors: "a send field", "a goal's when"
	customer bool
	event    bool
	eventOf  *event // the event's schema, nil when undeclared (permissive)
	entry    *journey
	now      bool
	unsub    bool // unsubscribe_url: in send fields
	env      bool

	ctx *hcl.EvalContext // set by evalContext on first use
}

// types checks every expression against the declared schemas.
func (c *checker) types() {
	for _, ch := range c.ws.Channels {
		if c.channels[ch.Name.Value] != ch {
			continue
		}
		sc := &scope{where: "a channel setting", env: true}
		for _, s := range ch.Settings {
			if s.Name == "timeout" {
				continue
			}
			want := cty.String
			if s.Name == "starttls" {
				want = cty.Bool
			}
			c.expectType(s.Expr, c.checkExpr(s.Expr, sc), want, "`"+s.Name+"`")
		}
	}
	for _, j := range c.ws.Journeys {
		jr := c.journeys[j.Name.Value]
		if jr == nil || jr.decl != j {
			continue
		}
		for _, t := range j.Entries {
			c.condition(t.When, &scope{where: "an entry's when", customer: true, event: true, eventOf: c.events[t.Event.Value], now: true})
		}
		for _, group := range [][]*lang.Trigger{j.Goals, j.Exits} {
			for _, t := range group {
				if t.When == nil {
					continue
				}
				c.condition(t.When, &scope{where: "a " + t.Type + "'s when", customer: true, event: true, eventOf: c.events[t.Event.Value], entry: jr, now: true})
			}
		}
		for _, s := range j.Stages {
			c.stageTypes(jr, s)
		}
	}
}

func (c *checker) stageTypes(jr *journey, s *lang.Stage) {
	act := &scope{where: "a stage", customer: true, entry: jr, now: true}
	sendSc := &scope{where: "a send field", customer: true, entry: jr, now: true, unsub: true}
	for _, a := range s.Actions {
		switch a := a.(type) {
		case *lang.Send:
			c.sendTypes(a, sendSc)
		case *lang.Update:
			c.updateTypes(a, act)
		case *lang.Emit:
			c.emitTypes(a, act)
		}
	}
	for _, b := range s.Branches {
		c.condition(b.When, act)
	}
	for _, on := range s.Ons {
		c.condition(on.When, &scope{where: "an on's when", customer: true, event: true, eventOf: c.events[on.Event.Value], entry: jr, now: true})
	}
	for _, at := range s.Ats {
		if at.Time != nil {
			c.expectType(at.Time.Expr, c.checkExpr(at.Time.Expr, act), cty.String, "`time`")
		}
	}
}

// condition checks a `when`: it must be a bool, with no conversion from
// strings, so that `when = "false"` is not silently true.
func (c *checker) condition(a *lang.Attr, sc *scope) {
	if a == nil {
		return
	}
	t := c.checkExpr(a.Expr, sc)
	if t == cty.DynamicPseudoType || t == cty.Bool {
		return
	}
	c.errorf(a.Expr.Range(), "Condition is not a bool",
		"`when` must be true or false, but this is a %s. Compare it to something, e.g. `event.category == \"phone\"`.", typeName(t))
}

func (c *checker) sendTypes(s *lang.Send, sc *scope) {
	typ := c.sendChannelType(s)
	sendSchema := lang.Schema.Block("journey").Block("stage").Block("send")
	for _, f := range s.Fields {
		as := sendSchema.Attr(f.Name)
		if typ != "" && as != nil && len(as.ChannelTypes) > 0 && !contains(as.ChannelTypes, typ) {
			c.errorf(f.NameRange, "Field not taken by this channel type",
				"Sends through %s %s channel do not take `%s`. %s", article(typ), typ, f.Name, sendFieldsDoc(typ))
			continue
		}
		t := c.checkExpr(f.Expr, sc)
		switch f.Name {
		case "to", "subject", "body", "html", "reply_to":
			c.expectType(f.Expr, t, cty.String, "`"+f.Name+"`")
		case "headers":
			c.expectType(f.Expr, t, cty.Map(cty.String), "`headers`")
			c.reservedHeaders(f)
		}
	}
	switch typ {
	case lang.ChannelSMTP:
		for _, need := range []string{"to", "subject"} {
			if s.Field(need) == nil {
				c.errorf(s.DefRange, "Missing send field", "A send through an smtp channel needs `%s`. %s", need, sendFieldsDoc(typ))
			}
		}
		if s.Field("body") == nil && s.Field("html") == nil {
			c.errorf(s.DefRange, "Missing send field", "A send through an smtp channel needs `body` or `html`. %s", sendFieldsDoc(typ))
		}
	case lang.ChannelTwilio:
		for _, need := range []string{"to", "body"} {
			if s.Field(need) == nil {
				c.errorf(s.DefRange, "Missing send field", "A send through a twilio channel needs `%s`. %s", need, sendFieldsDoc(typ))
			}
		}
	case lang.ChannelWebhook, lang.ChannelLog:
		if s.Field("data") == nil {
			c.errorf(s.DefRange, "Missing send field", "A send through %s %s channel needs `data`, the JSON payload. %s", article(typ), typ, sendFieldsDoc(typ))
		}
	}
}

// reservedHeaders refuses, at the key, a header the webhook channel sets
// itself: it passed before and every such send went to the dead letters.
func (c *checker) reservedHeaders(f *lang.Attr) {
	obj, ok := f.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return
	}
	for _, item := range obj.Items {
		name, ok := objectKey(item.KeyExpr)
		if !ok || !lang.ReservedWebhookHeader(name) {
			continue
		}
		c.errorf(item.KeyExpr.Range(), "Reserved webhook header",
			"%q is set on every webhook request by Waymark (Content-Type, Idempotency-Key, X-Waymark-*) or by HTTP itself, and a send cannot replace it: the request would be refused at delivery. Remove it, or use a header name of your own.", name)
	}
}

// sendChannelType is the type of the channel a send names, "" when it
// names none that is known.
func (c *checker) sendChannelType(s *lang.Send) string {
	if s.Channel != nil {
		if ref, ok := lang.AsReference(s.Channel.Expr); ok && ref.Kind == "channel" {
			return c.channelTypes[ref.Name]
		}
	}
	return ""
}

func sendFieldsDoc(typ string) string {
	switch typ {
	case lang.ChannelSMTP:
		return "smtp sends take `to`, `subject`, `body`, and optionally `html` and `reply_to`."
	case lang.ChannelWebhook:
		return "webhook sends take `data` and optionally `headers`."
	case lang.ChannelTwilio:
		return "twilio sends take `to` and `body`."
	}
	return "log sends take `data`."
}

func (c *checker) updateTypes(u *lang.Update, sc *scope) {
	for _, a := range u.Traits {
		t := c.checkExpr(a.Expr, sc)
		if a.Name == "id" {
			c.errorf(a.NameRange, "Cannot update id", "A customer's `id` identifies them and never changes.")
			continue
		}
		if !c.customerDeclared {
			continue
		}
		f := c.traits[a.Name]
		if f == nil {
			c.errorf(a.NameRange, "Unknown trait", "The customer schema declares no trait named %q.%s",
				a.Name, suggest.Hint(a.Name, c.traitNames(), "Traits declared: "))
			continue
		}
		c.ref(f.sym, a.NameRange, false)
		c.expectType(a.Expr, t, f.typ, fmt.Sprintf("trait %q", a.Name))
	}
}

func (c *checker) emitTypes(e *lang.Emit, sc *scope) {
	if e.Properties == nil {
		return
	}
	t := c.checkExpr(e.Properties.Expr, sc)
	obj, isObj := e.Properties.Expr.(*hclsyntax.ObjectConsExpr)
	if !isObj {
		if t != cty.DynamicPseudoType && !t.IsObjectType() && !t.IsMapType() {
			c.errorf(e.Properties.Expr.Range(), "Properties must be an object", "Write `properties = { name = value }`.")
		}
		return
	}
	ev := c.events[e.Event.Value]
	if ev == nil || len(ev.props) == 0 {
		return
	}
	for _, item := range obj.Items {
		key, ok := objectKey(item.KeyExpr)
		if !ok {
			continue
		}
		p := ev.props[key]
		if p == nil {
			c.errorf(item.KeyExpr.Range(), "Unknown event property", "Event %q declares no property %q.%s",
				ev.decl.Name.Value, key, suggest.Hint(key, fieldNames(ev.order), "Its properties: "))
			continue
		}
		c.ref(p.sym, item.KeyExpr.Range(), false)
		c.expectType(item.ValueExpr, c.checkExpr(item.ValueExpr, sc), p.typ, fmt.Sprintf("property %q", key))
	}
}

// objectKey reads the key of an object item written as a bare name or a string.
func objectKey(e hclsyntax.Expression) (string, bool) {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if name := hcl.ExprAsKeyword(k.Wrapped); name != "" {
			return name, true
		}
		return lang.StaticString(k.Wrapped)
	}
	return "", false
}

// expectType reports a value whose type cannot become want.
func (c *checker) expectType(e hclsyntax.Expression, got, want cty.Type, what string) {
	if got == cty.DynamicPseudoType || want == cty.DynamicPseudoType || got.Equals(want) {
		return
	}
	if conv := convert.GetConversion(got, want); conv != nil {
		return
	}
	c.errorf(e.Range(), "Wrong type", "%s must be a %s, but this is a %s.", upperFirst(what), typeName(want), typeName(got))
}

// checkExpr checks the names an expression uses against sc and the
// schemas, then finds its type: from the syntax when infer can, else by
// evaluating it with unknown values. It returns cty.DynamicPseudoType when
// the type cannot be known.
func (c *checker) checkExpr(e hclsyntax.Expression, sc *scope) cty.Type {
	return c.checkExprDepth(e, sc, 0)
}

func (c *checker) checkExprDepth(e hclsyntax.Expression, sc *scope, depth int) cty.Type {
	// The variables and calls go on c.travs and c.calls above what the
	// caller has there (a template() call checks its template from inside
	// this loop), and come off again before returning.
	ts, cs := len(c.travs), len(c.calls)
	defer func() { c.travs, c.calls = c.travs[:ts], c.calls[:cs] }()
	if !c.collect(e) {
		c.travs = append(c.travs, e.Variables()...)
		hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, isCall := n.(*hclsyntax.FunctionCallExpr); isCall {
				c.calls = append(c.calls, call)
			}
			return nil
		})
	}
	te, ce := len(c.travs), len(c.calls)
	looped := templatesInForBodies(e)
	ok := true
	for i := ts; i < te; i++ {
		ok = c.checkTraversal(c.travs[i], sc) && ok
	}
	for i := cs; i < ce; i++ {
		call := c.calls[i]
		switch call.Name {
		case "env":
			if !sc.env {
				c.errorf(call.NameRange, "env() outside channel settings",
					"env() reads the environment when `waymark run` sets up a channel, so it is allowed only in channel settings, not in %s.", sc.where)
				ok = false
			}
		case "template":
			if !c.checkTemplateCall(call, sc, depth, looped[call]) {
				ok = false
			}
		}
	}
	if c.inferHook != nil {
		c.inferHook(e, c.evalContext(sc))
	}
	if !ok {
		return cty.DynamicPseudoType
	}
	ctx := c.evalContext(sc)
	if t, ok := infer(e, ctx); ok {
		return t.typ
	}
	v, diags := e.Value(ctx)
	c.addDiags(diags)
	if diags.HasErrors() {
		return cty.DynamicPseudoType
	}
	return v.Type()
}

// templatesInForBodies returns the template() calls of e inside a for
// expression's value, key or condition: each runs once per element.
func templatesInForBodies(e hclsyntax.Expression) map[*hclsyntax.FunctionCallExpr]bool {
	var in map[*hclsyntax.FunctionCallExpr]bool
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		f, ok := n.(*hclsyntax.ForExpr)
		if !ok {
			return nil
		}
		for _, body := range lang.ForBodies(f) {
			hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
				if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "template" {
					if in == nil {
						in = map[*hclsyntax.FunctionCallExpr]bool{}
					}
					in[call] = true
				}
				return nil
			})
		}
		return nil
	})
	return in
}

// checkTemplateCall checks template("path"): the file exists, parses as a
// template, and uses only names in scope. Its content goes into the IR.
// inFor says the call is in a for expression's body: the template may then
// not loop itself (lang refuses nested for expressions within one source;
// this is the same rule across template files).
func (c *checker) checkTemplateCall(call *hclsyntax.FunctionCallExpr, sc *scope, depth int, inFor bool) bool {
	if len(call.Args) != 1 {
		return true // evaluation reports the arity
	}
	path, static := lang.StaticString(call.Args[0])
	if !static {
		c.errorf(call.Args[0].Range(), "Template path must be a string literal",
			"The compiler reads every template into the IR, so its path must be written out, e.g. `template(\"templates/welcome.txt\")`.")
		return false
	}
	if depth > 4 {
		c.errorf(call.Range(), "Templates nested too deep", "Template %q is reached through more than 4 template() calls; is one including itself?", path)
		return false
	}
	if !filepath.IsLocal(filepath.FromSlash(path)) {
		// Whatever reads the file: a path that leaves the workspace would
		// put a file of the host into the IR.
		err := &lang.FileError{Path: path, Reason: lang.ErrOutsideWorkspace}
		c.errorf(call.Args[0].Range(), err.Summary(), "%v.", err)
		return false
	}
	content, err := c.opts.ReadFile(path)
	var refused *lang.FileError
	switch {
	case errors.As(err, &refused):
		c.errorf(call.Args[0].Range(), refused.Summary(), "%v.", refused)
		return false
	case err != nil:
		c.errorf(call.Args[0].Range(), "Template file not found",
			"Cannot read %q (paths are relative to the workspace root): %v.", path, unwrapPathError(err))
		return false
	}
	key := templateKey{path, scopeKey{sc.customer, sc.event, sc.eventOf, sc.entry, sc.now, sc.unsub}, sc.env}
	done, seen := c.checkedTemplates[key]
	if !seen {
		done = c.checkTemplate(path, content, sc, depth)
		c.checkedTemplates[key] = done
	}
	if !done.ok {
		return false
	}
	if inFor && done.loops {
		c.errorf(call.Range(), "Nested for expressions",
			"Template %q has a %%{ for } directive (itself or in a template it includes) and this template() call is inside a for expression, so the work multiplies. Iterate once, over a flat list: loop in the template over the whole list, or flatten() the collection first.", path)
		return false
	}
	if depth == 0 && (done.bytes > MaxTemplateBytes || done.includes > MaxTemplateIncludes) {
		c.errorf(call.Args[0].Range(), "Template expands too much",
			"Template %q renders up to %s through %d template() calls; the limits are %s and %d calls, so that one send cannot take seconds and megabytes. Include templates fewer times, or make them smaller.",
			path, lang.FormatBytes(done.bytes), done.includes, lang.FormatBytes(MaxTemplateBytes), MaxTemplateIncludes)
		return false
	}
	return true
}

// Limits on what one template() call may expand to, counting the
// templates it includes, and theirs. Checked at compile time from the
// templates' sizes (their literal text; interpolated values come on top,
// and the engine bounds those at run time). Documented in docs/operations.md.
const (
	MaxTemplateBytes    = 1 << 20
	MaxTemplateIncludes = 100
)

type templateKey struct {
	path  string
	scope scopeKey
	env   bool
}

// templateCheck is what checking a template found: whether it is good, and
// how far it expands: its size with the sizes of the templates it
// includes (saturating), and how many template() calls that takes.
type templateCheck struct {
	ok              bool
	bytes, includes int64
	loops           bool // it, or a template it includes, has a for
}

// checkTemplate parses and checks one template's content in a scope and
// measures its expansion from the checks of the templates it calls (done
// first, from inside checkExprDepth).
func (c *checker) checkTemplate(path string, content []byte, sc *scope, depth int) templateCheck {
	if _, read := c.templates[path]; !read {
		c.templateBytes += len(content)
		if c.templateBytes > lang.MaxWorkspaceBytes-c.sourceBytes() {
			c.errorf(hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos}, "Workspace too large",
				"The workspace's files and templates together pass %s, the limit of a workspace, at template %q. Split the workspace.",
				lang.FormatBytes(lang.MaxWorkspaceBytes), path)
			return templateCheck{}
		}
	}
	tmpl, diags := lang.ParseTemplate(content, path, hcl.InitialPos)
	if diags.HasErrors() {
		c.addDiags(diags)
		return templateCheck{}
	}
	c.templates[path] = string(content)
	if c.checkExprDepth(tmpl, sc, depth+1) == cty.NilType {
		return templateCheck{}
	}
	out := templateCheck{ok: true, bytes: int64(len(content))}
	key := templateKey{scope: scopeKey{sc.customer, sc.event, sc.eventOf, sc.entry, sc.now, sc.unsub}, env: sc.env}
	hclsyntax.VisitAll(tmpl, func(n hclsyntax.Node) hcl.Diagnostics {
		if _, isFor := n.(*hclsyntax.ForExpr); isFor {
			out.loops = true
		}
		call, isCall := n.(*hclsyntax.FunctionCallExpr)
		if !isCall || call.Name != "template" || len(call.Args) != 1 {
			return nil
		}
		key.path, _ = lang.StaticString(call.Args[0])
		inner := c.checkedTemplates[key]
		out.loops = out.loops || inner.loops
		out.bytes = min(out.bytes+inner.bytes, math.MaxInt64/2)
		out.includes = min(out.includes+1+inner.includes, math.MaxInt64/2)
		return nil
	})
	return out
}

// sourceBytes is the size of the workspace's files.
func (c *checker) sourceBytes() int {
	n := 0
	for _, f := range c.ws.Files {
		n += len(f.Src)
	}
	return n
}

// checkTraversal checks one variable use like customer.email. The list of
// declared names and the wording for an error are built only for an error.
func (c *checker) checkTraversal(tr hcl.Traversal, sc *scope) bool {
	root := tr.RootName()
	var fields map[string]*field
	var kind string
	switch root {
	case "customer":
		if !sc.customer {
			return c.notInScope(tr, sc, "`customer` is not available in "+sc.where+".")
		}
		if !c.customerDeclared {
			return true
		}
		fields, kind = c.traitsWithID(), "trait"
	case "event":
		if !sc.event {
			return c.notInScope(tr, sc, "`event` is the event being handled, available in entry, goal, exit and on and their `when`; in "+
				sc.where+" use `entry.NAME` for the event that admitted the customer.")
		}
		if sc.eventOf == nil {
			return true
		}
		fields, kind = sc.eventOf.props, "property"
	case "entry":
		if sc.entry == nil {
			return c.notInScope(tr, sc, "`entry` is the event that admitted the customer; an entry's own `when` uses `event`.")
		}
		var known bool
		fields, _, known = c.entryFields(sc.entry)
		if !known {
			return true
		}
		kind = "property"
	case "now":
		if !sc.now {
			return c.notInScope(tr, sc, "`now` is not available in "+sc.where+".")
		}
		return true
	case "unsubscribe_url":
		if !sc.unsub {
			return c.notInScope(tr, sc, "`unsubscribe_url` is the customer's unsubscribe link, available in send fields (and the templates they call), not in "+sc.where+".")
		}
		return true
	case "stage", "channel", "policy", "journey", "end":
		c.errorf(tr.SourceRange(), "Reference used as a value",
			"`%s` names something for the compiler; it has no value. Only `goto`, a send's `channel`, a journey's `policy` and `suppressed_by` take such references.", root)
		return false
	default:
		var inScope []string
		for _, n := range []struct {
			name string
			ok   bool
		}{{"customer", sc.customer}, {"event", sc.event}, {"entry", sc.entry != nil}, {"now", sc.now}, {"unsubscribe_url", sc.unsub}} {
			if n.ok {
				inScope = append(inScope, n.name)
			}
		}
		detail := fmt.Sprintf("There is no variable named %q.", root)
		if len(inScope) == 0 {
			detail += " No variables are available in " + sc.where + "."
		} else {
			detail += suggest.Hint(root, inScope, "Variables here: ")
		}
		c.errorf(tr.SourceRange(), "Unknown variable", "%s", detail)
		return false
	}
	if len(tr) < 2 {
		return true // the whole object, e.g. jsonencode(customer)
	}
	name, r, ok := stepName(tr[1])
	if !ok {
		return true
	}
	f := fields[name]
	if f == nil {
		var names []string
		var owner string
		switch root {
		case "customer":
			names, owner = append([]string{"id"}, c.traitNames()...), "The customer schema declares"
		case "event":
			names, owner = fieldNames(sc.eventOf.order), fmt.Sprintf("Event %q declares", sc.eventOf.decl.Name.Value)
		case "entry":
			_, names, _ = c.entryFields(sc.entry)
			owner = fmt.Sprintf("The entry events of journey %q declare", sc.entry.decl.Name.Value)
		}
		c.errorf(r, "Unknown "+kind, "%s no %s named %q.%s", owner, kind, name,
			suggest.Hint(name, names, "Declared: "))
		return false
	}
	if f.sym != nil {
		c.ref(f.sym, r, false)
	}
	return true
}

func (c *checker) notInScope(tr hcl.Traversal, sc *scope, detail string) bool {
	c.errorf(tr.SourceRange(), "Variable not available here", "%s", detail)
	return false
}

// stepName reads the second step of a traversal: .name or ["name"].
func stepName(t hcl.Traverser) (string, hcl.Range, bool) {
	switch s := t.(type) {
	case hcl.TraverseAttr:
		r := s.SrcRange
		if r.End.Byte-r.Start.Byte == len(s.Name)+1 { // the range includes the dot
			r.Start.Byte++
			r.Start.Column++
		}
		return s.Name, r, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString(), s.SrcRange, true
		}
	}
	return "", hcl.Range{}, false
}

// traitsWithID is the customer's fields: the declared traits and id. It
// is built once, on first use after resolve has declared every trait, and
// must not be changed.
func (c *checker) traitsWithID() map[string]*field {
	if c.traitsID != nil {
		return c.traitsID
	}
	m := make(map[string]*field, len(c.traits)+1)
	for k, v := range c.traits {
		m[k] = v
	}
	m["id"] = &field{typ: cty.String}
	c.traitsID = m
	return m
}

func (c *checker) traitNames() []string { return fieldNames(c.traitOrder) }

func fieldNames(fs []*field) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.decl.Name.Value
	}
	return names
}

// entryFields is the union of the properties of a journey's entry events.
// known is false when an entry event has no declared schema.
// They are worked out once per journey; the results must not be changed.
func (c *checker) entryFields(jr *journey) (fields map[string]*field, names []string, known bool) {
	if ef, ok := c.entries[jr]; ok {
		return ef.fields, ef.names, ef.known
	}
	fields, names, known = c.newEntryFields(jr)
	c.entries[jr] = entryFields{fields, names, known}
	return fields, names, known
}

type entryFields struct {
	fields map[string]*field
	names  []string
	known  bool
}

func (c *checker) newEntryFields(jr *journey) (fields map[string]*field, names []string, known bool) {
	if len(jr.decl.Entries) == 0 {
		return nil, nil, false
	}
	fields = map[string]*field{}
	for _, t := range jr.decl.Entries {
		ev := c.events[t.Event.Value]
		if ev == nil {
			return nil, nil, false
		}
		for _, p := range ev.order {
			if prev := fields[p.decl.Name.Value]; prev != nil {
				if !prev.typ.Equals(p.typ) {
					fields[p.decl.Name.Value] = &field{decl: prev.decl, typ: cty.DynamicPseudoType, sym: prev.sym}
				}
				continue
			}
			fields[p.decl.Name.Value] = p
			names = append(names, p.decl.Name.Value)
		}
	}
	return fields, names, true
}

// evalContext gives each variable in scope an unknown value of its declared
// type, so evaluation yields the expression's type without any data.
func (c *checker) evalContext(sc *scope) *hcl.EvalContext {
	if sc.ctx != nil {
		return sc.ctx
	}
	sc.ctx = c.sharedEvalContext(sc)
	return sc.ctx
}

// sharedEvalContext gives scopes that see the same variables one context.
func (c *checker) sharedEvalContext(sc *scope) *hcl.EvalContext {
	key := scopeKey{sc.customer, sc.event, sc.eventOf, sc.entry, sc.now, sc.unsub}
	if ctx, ok := c.contexts[key]; ok {
		return ctx
	}
	ctx := c.newEvalContext(sc)
	c.contexts[key] = ctx
	return ctx
}

// scopeKey is what an evaluation context depends on.
type scopeKey struct {
	customer, event bool
	eventOf         *event
	entry           *journey
	now, unsub      bool
}

func (c *checker) newEvalContext(sc *scope) *hcl.EvalContext {
	vars := make(map[string]cty.Value, 4)
	if sc.customer {
		if c.customerVal == cty.NilVal {
			c.customerVal = c.objectOf(c.customerDeclared, c.traitsWithID())
		}
		vars["customer"] = c.customerVal
	}
	if sc.event {
		if sc.eventOf != nil {
			v, ok := c.eventVals[sc.eventOf]
			if !ok {
				v = c.objectOf(true, sc.eventOf.props)
				c.eventVals[sc.eventOf] = v
			}
			vars["event"] = v
		} else {
			vars["event"] = cty.DynamicVal
		}
	}
	if sc.entry != nil {
		fields, _, known := c.entryFields(sc.entry)
		vars["entry"] = c.objectOf(known, fields)
	}
	if sc.now {
		vars["now"] = cty.UnknownVal(cty.String)
	}
	if sc.unsub {
		vars["unsubscribe_url"] = cty.UnknownVal(cty.String)
	}
	return &hcl.EvalContext{Variables: vars, Functions: c.funcs}
}

func (c *checker) objectOf(known bool, fields map[string]*field) cty.Value {
	if !known {
		return cty.DynamicVal
	}
	types := make(map[string]cty.Type, len(fields))
	for k, f := range fields {
		types[k] = f.typ
	}
	return cty.UnknownVal(cty.Object(types))
}

func typeName(t cty.Type) string {
	if t == cty.DynamicPseudoType {
		return "any value"
	}
	return t.FriendlyName()
}
