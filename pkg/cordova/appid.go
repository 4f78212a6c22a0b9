package cordova

import "fmt"

// MaxAppIDLength bounds an application id; Android and iOS ids are far
// shorter in practice.
const MaxAppIDLength = 255

// ValidateAppID checks an application id such as "com.example.app": ASCII
// letters, digits, '.', '_' and '-', starting with a letter or digit, with
// no empty dot-separated part. The rule accepts both Android package names
// and iOS bundle identifiers, and it keeps ids safe to use in file names
// (archives are named <appId>-<platform>-<appVersion>.zip) and URL paths.
func ValidateAppID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("app id is empty")
	case len(id) > MaxAppIDLength:
		return fmt.Errorf("app id %q is longer than %d characters", id, MaxAppIDLength)
	}
	for i, r := range id {
		letterOrDigit := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if i == 0 && !letterOrDigit {
			return fmt.Errorf("app id %q does not start with a letter or digit", id)
		}
		if !letterOrDigit && r != '.' && r != '_' && r != '-' {
			return fmt.Errorf("app id %q contains %q; use letters, digits, '.', '_' and '-'", id, r)
		}
		if r == '.' && (i == len(id)-1 || id[i+1] == '.') {
			return fmt.Errorf("app id %q has an empty part between dots", id)
		}
	}
	return nil
}
