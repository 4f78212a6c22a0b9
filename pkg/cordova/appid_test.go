package cordova

import "testing"

func TestValidateAppID(t *testing.T) {
	for _, id := range []string{"com.example.app", "com.example.my_app", "io.ionic.starter-1", "App"} {
		if err := ValidateAppID(id); err != nil {
			t.Errorf("ValidateAppID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", "../evil", "com/example", "com example", ".com.example", "com..example", "com.example.", "com:example", "-app"} {
		if err := ValidateAppID(id); err == nil {
			t.Errorf("ValidateAppID(%q) = nil, want an error", id)
		}
	}
}
