package adminclient

import "testing"

func TestSanitizeExcerptPassword(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		password string
		want     string
	}{
		{"echoed secret", "bad login bob pa55-w0rd-xyz", "pa55-w0rd-xyz", "bad login bob ****"},
		{"secret after punctuation", `password="s3cret", user=bob`, "s3cret", `password="****", user=bob`},
		{"secret twice", "s3cret:s3cret", "s3cret", "****:****"},
		{"secret with symbol edges", "x-pw-y", "-pw-", "x****y"},
		{"no password", "role deployer or admin", "", "role deployer or admin"},
		{"admin password", "invalid user name or password: send HTTP Basic credentials of a user with role deployer or admin",
			"admin", "invalid user name or password: send HTTP Basic credentials of a user with role deployer or admin"},
		{"deployer password", "user \"ann\" has role deployer, which may not delete", "deployer",
			"user \"ann\" has role deployer, which may not delete"},
		{"monitor password", "role monitor may only read", "monitor", "role monitor may only read"},
		{"password inside a word", "the upload passed the checks", "pass", "the upload passed the checks"},
		{"password as a word", "wrong password pass for bob", "pass", "wrong password **** for bob"},
		{"password inside a non-ASCII word", "überpass", "pass", "überpass"},
		{"password twice in one word", "passpass pass", "pass", "passpass ****"},
		{"overlapping occurrences", "xa-a-a", "a-a", "xa-****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitizeExcerpt([]byte(tt.body), tt.password); got != tt.want {
				t.Errorf("sanitizeExcerpt(%q, %q) = %q, want %q", tt.body, tt.password, got, tt.want)
			}
		})
	}
}
