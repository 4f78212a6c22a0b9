// Package version parses the two versions a direct update is keyed on: the
// app version from config.xml (the widget's version attribute) and the
// cordova-plugin-mfp version. It also implements the rule that decides
// whether a device running one plugin version may apply an archive built
// with another.
package version

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxAppVersionLength bounds an app version; store builds never come close.
const MaxAppVersionLength = 64

// ValidateApp checks that s is an app version such as "1.0.0" or
// "2.1.0-beta.1": it must start with a digit and contain only letters,
// digits, '.', '-' and '+'. Template placeholders such as "${VERSION}" or
// "@@VERSION@@" are rejected, because an archive keyed on them would never
// match a device.
func ValidateApp(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("app version is empty")
	case len(s) > MaxAppVersionLength:
		return fmt.Errorf("app version %q is longer than %d characters", s, MaxAppVersionLength)
	case strings.ContainsAny(s, "${}@%<>"):
		return fmt.Errorf("app version %q is a template placeholder, not a version", s)
	case s[0] < '0' || s[0] > '9':
		return fmt.Errorf("app version %q does not start with a digit", s)
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' || r == '+') {
			return fmt.Errorf("app version %q contains %q; use digits, letters, '.', '-' and '+'", s, r)
		}
	}
	return nil
}

// Plugin is a parsed cordova-plugin-mfp version such as "8.0.2024082705".
type Plugin struct {
	raw     string
	numbers [3]uint64
}

// ParsePlugin parses a plugin version. It needs at least three numeric
// dot-separated components; anything after the third ("-rc.1", ".4") is
// kept in String but plays no part in compatibility.
func ParsePlugin(s string) (Plugin, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 4)
	if len(parts) < 3 {
		return Plugin{}, fmt.Errorf("plugin version %q is invalid: want at least three numbers such as 8.0.2024082705", s)
	}
	var p Plugin
	p.raw = strings.TrimSpace(s)
	for i := 0; i < 3; i++ {
		field := parts[i]
		if i == 2 {
			// The third component may carry a pre-release or build suffix.
			if cut := strings.IndexAny(field, "-+"); cut >= 0 {
				field = field[:cut]
			}
		}
		n, err := strconv.ParseUint(field, 10, 64)
		if err != nil || field == "" {
			return Plugin{}, fmt.Errorf("plugin version %q is invalid: component %d (%q) is not a number", s, i+1, parts[i])
		}
		p.numbers[i] = n
	}
	return p, nil
}

// String returns the version as it was parsed.
func (p Plugin) String() string { return p.raw }

// IsZero reports whether p is the zero Plugin.
func (p Plugin) IsZero() bool { return p.raw == "" }

// Compatible reports whether archives built with plugin version p may be
// applied by a device running q: the first three numeric components must be
// equal (8.0.2024082705 matches 8.0.2024082705.1 but not 8.0.2020032412).
func (p Plugin) Compatible(q Plugin) bool { return p.numbers == q.numbers }
