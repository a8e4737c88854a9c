package pebble

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
)

// Values are small binary records, each starting with a format byte, so a
// later binary can tell old records from new ones. Strings are
// uvarint-length-prefixed; times are varint microseconds.

var errRecord = errors.New("malformed record")

type dec struct {
	b   []byte
	err error
}

func (d *dec) byte1() byte {
	if d.err != nil || len(d.b) < 1 {
		d.err = errRecord
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string {
	n := d.uvarint()
	if d.err != nil || uint64(len(d.b)) < n {
		d.err = errRecord
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// activeInst is one active instance of a customer: what a/ keys index.
type activeInst struct{ id, journey, version, stage string }

// custRec is the value under c/<id>: besides the state, what the next
// commit of the customer must know to update the indexes without decoding
// the state: the wake it is filed under in w/, and the active instances it
// is filed under in a/ (compared as a whole, so an unchanged set costs no
// write).
type custRec struct {
	hasWake bool
	wake    int64
	active  []activeInst // sorted by id
	state   []byte       // engine.Customer as JSON
}

const custFormat = 1

func (r *custRec) encode() []byte {
	n := 16 + len(r.state)
	for _, a := range r.active {
		n += 4 + len(a.id) + len(a.journey) + len(a.version) + len(a.stage)
	}
	b := make([]byte, 0, n)
	b = append(b, custFormat)
	if r.hasWake {
		b = append(b, 1)
		b = binary.AppendVarint(b, r.wake)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.active)))
	for _, a := range r.active {
		b = appendString(b, a.id)
		b = appendString(b, a.journey)
		b = appendString(b, a.version)
		b = appendString(b, a.stage)
	}
	return append(b, r.state...)
}

// decodeCust decodes v; with header only, the state is left out (and
// v may be reused by the caller).
func decodeCust(v []byte, headerOnly bool) (custRec, error) {
	d := dec{b: v}
	var r custRec
	if d.byte1() != custFormat {
		return r, errRecord
	}
	if r.hasWake = d.byte1() == 1; r.hasWake {
		r.wake = d.varint()
	}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		return r, errRecord
	}
	for range n {
		r.active = append(r.active, activeInst{id: d.str(), journey: d.str(), version: d.str(), stage: d.str()})
	}
	if d.err != nil {
		return r, d.err
	}
	if !headerOnly {
		r.state = d.b
	}
	return r, nil
}

func sameActive(a, b []activeInst) bool { return slices.Equal(a, b) }

// Delivery states of an outbox record.
const (
	statePending   byte = 'p'
	stateDelivered byte = 'd'
	stateDead      byte = 'x'
)

// outRec is the value under o/<key>. The send itself is stored once, in the
// history: the record points at it (customer, seq). A pending record is
// also filed in od/ under next, which a claim moves to the end of the
// lease.
type outRec struct {
	state     byte
	attempt   int
	next      int64 // next attempt (pending)
	settledAt int64 // delivered or dead at
	lastError string
	customer  string
	seq       uint64

	// What settling the item moves in the send_delivery tally (format 2):
	// its send's journey, name and cohort. An item of format 1 written
	// before schema 6, one the upgrade could not place, or one whose send
	// has no entry time (tally.Of counted it nowhere) has no cohort and
	// moves nothing.
	journey, name string
	hasCohort     bool
	cohort        int64
}

// Formats of outRec: 1 without the tally fields, 2 with them.
const (
	outFormat1 = 1
	outFormat  = 2
)

func (r *outRec) encode() []byte {
	b := make([]byte, 0, 32+len(r.lastError)+len(r.customer))
	b = append(b, outFormat, r.state)
	b = binary.AppendUvarint(b, uint64(r.attempt))
	b = binary.AppendVarint(b, r.next)
	b = binary.AppendVarint(b, r.settledAt)
	b = appendString(b, r.lastError)
	b = appendString(b, r.customer)
	b = binary.AppendUvarint(b, r.seq)
	b = appendString(b, r.journey)
	b = appendString(b, r.name)
	if !r.hasCohort {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), r.cohort)
}

func decodeOut(v []byte) (outRec, error) {
	d := dec{b: v}
	var r outRec
	f := d.byte1()
	if f != outFormat1 && f != outFormat {
		return r, errRecord
	}
	r.state = d.byte1()
	r.attempt = int(d.uvarint())
	r.next = d.varint()
	r.settledAt = d.varint()
	r.lastError = d.str()
	r.customer = d.str()
	r.seq = d.uvarint()
	if f == outFormat {
		r.journey = d.str()
		r.name = d.str()
		if r.hasCohort = d.byte1() == 1; r.hasCohort {
			r.cohort = d.varint()
		}
	}
	if d.err == nil && len(d.b) > 0 {
		return r, errRecord
	}
	return r, d.err
}

// tallyVal is the value under t/: format byte, N (varint), Sum (float64
// bits, big-endian).
const tallyFormat = 1

func encodeTally(n int64, sum float64) []byte {
	b := binary.AppendVarint([]byte{tallyFormat}, n)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(sum))
}

func decodeTally(v []byte) (n int64, sum float64, err error) {
	d := dec{b: v}
	if d.byte1() != tallyFormat {
		return 0, 0, errRecord
	}
	n = d.varint()
	if d.err != nil || len(d.b) != 8 {
		return 0, 0, errRecord
	}
	return n, math.Float64frombits(binary.BigEndian.Uint64(d.b)), nil
}

// histIndex is the value under ht/: the history records one commit wrote,
// each as its customer and sequence number (its h/ key), and for a send to
// deliver the outbox key whose item it may be the send of.
type histIndex []histRef

type histRef struct {
	customer string
	seq      uint64
	outbox   string
}

const histIndexFormat = 1

func (x histIndex) encode() []byte {
	b := []byte{histIndexFormat}
	for _, r := range x {
		b = appendString(b, r.customer)
		b = binary.AppendUvarint(b, r.seq)
		b = appendString(b, r.outbox)
	}
	return b
}

func decodeHistIndex(v []byte) (histIndex, error) {
	d := dec{b: v}
	if d.byte1() != histIndexFormat {
		return nil, errRecord
	}
	var x histIndex
	for d.err == nil && len(d.b) > 0 {
		x = append(x, histRef{customer: d.str(), seq: d.uvarint(), outbox: d.str()})
	}
	return x, d.err
}
