package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// dirs gives each test (or subtest) its own directory, the same one on
// every call with the same t: the storetest open contract.
type dirs struct {
	mu sync.Mutex
	m  map[*testing.T]string
}

func (d *dirs) of(t *testing.T) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = make(map[*testing.T]string)
	}
	if dir, ok := d.m[t]; ok {
		return dir
	}
	dir := filepath.Join(t.TempDir(), "way mark")
	d.m[t] = dir
	return dir
}

func TestConformance(t *testing.T) {
	var d dirs
	t.Run("Run", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			s, err := Open(d.of(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("Schema", func(t *testing.T) {
		// raw opens the database without the store, while no store has it.
		raw := func(t *testing.T, f func(db *pdb.DB)) {
			t.Helper()
			db, err := pdb.Open(d.of(t), options(vfs.Default))
			if err != nil {
				t.Fatal(err)
			}
			f(db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
		storetest.RunSchema(t, storetest.Schema{
			Open: func(t *testing.T) (store.Store, error) { return Open(d.of(t)) },
			Version: func(t *testing.T) int {
				var v int
				raw(t, func(db *pdb.DB) {
					var err error
					if v, err = readVersion(db); err != nil {
						t.Fatal(err)
					}
				})
				return v
			},
			SetVersion: func(t *testing.T, v int) {
				raw(t, func(db *pdb.DB) {
					if err := writeVersion(db, v); err != nil {
						t.Fatal(err)
					}
				})
			},
			Latest: SchemaVersion,
		})
	})
}

var bg = context.Background()

// TestCrashDurability: a Commit that returned is on disk. The store runs on
// a file system that can be cloned as a crash at that moment would leave
// it: only what was synced. The clone, opened, has every committed write.
func TestCrashDurability(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := open("db", fs)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := storetest.T0
	var ws []store.CustomerWrite
	for i, id := range []string{"c1", "c2", "c3"} {
		w := storetest.Write(id, 1, at.Add(time.Duration(i)*time.Second))
		ws = append(ws, w)
		if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveProgram(bg, store.Program{Hash: "h", IR: []byte("{}"), CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(bg, ws[0].Results[0].Sends[0].Key, at); err != nil {
		t.Fatal(err)
	}

	crashed := fs.CrashClone(vfs.CrashCloneCfg{}) // exactly what was synced
	c, err := open("db", crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, w := range ws {
		got, err := c.Customer(bg, w.State.ID)
		if err != nil {
			t.Fatalf("after the crash: %v", err)
		}
		if got.ID != w.State.ID || len(got.Instances) != 2 {
			t.Fatalf("after the crash: %+v", got)
		}
		if ts, err := c.Transitions(bg, w.State.ID); err != nil || len(ts) != 2 {
			t.Errorf("transitions of %s after the crash: %v, %v", w.State.ID, ts, err)
		}
	}
	if ds, err := c.Due(bg, at.Add(1000*time.Hour), 10); err != nil || len(ds) != 3 {
		t.Errorf("Due after the crash: %v, %v", ds, err)
	}
	if rs, err := c.Sends(bg, "c1"); err != nil || len(rs) != 1 || rs[0].Delivery != store.DeliveryDelivered {
		t.Errorf("c1's send after the crash: %+v, %v", rs, err)
	}
	if ps, err := c.Programs(bg); err != nil || len(ps) != 1 {
		t.Errorf("programs after the crash: %v, %v", ps, err)
	}
	// The history sequence went on from where it was: new records sort
	// after the old ones.
	w := storetest.Write("c1", 2, at.Add(time.Hour))
	if err := c.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
		t.Fatal(err)
	}
	if ts, err := c.Transitions(bg, "c1"); err != nil || len(ts) != 4 || !ts[3].At.Equal(at.Add(time.Hour)) {
		t.Errorf("transitions of c1 after a commit on the recovered store: %+v, %v", ts, err)
	}
}

// TestFailedWriteLeavesNothing: a Commit that fails inside the writer, after
// its customers were staged, leaves nothing, and the Commits grouped with it
// in the same batch are written whole.
func TestFailedWriteLeavesNothing(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	boom := errors.New("boom")
	s.failHook = func(p *prepared) error {
		if strings.HasPrefix(p.custs[0].id, "bad") {
			return boom
		}
		return nil
	}
	// Many commits at once, so that good and bad ones share groups.
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("good%02d", i)
			if i%2 == 1 {
				id = fmt.Sprintf("bad%02d", i)
			}
			w := storetest.Write(id, 1, storetest.T0)
			if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); (i%2 == 1) != errors.Is(err, boom) {
				errs <- fmt.Errorf("Commit of %s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ids, err := s.ActiveCustomers(bg, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != n/2 || !strings.HasPrefix(ids[0], "good") || !strings.HasPrefix(ids[n/2-1], "good") {
		t.Errorf("active customers %v, want the %d good ones", ids, n/2)
	}
	items, err := s.ClaimOutbox(bg, storetest.T0.Add(time.Hour), time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n/2 {
		t.Errorf("%d outbox items, want %d", len(items), n/2)
	}
	for _, id := range []string{"bad01", "bad63"} {
		if _, err := s.Customer(bg, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Customer(%s) after its failed commit: %v", id, err)
		}
		if ts, _ := s.Transitions(bg, id); len(ts) != 0 {
			t.Errorf("transitions of %s after its failed commit: %v", id, ts)
		}
		if m, _ := s.SeenMessages(bg, []string{id + "-m1"}); len(m) != 0 {
			t.Errorf("message of %s seen after its failed commit", id)
		}
	}
	if ws, _ := s.Due(bg, storetest.T0.Add(1000*time.Hour), 1000); len(ws) != n/2 {
		t.Errorf("%d wakes, want %d", len(ws), n/2)
	}
}

// A store of schema 1 (before d/) is migrated on open: the items that died
// before the upgrade are in the dead-letter queue.
func TestUpgradeFromSchema1(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v1")
	var s *Store
	storetest.RunDeadLetterUpgrade(t,
		func() (store.Store, error) {
			var err error
			s, err = Open(dir)
			return s, err
		},
		func() { // back to what a schema-1 binary left: no d/ entries, version 1
			db, err := pdb.Open(dir, options(vfs.Default))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.DeleteRange(pDead, upper(pDead), pdb.Sync); err != nil {
				t.Fatal(err)
			}
			if err := writeVersion(db, 1); err != nil {
				t.Fatal(err)
			}
		},
		func() int {
			v, err := readVersion(s.db)
			if err != nil {
				t.Fatal(err)
			}
			return v
		},
		SchemaVersion)
}

// d/ holds exactly the dead items through every change of state: dead,
// delivered after all, requeued, and dead-lettered by a claim that finds
// the send missing from the history.
func TestDeadIndexFollowsTheOutbox(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "d"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := storetest.T0
	deadKeys := func() []string {
		t.Helper()
		var ks []string
		if err := scan(s.db, pDead, upper(pDead), func(k, _ []byte) (bool, error) {
			ks = append(ks, string(k[len(pDead):]))
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	var keys []string
	for _, id := range []string{"a", "b", "c"} {
		w := storetest.Write(id, 1, t0)
		if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, w.Results[0].Sends[0].Key)
	}
	// c's send goes missing from the history before anything claims it.
	c, _ := s.Customer(bg, "c")
	var cSeq uint64
	if err := scan(s.db, historyPrefix("c"), upper(historyPrefix("c")), func(k, v []byte) (bool, error) {
		if v[0] == kindSend {
			cSeq = binary.BigEndian.Uint64(k[len(k)-8:])
		}
		return true, nil
	}); err != nil || c == nil || cSeq == 0 {
		t.Fatalf("c's send record: %v", err)
	}
	if err := s.db.Delete(historyKey("c", cSeq), pdb.Sync); err != nil {
		t.Fatal(err)
	}
	items, err := s.ClaimOutbox(bg, t0.Add(time.Second), time.Minute, 10)
	if err != nil || len(items) != 2 {
		t.Fatalf("claim: %+v, %v", items, err)
	}
	if got := deadKeys(); fmt.Sprint(got) != fmt.Sprint([]string{keys[2]}) {
		t.Errorf("d/ after a claim found c's send missing: %v", got)
	}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"a dies", func() error { return s.Dead(bg, keys[0], 3, t0, "gone") }, []string{keys[0], keys[2]}},
		{"a is delivered after all", func() error { return s.Delivered(bg, keys[0], t0) }, []string{keys[2]}},
		{"b dies", func() error { return s.Dead(bg, keys[1], 3, t0, "gone") }, []string{keys[1], keys[2]}},
		{"b is requeued", func() error { return s.Requeue(bg, keys[1], t0) }, []string{keys[2]}},
		{"b dies again", func() error { return s.Dead(bg, keys[1], 1, t0, "gone") }, []string{keys[1], keys[2]}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := deadKeys(); fmt.Sprint(got) != fmt.Sprint(st.want) {
			t.Errorf("d/ after %s: %v, want %v", st.name, got, st.want)
		}
	}
}

func TestInUse(t *testing.T) {
	t.Chdir(t.TempDir())
	storetest.RunInUse(t, "./data", func() (store.Store, error) { return Open("./data") })
}

// A store of layout 3 (before fs/) is indexed at its next open: the sends
// that failed before the upgrade are listed, the others are not.
func TestUpgradeFailedSends(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v3")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &engine.Customer{ID: "line\x00break"} // an id that needs escaping in h/ keys
	sd := engine.Send{Key: "i/1/welcome", Journey: "j", Instance: "i", Stage: "s", Name: "welcome", Channel: "email",
		ChannelType: "smtp", Fate: engine.FateFailed, Reason: "field to: to is null", At: storetest.T0}
	ok := sd
	ok.Key, ok.Name, ok.Fate, ok.Reason = "i/1/other", "other", engine.FateCapped, "cap"
	err = s.Commit(context.Background(), &store.Batch{Customers: []store.CustomerWrite{{State: c, Results: []engine.Result{{Sends: []engine.Send{ok, sd}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := pdb.Open(dir, options(vfs.Default))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRange(pFailed, upper(pFailed), pdb.Sync); err != nil {
		t.Fatal(err)
	}
	if err := writeVersion(db, 3); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if s, err = Open(dir); err != nil {
		t.Fatalf("opening a layout-3 store: %v", err)
	}
	defer s.Close()
	fs, err := s.FailedSends(context.Background(), "", 10)
	if err != nil || len(fs) != 1 || fs[0].Customer != c.ID || fs[0].Send.Key != sd.Key {
		t.Errorf("failed sends after the upgrade: %+v (%v), want %s of %q", fs, err, sd.Key, c.ID)
	}
	if v, _ := readVersion(s.db); v != SchemaVersion {
		t.Errorf("version %d after the upgrade, want %d", v, SchemaVersion)
	}
}
