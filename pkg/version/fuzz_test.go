package version

import (
	"net/url"
	"testing"
)

// FuzzValidateApp checks that every accepted app version is safe as one
// URL path segment and one file name part, which is how the server and
// the CLI use it.
func FuzzValidateApp(f *testing.F) {
	for _, s := range []string{"1.0.0", "2.1.0-beta.1+build.5", "${VERSION}", "@@VERSION@@", "1.0/../x", "", "9", "1.0.0\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateApp(s) != nil {
			return
		}
		if len(s) > MaxAppVersionLength {
			t.Errorf("%q accepted, longer than %d", s, MaxAppVersionLength)
		}
		if url.PathEscape(s) != s {
			t.Errorf("%q accepted, but needs escaping in a URL path", s)
		}
		if s[0] < '0' || s[0] > '9' {
			t.Errorf("%q accepted, does not start with a digit", s)
		}
	})
}
