package version

import "testing"

func TestValidateApp(t *testing.T) {
	valid := []string{"1", "1.0.0", "2.1.0-beta.1", "10.4+build7"}
	for _, v := range valid {
		if err := ValidateApp(v); err != nil {
			t.Errorf("ValidateApp(%q) = %v, want nil", v, err)
		}
	}
	invalid := []string{"", "${VERSION}", "@@VERSION@@", "v1.0", "1.0 beta", "1/0", "%VERSION%"}
	for _, v := range invalid {
		if err := ValidateApp(v); err == nil {
			t.Errorf("ValidateApp(%q) = nil, want an error", v)
		}
	}
}

func TestPluginCompatible(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"8.0.2024082705", "8.0.2024082705", true},
		{"8.0.2024082705", "8.0.2024082705.3", true},
		{"8.0.2024082705", "8.0.2024082705-rc.1", true},
		{"8.0.2024082705", "8.0.2020032412", false},
		{"8.0.1", "8.1.1", false},
		{"8.0.1", "9.0.1", false},
	}
	for _, tt := range tests {
		a, err := ParsePlugin(tt.a)
		if err != nil {
			t.Fatalf("ParsePlugin(%q): %v", tt.a, err)
		}
		b, err := ParsePlugin(tt.b)
		if err != nil {
			t.Fatalf("ParsePlugin(%q): %v", tt.b, err)
		}
		if got := a.Compatible(b); got != tt.want {
			t.Errorf("%s.Compatible(%s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParsePluginInvalid(t *testing.T) {
	for _, v := range []string{"", "8", "8.0", "8.x.1", "a.b.c", "8..1"} {
		if _, err := ParsePlugin(v); err == nil {
			t.Errorf("ParsePlugin(%q) = nil error, want one", v)
		}
	}
}

func FuzzParsePlugin(f *testing.F) {
	for _, s := range []string{"8.0.2024082705", "1.2.3-rc", "8.0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlugin(s)
		if err != nil {
			return
		}
		if !p.Compatible(p) {
			t.Errorf("%q is not compatible with itself", s)
		}
	})
}
