package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// Customers for operators and for data-protection requests: listing and
// searching them (CustomerLister), what inputs each received
// (ReceivedHistory), and erasing one (Eraser). Each is an optional
// interface: the admin API answers 501 where a store lacks one.

// CustomerLister is implemented by stores that can list their customers in
// id order, filtered by id prefix and by a trait's value.
type CustomerLister interface {
	// ListCustomers returns the customers after q.After (exclusive), in id
	// order, that match q, at most q.Limit of them, having read at most
	// q.Scan customers when q.Scan > 0 (a trait search reads every
	// customer's state, so a request bounds its work). Next is the id to
	// pass as After for the rest: empty once everything was read (it may be
	// set at the very end too: the page after it is then empty).
	ListCustomers(ctx context.Context, q CustomerQuery) (CustomerPage, error)
}

// CustomerQuery selects customers: all of them, or those whose id starts
// with IDPrefix, and of those the ones whose trait Trait (when set) has the
// value Value as text (TraitText).
type CustomerQuery struct {
	After    string
	Limit    int
	Scan     int
	IDPrefix string
	Trait    string
	Value    string
}

// CustomerPage is a page of ListCustomers.
type CustomerPage struct {
	Customers []CustomerSummary `json:"customers"`
	Next      string            `json:"next,omitempty"`
	// Unreadable are the customers read for this page whose stored state
	// cannot be decoded (written by a version that did not yet refuse
	// what it cannot read back: a number beyond float64, nesting too
	// deep): the page goes on without them rather than failing for
	// everyone, and names them so they can be erased or repaired. A
	// trait search cannot tell whether they match: it names them all.
	Unreadable []UnreadableCustomer `json:"unreadable,omitempty"`
}

// UnreadableCustomer is a customer whose stored state cannot be decoded,
// and why (DecodeState's error: what is wrong and where, never a value).
type UnreadableCustomer struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// ErrUnreadable is wrapped by the errors of DecodeState, and so by a
// store's lookups of a customer whose stored state cannot be decoded:
// retrying will not help.
var ErrUnreadable = errors.New("the stored state cannot be decoded")

// DecodeState decodes a customer's stored state (an engine.Customer's
// JSON). Its error wraps ErrUnreadable and says what is wrong and where
// (a field, a byte offset), never the value found there: the state holds
// traits, which may be personal.
func DecodeState(state []byte) (*engine.Customer, error) {
	c := new(engine.Customer)
	err := json.Unmarshal(state, c)
	if err == nil {
		return c, nil
	}
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		kind, _, _ := strings.Cut(typ.Value, " ") // "number 1e400": the kind, not the value
		return nil, fmt.Errorf("%w: field %s: a %s that does not fit a %v (byte %d)", ErrUnreadable, typ.Field, kind, typ.Type, typ.Offset)
	case errors.As(err, &syn) && strings.Contains(syn.Error(), "exceeded max depth"):
		return nil, fmt.Errorf("%w: it nests too deep (byte %d)", ErrUnreadable, syn.Offset)
	case errors.As(err, &syn):
		return nil, fmt.Errorf("%w: not valid JSON (byte %d)", ErrUnreadable, syn.Offset)
	}
	// Another decoder's error may quote what it read: not shown.
	return nil, fmt.Errorf("%w: %T", ErrUnreadable, err)
}

// CustomerSummary is a customer as a list shows it.
type CustomerSummary struct {
	ID     string         `json:"id"`
	Traits map[string]any `json:"traits"`
	// Active are the customer's active instances, by journey.
	Active   []ActiveStage `json:"active"`
	NextWake time.Time     `json:"next_wake,omitzero"`
}

// ActiveStage is where an active instance is.
type ActiveStage struct {
	Journey string `json:"journey"`
	Stage   string `json:"stage"`
}

// Match reports whether c is selected by q's prefix and trait (not by
// After, Limit or Scan).
func (q CustomerQuery) Match(c *engine.Customer) bool {
	if !strings.HasPrefix(c.ID, q.IDPrefix) {
		return false
	}
	if q.Trait == "" {
		return true
	}
	v, ok := c.Traits[q.Trait]
	if !ok || v == nil {
		return false
	}
	s, ok := TraitText(v)
	return ok && s == q.Value
}

// TraitText is a trait's value as a search compares it: a string as it is,
// a number in its shortest decimal form (1, 2.5), a bool as true or false.
// Lists, objects and null have no text (ok is false).
func TraitText(v any) (s string, ok bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	}
	return "", false
}

// Summarize is c as a list shows it.
func Summarize(c *engine.Customer) CustomerSummary {
	s := CustomerSummary{ID: c.ID, Traits: c.Traits, Active: []ActiveStage{}, NextWake: c.NextWake()}
	if s.Traits == nil {
		s.Traits = map[string]any{}
	}
	for _, in := range c.Instances {
		if in != nil && in.Active() {
			s.Active = append(s.Active, ActiveStage{Journey: in.Journey, Stage: in.Stage})
		}
	}
	return s
}

