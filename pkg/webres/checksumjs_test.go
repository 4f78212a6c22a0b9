package webres

import (
	"strings"
	"testing"
	"time"
)

func TestChecksumJSRoundTrip(t *testing.T) {
	date := time.Date(2026, 12, 4, 19, 53, 33, 250e6, time.FixedZone("EST", -5*3600))
	got := string(ChecksumJS(3555316750, date))
	want := `var WL_CHECKSUM = {"checksum":3555316750,"date":1796432013250,"machine":"mfpdev"}` + "\n/* Date: Sat, 05 Dec 2026 00:53:33 UTC */"
	if got != want {
		t.Errorf("ChecksumJS =\n%s\nwant\n%s", got, want)
	}
	n, err := ParseChecksumJS([]byte(got))
	if err != nil || n != 3555316750 {
		t.Errorf("ParseChecksumJS = %d, %v, want 3555316750", n, err)
	}
}

func TestParseChecksumJSAccepts(t *testing.T) {
	inputs := map[string]string{
		"plugin output": "var WL_CHECKSUM = {\"checksum\":3555316750,\"date\":1430744771075,\"machine\":\"mwd-canyon\"}\n/* Date: Mon May 04 09:06:11 EDT 2015 */",
		"semicolon":     `var WL_CHECKSUM = {"checksum":3555316750,"date":1,"machine":"m"};`,
		"CRLF":          "var WL_CHECKSUM = {\"checksum\":3555316750}\r\n/* Date: x */\r\n",
		"whitespace":    "\n\n  var   WL_CHECKSUM={ \"machine\" : \"m\" ,\n \"checksum\" : 3555316750 }  \n\n",
		"BOM":           "\uFEFFvar WL_CHECKSUM = {\"checksum\":3555316750}",
		"line comment":  "var WL_CHECKSUM = {\"checksum\":3555316750} // generated\n",
	}
	for name, in := range inputs {
		n, err := ParseChecksumJS([]byte(in))
		if err != nil || n != 3555316750 {
			t.Errorf("%s: ParseChecksumJS = %d, %v, want 3555316750", name, n, err)
		}
	}
}

func TestParseChecksumJSRejects(t *testing.T) {
	inputs := map[string]string{
		"empty":          "",
		"other variable": `var X = {"checksum":1}`,
		"no checksum":    `var WL_CHECKSUM = {"date":1}`,
		"negative":       `var WL_CHECKSUM = {"checksum":-1}`,
		"too large":      `var WL_CHECKSUM = {"checksum":4294967296}`,
		"fraction":       `var WL_CHECKSUM = {"checksum":1.5}`,
		"string":         `var WL_CHECKSUM = {"checksum":"12"}`,
		"bad JSON":       `var WL_CHECKSUM = {checksum:12}`,
		"trailing code":  `var WL_CHECKSUM = {"checksum":12}; alert(1)`,
		"open comment":   "var WL_CHECKSUM = {\"checksum\":12}\n/* Date: ",
	}
	for name, in := range inputs {
		if n, err := ParseChecksumJS([]byte(in)); err == nil {
			t.Errorf("%s: ParseChecksumJS = %d, nil, want an error", name, n)
		} else if !strings.HasPrefix(err.Error(), "parse checksum.js: ") {
			t.Errorf("%s: error %q does not name checksum.js", name, err)
		}
	}
}

func TestBuildTime(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "SOURCE_DATE_EPOCH" {
				return v
			}
			return ""
		}
	}
	cases := []struct {
		value string
		want  time.Time
	}{
		{"", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1700000000", time.Unix(1700000000, 0).UTC()},
		{"0", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := BuildTime(env(c.value))
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("BuildTime(%q) = %v, %v, want %v", c.value, got, err, c.want)
		}
	}
	_, err := BuildTime(env("yesterday"))
	if err == nil || !strings.Contains(err.Error(), `"yesterday"`) {
		t.Errorf("BuildTime(yesterday) error = %v, want one naming the value", err)
	}
}

func FuzzParseChecksumJS(f *testing.F) {
	f.Add(string(ChecksumJS(12345, time.Unix(0, 0))))
	f.Add("var WL_CHECKSUM = {\"checksum\":1}\r\n/* x */")
	f.Add(`var WL_CHECKSUM = {"checksum":4294967295};`)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseChecksumJS([]byte(s))
		if err != nil {
			return
		}
		// A parsed checksum must survive a rewrite.
		again, err := ParseChecksumJS(ChecksumJS(n, time.Unix(1, 0)))
		if err != nil || again != n {
			t.Fatalf("rewrite of %d parsed as %d, %v", n, again, err)
		}
	})
}
