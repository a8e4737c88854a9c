package pebble

import (
	"path/filepath"
	"testing"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// A state a pre-fix database holds that cannot be decoded, written here
// under the customer's raw key (its header kept), leaves the list
// answering the others and naming it (storetest.RunUnreadable). Before the
// fix, the list failed for everyone.
func TestListCustomersUnreadable(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunUnreadable(t, s, func(t *testing.T, id string, state []byte) {
		v, found, err := get(s.db, customerKey(id))
		if err != nil || !found {
			t.Fatalf("customer %q: found %v, %v", id, found, err)
		}
		r, err := decodeCust(v, true)
		if err != nil {
			t.Fatal(err)
		}
		r.state = state
		if err := s.db.Set(customerKey(id), r.encode(), pdb.Sync); err != nil {
			t.Fatal(err)
		}
	})
}