// PrefixEnd is the smallest string greater than every string starting with
// prefix, or "" when there is none (an empty prefix, or one of 0xFF bytes
// only): the exclusive upper bound of a prefix scan.
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xFF {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return ""
	}
	b[len(b)-1]++
	return string(b)
}

// ReceivedHistory is implemented by stores that keep, per customer, the
// inputs received (CustomerWrite.Received), in the commit that handled
// them: "what did we get for this customer, and when".
type ReceivedHistory interface {
	// Received lists a customer's received inputs, oldest first.
	Received(ctx context.Context, customerID string) ([]Received, error)
}

// Received is one input a customer was stepped with: an event (Name is the
// event's name), a trait update, ... Timers are not inputs received.
type Received struct {
	Kind      string    `json:"kind"` // engine.Input.Kind: event, identify
	Name      string    `json:"name,omitempty"`
	MessageID string    `json:"message_id,omitempty"`
	At        time.Time `json:"at"` // when it was handled
	// Seq places the input among the records of the same commit for the
	// same customer (engine.Send.Seq, which the worker numbers across
	// the customer's whole write): after the records of the inputs and
	// timers handled before it, before the records it caused. 0 in
	// records written before it was kept.
	Seq int `json:"seq,omitempty"`
}

// Eraser is implemented by stores that can erase a customer, for
// data-protection requests. The worker calls Erase in its queue, between
// two commits (never during one), after every input submitted before the
// erase is committed and before any submitted after it is handled, so an
// erase cannot be undone by a commit prepared from the old state.
type Eraser interface {
	// Erase deletes, in one transaction, everything kept about the
	// customer: the state (traits, instances, held sends, cap counters,
	// message ids seen), its entries in the timer and active-instance
	// indexes, its history (transitions, send decisions, refusals, errors,
	// emitted events, received inputs), and its outbox items in every
	// state: pending and dead ones are cancelled (they are never delivered
	// after the erase) and delivered ones forgotten. Outbox items are found
	// by their key, which starts with the customer id and "/" (an engine
	// Send.Key starts with its instance id, which starts with the customer
	// id). Erasing an unknown customer erases nothing and is no error.
	// Ingest message ids are not the customer's: they stay, so a retried
	// input is still dropped.
	Erase(ctx context.Context, customerID string) (Erased, error)

	// Deliverable reports whether the outbox item under key is still
	// pending: the dispatcher asks just before an attempt, so that an item
	// it claimed before an erase is not delivered after it.
	Deliverable(ctx context.Context, key string) (bool, error)
}

// Erased counts what an Erase deleted.
type Erased struct {
	// Customer is whether the customer had a state.
	Customer bool `json:"customer"`
	// History counts the history records deleted (received inputs
	// included).
	History int64 `json:"history"`
	// Cancelled counts the pending and dead outbox items deleted: sends
	// that will never go out.
	Cancelled int64 `json:"cancelled"`
	// Outbox counts every outbox item deleted, delivered ones included.
	Outbox int64 `json:"outbox"`
}

// DedupKey is the form in which a message id is kept for ingest
// deduplication (SeenMessages, CustomerWrite.MessageIDs): "sha256:" and
// the id's SHA-256 in unpadded base64url. A client may put anything in a
// messageId, an email address included; the dedup table outlives an erase
// (a retried input of an erased customer must stay a duplicate), so it
// keeps only this hash, which tells nothing about the id and names no
// customer.
func DedupKey(messageID string) string {
	h := sha256.Sum256([]byte(messageID))
	return "sha256:" + base64.RawURLEncoding.EncodeToString(h[:])
}

// ListChunks runs q over a store that reads customers a chunk at a time,
// in id order: read calls row with the id and stored state (an
// engine.Customer's JSON) of at most n customers after the id `after`
// within q's prefix range, and ListChunks decodes them, matches them,
// bounds the page by q.Limit and the reading by q.Scan, and sets Next. A
// state that cannot be decoded is read (it counts for Scan and Next) and
// named in Unreadable, not an error.
func ListChunks(q CustomerQuery, chunk int, read func(after string, n int, row func(id string, state []byte) error) error) (CustomerPage, error) {
	var page CustomerPage
	after, total := q.After, 0
	for {
		n := chunk
		if q.Scan > 0 {
			n = min(n, q.Scan-total)
		}
		var got int
		var last string
		err := read(after, n, func(id string, state []byte) error {
			if len(page.Customers) == q.Limit {
				return nil // the page is full: the rest is the next page's
			}
			got, last = got+1, id
			c, err := DecodeState(state)
			if err != nil {
				page.Unreadable = append(page.Unreadable, UnreadableCustomer{ID: id, Error: err.Error()})
				return nil
			}
			if q.Match(c) {
				page.Customers = append(page.Customers, Summarize(c))
			}
			return nil
		})
		if err != nil {
			return CustomerPage{}, err
		}
		total += got
		switch {
		case len(page.Customers) == q.Limit:
			page.Next = last
			return page, nil
		case got < n:
			return page, nil // the end of the range
		case q.Scan > 0 && total >= q.Scan:
			page.Next = last
			return page, nil
		}
		after = last
	}
}
