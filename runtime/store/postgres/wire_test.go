package postgres

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// The history's binary COPY data (histCols.copyData, written by hand in
// PostgreSQL's binary format) reads back as the values given: times before
// PostgreSQL's epoch and far after it to the microsecond, text in any
// script, "" as NULL in the optional columns, nil data as NULL and empty
// data as empty.
func TestCopyHistoryReadsBack(t *testing.T) {
	s, _ := openStore(t)
	type row struct {
		customer, kind, journey, instance, fate string
		at                                      time.Time
		data                                    []byte
	}
	rows := []row{
		{"ada", "transition", "onboarding", "i-1", "", time.Date(2026, 12, 7, 5, 4, 3, 123456789, time.UTC), []byte(`{"a":1}`)},
		{"før-1999", "send", "wïn-back", "", "deliver", time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC), nil},
		{"名前", "event", "j", "i-2", "", time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC), []byte{}},
		{"late", "event", "j", "", "", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), []byte{0, 1, 2, 255}},
	}
	var h histCols
	for _, r := range rows {
		h.add(r.customer, r.kind, r.at, r.journey, r.instance, "", "", "", "", "", "", "", r.fate, "", r.data)
	}
	ctx := context.Background()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(h.copyData()), qCopyHistory); err != nil {
		t.Fatal(err)
	}
	rs, err := conn.Query(ctx, "SELECT customer, kind, at, journey, instance, version, fate, data FROM history ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	i := 0
	for ; rs.Next(); i++ {
		var customer, kind, journey string
		var instance, version, fate *string
		var at time.Time
		var data []byte
		if err := rs.Scan(&customer, &kind, &at, &journey, &instance, &version, &fate, &data); err != nil {
			t.Fatal(err)
		}
		if i >= len(rows) {
			continue
		}
		w := rows[i]
		if customer != w.customer || kind != w.kind || journey != w.journey {
			t.Errorf("row %d: %q %q %q, want %q %q %q", i, customer, kind, journey, w.customer, w.kind, w.journey)
		}
		if want := w.at.Truncate(time.Microsecond); !at.Equal(want) {
			t.Errorf("row %d: at %v, want %v", i, at.UTC(), want)
		}
		if got, want := str(instance), w.instance; got != want || (want == "") != (instance == nil) {
			t.Errorf("row %d: instance %v, want %q (NULL when empty)", i, instance, want)
		}
		if version != nil {
			t.Errorf("row %d: version %q, want NULL", i, *version)
		}
		if got := str(fate); got != w.fate || (w.fate == "") != (fate == nil) {
			t.Errorf("row %d: fate %v, want %q (NULL when empty)", i, fate, w.fate)
		}
		if !bytes.Equal(data, w.data) || (data == nil) != (w.data == nil) {
			t.Errorf("row %d: data %v, want %v (nil: NULL)", i, data, w.data)
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(rows) {
		t.Errorf("%d rows read back, want %d", i, len(rows))
	}
}
