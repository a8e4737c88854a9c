package pebble

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// Key prefixes: one per kind of record (see doc.go for the layout). Each
// ends in '/', so no prefix is a prefix of another's keys.
var (
	pMeta     = []byte("meta/") // meta/schema, meta/seq
	pCustomer = []byte("c/")    // c/<id>
	pWake     = []byte("w/")    // w/<wake><id>
	pActive   = []byte("a/")    // a/<journey><version><stage><customer><instance>
	pActCust  = []byte("ac/")   // ac/<customer>
	pHistory  = []byte("h/")    // h/<customer><seq>
	pOutbox   = []byte("o/")    // o/<key>
	pOutDue   = []byte("od/")   // od/<next attempt><key>
	pDead     = []byte("d/")    // d/<key>: the dead-letter queue (schema 2)
	pHistTime = []byte("ht/")   // ht/<latest record time><first seq>: one commit's history records (schema 3)
	pDelivAt  = []byte("dv/")   // dv/<delivered at><key>: delivered outbox items (schema 3)
	pFailed   = []byte("fs/")   // fs/<at><seq>: failed sends, the customer as value (schema 4)
	pMessage  = []byte("m/")    // m/<id>
	pMsgTime  = []byte("mt/")   // mt/<at><id>
	pProgram  = []byte("p/")    // p/<hash>
	pJourney  = []byte("jr/")   // jr/<journey><seq>: one journey's records, the customer as value (schema 5)
	pTally    = []byte("t/")    // t/<journey><cohort><kind><a><b>: an analytics tally (schema 6)

	kSchema = []byte("meta/schema")
	kSeq    = []byte("meta/seq")
)

// Components of a key:
//   - a string followed by more components is escaped and terminated
//     (appendStr), so that keys sort as their strings do, component by
//     component, whatever bytes a string holds;
//   - the last component, a string, is raw: nothing follows it;
//   - a time is unix microseconds, big-endian with the sign bit flipped
//     (appendTime), so that keys sort in time order, before 1970 too;
//   - a history sequence number is a plain big-endian uint64.

func mk(prefix []byte, n int) []byte {
	return append(make([]byte, 0, len(prefix)+n), prefix...)
}

// appendStr appends s with 0x00 escaped as 0x00 0xFF, then the terminator
// 0x00 0x01: order-preserving, and no escaped string is a prefix of another.
func appendStr(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = append(b, s[i])
		if s[i] == 0 {
			b = append(b, 0xFF)
		}
	}
	return append(b, 0, 1)
}

var errKey = errors.New("malformed key")

// readStr reads a string appended by appendStr.
func readStr(b []byte) (string, []byte, error) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if i+1 >= len(b) {
			return "", nil, errKey
		}
		switch b[i+1] {
		case 1:
			if out == nil {
				return string(b[:i]), b[i+2:], nil
			}
			return string(append(out, b[:i]...)), b[i+2:], nil
		case 0xFF:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, errKey
		}
	}
	return "", nil, errKey
}

func appendTime(b []byte, micros int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(micros)^(1<<63))
}

func readTime(b []byte) (int64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, errKey
	}
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), b[8:], nil
}

// upper is the smallest key greater than every key starting with prefix
// (no prefix here ends in 0xFF).
func upper(prefix []byte) []byte {
	u := append([]byte(nil), prefix...)
	u[len(u)-1]++
	return u
}

func customerKey(id string) []byte { return append(mk(pCustomer, len(id)), id...) }

func wakeKey(at int64, id string) []byte {
	return append(appendTime(mk(pWake, 8+len(id)), at), id...)
}

func activeKey(a activeInst, customer string) []byte {
	b := mk(pActive, len(a.journey)+len(a.version)+len(a.stage)+len(customer)+len(a.id)+8)
	b = appendStr(b, a.journey)
	b = appendStr(b, a.version)
	b = appendStr(b, a.stage)
	b = appendStr(b, customer)
	return append(b, a.id...)
}

func actCustKey(id string) []byte { return append(mk(pActCust, len(id)), id...) }

// historyPrefix is the prefix of every history key of a customer.
func historyPrefix(customer string) []byte {
	return appendStr(mk(pHistory, len(customer)+10), customer)
}

func historyKey(customer string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(historyPrefix(customer), seq)
}

func outboxKey(key string) []byte { return append(mk(pOutbox, len(key)), key...) }

func deadKey(key string) []byte { return append(mk(pDead, len(key)), key...) }

func histTimeKey(at int64, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendTime(mk(pHistTime, 16), at), seq)
}

func deliveredKey(at int64, key string) []byte {
	return append(appendTime(mk(pDelivAt, 8+len(key)), at), key...)
}

func failedKey(at int64, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendTime(mk(pFailed, 16), at), seq)
}

func outDueKey(at int64, key string) []byte {
	return append(appendTime(mk(pOutDue, 8+len(key)), at), key...)
}

func messageKey(id string) []byte { return append(mk(pMessage, len(id)), id...) }

func msgTimeKey(at int64, id string) []byte {
	return append(appendTime(mk(pMsgTime, 8+len(id)), at), id...)
}

// journeyPrefix is the prefix of every jr/ key of journey.
func journeyPrefix(journey string) []byte {
	return appendStr(mk(pJourney, len(journey)+10), journey)
}

func journeyKey(journey string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(journeyPrefix(journey), seq)
}

// readJourneyKey reads the journey and sequence number of a jr/ key.
func readJourneyKey(k []byte) (journey string, seq uint64, err error) {
	if len(k) < len(pJourney) || string(k[:len(pJourney)]) != string(pJourney) {
		return "", 0, errKey
	}
	journey, rest, err := readStr(k[len(pJourney):])
	if err != nil {
		return "", 0, err
	}
	if len(rest) != 8 {
		return "", 0, errKey
	}
	return journey, binary.BigEndian.Uint64(rest), nil
}

// tallyPrefix is the prefix of the t/ keys of journey's cohort hour
// (the cohort sorts like a time: sign bit flipped, big-endian).
func tallyPrefix(journey string, cohort int64) []byte {
	return appendTime(appendStr(mk(pTally, len(journey)+16), journey), cohort)
}

func tallyKey(t store.Tally) []byte {
	b := tallyPrefix(t.Journey, t.Cohort)
	b = appendStr(b, t.Kind)
	b = appendStr(b, t.A)
	return append(b, t.B...)
}

// readTallyKey reads a t/ key into the key fields of a tally.
func readTallyKey(k []byte) (store.Tally, error) {
	var t store.Tally
	if len(k) < len(pTally) || string(k[:len(pTally)]) != string(pTally) {
		return t, errKey
	}
	var err error
	rest := k[len(pTally):]
	if t.Journey, rest, err = readStr(rest); err != nil {
		return t, err
	}
	if t.Cohort, rest, err = readTime(rest); err != nil {
		return t, err
	}
	if t.Kind, rest, err = readStr(rest); err != nil {
		return t, err
	}
	if t.A, rest, err = readStr(rest); err != nil {
		return t, err
	}
	t.B = string(rest)
	return t, nil
}

func programKey(hash string) []byte { return append(mk(pProgram, len(hash)), hash...) }

// Times are unix microseconds: PostgreSQL's precision, as in the SQLite
// store.

func micros(t time.Time) int64 { return t.UnixMicro() }

// ceilMicros rounds up: a wake stored a little late fires when Step is
// called at the stored time; one stored early would wake the customer with
// nothing due.
func ceilMicros(t time.Time) int64 {
	u := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		u++
	}
	return u
}

func fromMicros(u int64) time.Time { return time.UnixMicro(u).UTC() }
