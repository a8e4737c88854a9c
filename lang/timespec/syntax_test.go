package timespec

import (
	"sync"
	"testing"
)

// TestConcurrentParse parses from many goroutines at once, as the compiler and
// the language server do; run with -race, it checks that the shared parsers and
// the zone cache are safe for that.
func TestConcurrentParse(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := ParseDuration("1w 2d 3h"); err != nil {
					t.Error(err)
				}
				if _, err := ParseWindow("Mon-Fri 09:00-18:00"); err != nil {
					t.Error(err)
				}
				if _, err := ParseCap("3 per 7d"); err != nil {
					t.Error(err)
				}
				if _, err := ParseReentry("after 30d"); err != nil {
					t.Error(err)
				}
				if _, err := ParseWindow("Tues 09:00-18:00"); err == nil {
					t.Error("ParseWindow accepted Tues")
				}
				if _, err := LoadZone("Europe/Berlin"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
