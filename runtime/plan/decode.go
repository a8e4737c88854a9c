package plan

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/waymark-dev/waymark/runtime/engine"
)

// decodeState decodes a stored customer state exactly as json.Unmarshal
// does (the reload reads states that way, and a plan must agree with it),
// in about a third of the time: reading states is most of a plan's work.
//
// The fast path walks the shape the engine writes (the customer, its
// instances, their waits) by hand and hands every other field (traits,
// held sends, entry properties, ...) to json.Unmarshal on the value's
// bytes alone. Anything it does not expect — an unknown or repeated key,
// a key in another case, null, an escaped string, a number that is not a
// plain integer — makes it give up, and the whole state is decoded by
// json.Unmarshal instead, which then gives its own result or error. So it
// only ever decodes, faster, what json.Unmarshal decodes to the same value
// (TestDecodeStateAgrees, FuzzDecodeState).
func decodeState(raw []byte) (*engine.Customer, error) {
	c, ok := fastState(raw)
	if ok {
		return c, nil
	}
	c = new(engine.Customer)
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, err
	}
	return c, nil
}

// fastState is decodeState's fast path; false: not decoded, use
// json.Unmarshal.
func fastState(raw []byte) (*engine.Customer, bool) {
	d := decoder{b: raw}
	c := new(engine.Customer)
	if !d.customer(c) {
		return nil, false
	}
	d.ws()
	return c, d.i == len(d.b)
}

type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte skips white space and consumes c if it comes next.
func (d *decoder) byte(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads {"key": value, ...}, calling field for each key with the
// decoder at its value; keys must be distinct (seen is a bit per key
// field reports, by its number).
func (d *decoder) object(field func(key []byte) (n int, ok bool)) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	var seen uint64
	for {
		key, ok := d.rawString()
		if !ok || !d.byte(':') {
			return false
		}
		d.ws()
		n, ok := field(key)
		if !ok || seen&(1<<n) != 0 {
			return false
		}
		seen |= 1 << n
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// array reads [value, ...], calling elem at each value.
func (d *decoder) array(elem func() bool) (empty, ok bool) {
	if !d.byte('[') {
		return false, false
	}
	if d.byte(']') {
		return true, true
	}
	for {
		d.ws()
		if !elem() {
			return false, false
		}
		if d.byte(']') {
			return false, true
		}
		if !d.byte(',') {
			return false, false
		}
	}
}

// rawString reads a string without escapes (json would unquote those) and
// returns its bytes, valid UTF-8 (json would replace what is not).
func (d *decoder) rawString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (d *decoder) str(s *string) bool {
	b, ok := d.rawString()
	*s = string(b)
	return ok
}

// int reads a plain integer literal (no fraction or exponent).
func (d *decoder) int(n *int) bool {
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || (d.b[digits] == '0' && d.i-digits > 1) {
		return false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return false
	}
	v, err := strconv.Atoi(string(d.b[start:d.i]))
	*n = v
	return err == nil
}

// time reads a string as json does for a time.Time: its UnmarshalJSON
// with the quoted bytes.
func (d *decoder) time(t *time.Time) bool {
	start := d.i
	if _, ok := d.rawString(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

// other hands the value at the decoder to json.Unmarshal into v: the
// fields the fast path does not walk. null is left to the slow path (json
// leaves some targets as they are on null, and sets others to nil).
func (d *decoder) other(v any) bool {
	start := d.i
	if !d.skip() || d.b[start] == 'n' {
		return false
	}
	return json.Unmarshal(d.b[start:d.i], v) == nil
}

// skip moves past one value without checking it (json.Unmarshal checks
// what other hands it): strings, nesting, and literals up to a delimiter.
func (d *decoder) skip() bool {
	depth := 0
	for d.i < len(d.b) {
		switch c := d.b[d.i]; c {
		case '"':
			for d.i++; d.i < len(d.b) && d.b[d.i] != '"'; d.i++ {
				if d.b[d.i] == '\\' {
					d.i++
				}
			}
			if d.i >= len(d.b) {
				return false
			}
			d.i++
		case '{', '[':
			depth++
			d.i++
		case '}', ']':
			if depth == 0 {
				return false
			}
			depth--
			d.i++
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return false
			}
			d.i++
		default:
			d.i++
			if depth == 0 {
				for d.i < len(d.b) && !isDelim(d.b[d.i]) {
					d.i++
				}
			}
		}
		if depth == 0 {
			return true
		}
	}
	return false
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r', ':', '"', '{', '[':
		return true
	}
	return false
}

func (d *decoder) customer(c *engine.Customer) bool {
	return d.object(func(key []byte) (int, bool) {
		switch string(key) {
		case "id":
			return 0, d.str(&c.ID)
		case "traits":
			return 1, d.other(&c.Traits)
		case "instances":
			empty, ok := d.array(func() bool {
				in := new(engine.Instance)
				c.Instances = append(c.Instances, in)
				return d.instance(in)
			})
			if empty {
				c.Instances = []*engine.Instance{}
			}
			return 2, ok
		case "held":
			return 3, d.other(&c.Held)
		case "sends":
			return 4, d.other(&c.Sends)
		case "seen":
			return 5, d.other(&c.Seen)
		case "merged":
			return 6, d.other(&c.Merged)
		case "subscriptions":
			return 7, d.other(&c.Subscriptions)
		}
		return 0, false
	})
}

func (d *decoder) instance(in *engine.Instance) bool {
	return d.object(func(key []byte) (int, bool) {
		switch string(key) {
		case "id":
			return 0, d.str(&in.ID)
		case "journey":
			return 1, d.str(&in.Journey)
		case "version":
			return 2, d.str(&in.Version)
		case "seq":
			return 3, d.int(&in.Seq)
		case "status":
			return 4, d.str(&in.Status)
		case "cause":
			return 5, d.str(&in.Cause)
		case "stage":
			return 6, d.str(&in.Stage)
		case "visit":
			return 7, d.int(&in.Visit)
		case "entered_at":
			return 8, d.time(&in.EnteredAt)
		case "stage_entered_at":
			return 9, d.time(&in.StageEnteredAt)
		case "ended_at":
			return 10, d.time(&in.EndedAt)
		case "entry_event":
			return 11, d.str(&in.EntryEvent)
		case "entry":
			return 12, d.other(&in.Entry)
		case "waits":
			empty, ok := d.array(func() bool {
				in.Waits = append(in.Waits, engine.Wait{})
				return d.wait(&in.Waits[len(in.Waits)-1])
			})
			if empty {
				in.Waits = []engine.Wait{}
			}
			return 13, ok
		}
		return 0, false
	})
}

func (d *decoder) wait(w *engine.Wait) bool {
	return d.object(func(key []byte) (int, bool) {
		switch string(key) {
		case "kind":
			return 0, d.str(&w.Kind)
		case "index":
			return 1, d.int(&w.Index)
		case "due":
			return 2, d.time(&w.Due)
		case "src":
			return 3, d.str(&w.Src)
		}
		return 0, false
	})
}
