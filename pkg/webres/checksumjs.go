package webres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// ChecksumJSMachine is the "machine" field mfpdev writes into checksum.js,
// in place of the plugin's host name, so that archives are reproducible.
const ChecksumJSMachine = "mfpdev"

// ChecksumJS returns the content of checksum.js for a checksum: the line
// the plugin writes, with date in milliseconds and a fixed machine name,
// then a comment line with the date in UTC. Devices read only "checksum".
func ChecksumJS(checksum uint32, date time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `var WL_CHECKSUM = {"checksum":%d,"date":%d,"machine":%q}`, checksum, date.UnixMilli(), ChecksumJSMachine)
	fmt.Fprintf(&b, "\n/* Date: %s */", date.UTC().Format(time.RFC1123))
	return b.Bytes()
}

var checksumJSPattern = regexp.MustCompile(`^(?:\x{FEFF})?\s*var\s+WL_CHECKSUM\s*=\s*(\{[^{}]*\})\s*;?((?:\s|/\*(?:[^*]|\*+[^*/])*\*+/|//[^\n]*)*)$`)

// ParseChecksumJS returns the checksum a checksum.js file carries. It
// accepts the plugin's own output and ChecksumJS's: one
// "var WL_CHECKSUM = {...}" statement, optionally ended by ';', followed
// only by whitespace and comments, with any line endings.
func ParseChecksumJS(b []byte) (uint32, error) {
	m := checksumJSPattern.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf(`parse checksum.js: want one line "var WL_CHECKSUM = {\"checksum\":N,...}" followed only by comments, got %q`, excerpt(b))
	}

	var fields struct {
		Checksum json.RawMessage `json:"checksum"`
	}
	if err := json.Unmarshal(m[1], &fields); err != nil {
		return 0, fmt.Errorf("parse checksum.js: WL_CHECKSUM is not a valid JSON object: %w", err)
	}
	if fields.Checksum == nil {
		return 0, fmt.Errorf("parse checksum.js: WL_CHECKSUM has no \"checksum\" field")
	}
	n, err := strconv.ParseUint(string(fields.Checksum), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parse checksum.js: checksum %s is not a whole number from 0 to 4294967295", fields.Checksum)
	}
	return uint32(n), nil
}

func excerpt(b []byte) string {
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// zipEpoch is the earliest time a zip entry can record (MS-DOS time).
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// BuildTime returns the time to record in archives and checksum.js:
// SOURCE_DATE_EPOCH (seconds since 1970, UTC) when set, otherwise
// 1980-01-01T00:00:00Z, so that the same input gives the same bytes. A
// SOURCE_DATE_EPOCH before 1980 is raised to 1980-01-01, the earliest time
// a zip entry can carry.
func BuildTime(getenv func(string) string) (time.Time, error) {
	v := getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return zipEpoch, nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a whole number of seconds since 1970: set it to a Unix time such as 1700000000 or unset it", v)
	}
	t := time.Unix(secs, 0).UTC()
	if t.Before(zipEpoch) {
		return zipEpoch, nil
	}
	return t, nil
}
