package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A staged commit's statements are encoded in PostgreSQL's binary wire
// format by Stage, while the previous commit runs, so that the writer
// only sends bytes: at 10,000 events/s the encoding (arrays of states and
// sends, the history's rows) was a third of the time a commit held the
// single writer.

// wireStmt is one statement with its parameters encoded.
type wireStmt struct {
	sql    string
	oids   []uint32
	params [][]byte
}

// paramTypes are the parameter types of the statements staged commits
// run, as the server describes them (describeStatements, at Open): the
// types the SQL's casts and columns give them, so the encoding can never
// drift from the SQL.
type paramTypes map[string][]uint32

// stagedStatements are the statements Stage encodes.
var stagedStatements = []string{qDeleteActive, qInsertActive, qUpsertCustomers, qDeleteInbox}

// describeStatements asks the server for the parameter types of the
// staged statements (one unnamed Parse and Describe each).
func describeStatements(ctx context.Context, pool *pgxpool.Pool) (paramTypes, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	types := paramTypes{}
	for _, q := range stagedStatements {
		sd, err := conn.Conn().PgConn().Prepare(ctx, "", q, nil)
		if err != nil {
			return nil, fmt.Errorf("postgres: describing the commit's statement %q: %w", firstLine(q), err)
		}
		types[q] = sd.ParamOIDs
	}
	return types, nil
}

func firstLine(q string) string {
	line, _, _ := strings.Cut(q, "\n")
	return line
}

// typeMaps lends pgtype.Maps (which cache encode plans and are not safe
// for concurrent use) to the goroutines that encode.
var typeMaps = sync.Pool{New: func() any { return pgtype.NewMap() }}

// encode encodes args as the parameters of q, in binary.
func (t paramTypes) encode(q string, args ...any) (wireStmt, error) {
	oids, ok := t[q]
	if !ok || len(oids) != len(args) {
		return wireStmt{}, fmt.Errorf("postgres: statement %q: %d parameters described, %d given", firstLine(q), len(oids), len(args))
	}
	m := typeMaps.Get().(*pgtype.Map)
	defer typeMaps.Put(m)
	st := wireStmt{sql: q, oids: oids, params: make([][]byte, len(args))}
	for i, a := range args {
		var buf []byte
		if bs, ok := a.([][]byte); ok {
			buf = make([]byte, 0, byteaArraySize(bs))
		}
		p, err := m.Encode(oids[i], pgtype.BinaryFormatCode, a, buf)
		if err != nil {
			return wireStmt{}, fmt.Errorf("postgres: statement %q: parameter $%d: %w", firstLine(q), i+1, err)
		}
		st.params[i] = p
	}
	return st, nil
}

// byteaArraySize is the size of the binary encoding of a one-dimensional
// bytea array: a 20-byte header, then each element's length and bytes.
func byteaArraySize(bs [][]byte) int {
	n := 20
	for _, b := range bs {
		n += 4 + len(b)
	}
	return n
}

// binaryFormats returns n binary format codes.
func binaryFormats(n int) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = pgtype.BinaryFormatCode
	}
	return f
}

// queue adds st to b.
func (st *wireStmt) queue(b *pgconn.Batch) {
	b.ExecParams(st.sql, st.params, st.oids, binaryFormats(len(st.params)), nil)
}

// copyData is the data of a COPY ... FROM STDIN (FORMAT binary): a
// header, tuples of fields (each its length, -1 for NULL, and its bytes
// in the column type's binary format), and a trailer.
type copyData struct{ buf []byte }

// newCopyData starts the data of a COPY of about size bytes.
func newCopyData(size int) *copyData {
	c := &copyData{buf: make([]byte, 0, size+len(copyHeader)+2)}
	c.buf = append(c.buf, copyHeader...)
	return c
}

// copyHeader starts the data of every binary COPY: the signature, flags
// (no OIDs) and the length of the header extension (none).
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00")

// frameCopy is tuples (copyData without header or trailer) as the data of
// a COPY.
func frameCopy(tuples []byte) []byte {
	c := newCopyData(len(tuples))
	c.buf = append(c.buf, tuples...)
	return c.bytes()
}

// tuple starts a row of n fields.
func (c *copyData) tuple(n int) { c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(n)) }

// int4 is an integer field.
func (c *copyData) int4(v int32) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 4)
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(v))
}

// int8 is a bigint field.
func (c *copyData) int8(v int64) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
	c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
}

// bool is a boolean field.
func (c *copyData) bool(v bool) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 1)
	if v {
		c.buf = append(c.buf, 1)
	} else {
		c.buf = append(c.buf, 0)
	}
}

func (c *copyData) null() { c.buf = binary.BigEndian.AppendUint32(c.buf, 0xFFFFFFFF) }

// text is a text field.
func (c *copyData) text(s string) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(s)))
	c.buf = append(c.buf, s...)
}

// textOrNull is a text field, NULL when s is empty.
func (c *copyData) textOrNull(s string) {
	if s == "" {
		c.null()
		return
	}
	c.text(s)
}

// bytea is a bytea field, NULL when b is nil.
func (c *copyData) bytea(b []byte) {
	if b == nil {
		c.null()
		return
	}
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(b)))
	c.buf = append(c.buf, b...)
}

// microsToY2K is the number of microseconds from the Unix epoch to
// 2000-01-01, PostgreSQL's epoch.
const microsToY2K = 946684800 * 1_000_000

// timestamptz is a timestamptz field: microseconds since 2000-01-01 UTC
// (the fraction of a microsecond dropped, as pgx encodes it).
func (c *copyData) timestamptz(t time.Time) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
	us := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - microsToY2K
	c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(us))
}

// bytes ends the data and returns it.
func (c *copyData) bytes() []byte {
	return binary.BigEndian.AppendUint16(c.buf, 0xFFFF)
}
