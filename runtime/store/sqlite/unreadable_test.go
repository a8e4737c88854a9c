package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// A state a pre-fix database holds that cannot be decoded, written here
// with SQL, leaves the list answering the others and naming it
// (storetest.RunUnreadable). Before the fix, the list failed for everyone.
func TestListCustomersUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waymark.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := rawDB(t, path)
	storetest.RunUnreadable(t, s, func(t *testing.T, id string, state []byte) {
		if _, err := db.Exec("UPDATE customers SET state = ? WHERE id = ?", state, id); err != nil {
			t.Fatal(err)
		}
	})
}
