package timespec

import (
	"strings"
	"testing"
)

func TestLoadZone(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe"} {
		loc, err := LoadZone(name)
		if err != nil {
			t.Errorf("LoadZone(%q): %v", name, err)
			continue
		}
		if loc.String() != name {
			t.Errorf("LoadZone(%q) = %v", name, loc)
		}
	}
}

func TestLoadZoneErrors(t *testing.T) {
	const use = `use an IANA name such as "Europe/Berlin" or "America/New_York"`
	tests := []errorCase{
		{"", 0, 0, "empty time zone: " + use},
		{"Local", 0, 5, `"Local" is the server's own zone, not a customer's: ` + use},
		{"Asia/Shangai", 0, 12, `unknown time zone "Asia/Shangai": did you mean "Asia/Shanghai"?`},
		{"Amercia/Chicago", 0, 15, `unknown time zone "Amercia/Chicago": did you mean "America/Chicago"?`},
		{"europe/berlin", 0, 13, `unknown time zone "europe/berlin": did you mean "Europe/Berlin"?`},
		{"America/New York", 0, 16, `unknown time zone "America/New York": did you mean "America/New_York"?`},
		{"Shanghai", 0, 8, `unknown time zone "Shanghai": did you mean "Asia/Shanghai"?`},
		{"Shangai", 0, 7, `unknown time zone "Shangai": did you mean "Asia/Shanghai"?`},
		{"utc", 0, 3, `unknown time zone "utc": did you mean "UTC"?`},
		{"PST", 0, 3, `unknown time zone "PST": zone abbreviations are ambiguous; ` + use},
		{"Mars/Olympus_Mons", 0, 17, `unknown time zone "Mars/Olympus_Mons": ` + use},
		{"../../etc/passwd", 0, 16, `unknown time zone "../../etc/passwd": ` + use},
		{strings.Repeat("x", 100), 0, 100, `unknown time zone "` + strings.Repeat("x", 37) + `"...: ` + use},
	}
	for _, tt := range tests {
		_, err := LoadZone(tt.s)
		checkError(t, err, tt)
	}
}

// TestZoneNames checks that the generated list of names matches the embedded
// database: every name in it loads.
func TestZoneNames(t *testing.T) {
	if len(zoneNames) < 400 {
		t.Fatalf("only %d zone names", len(zoneNames))
	}
	for _, name := range zoneNames {
		if _, err := LoadZone(name); err != nil {
			t.Errorf("LoadZone(%q): %v", name, err)
		}
	}
}
