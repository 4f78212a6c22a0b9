package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPathFromEnvironment(t *testing.T) {
	getenv := func(key string) string {
		if key == EnvConfig {
			return "/somewhere/profiles.json"
		}
		return ""
	}
	if got := Path(getenv); got != "/somewhere/profiles.json" {
		t.Errorf("Path = %q, want the value of %s", got, EnvConfig)
	}
}

func TestPathDefault(t *testing.T) {
	got := Path(func(string) string { return "" })
	if !strings.HasSuffix(got, filepath.Join("mfpdev", "config.json")) {
		t.Errorf("Path = %q, want it to end in mfpdev/config.json", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Profiles) != 0 || c.Default != "" {
		t.Errorf("Load of a missing file = %+v, want an empty config", c)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	c := &Config{}
	p := Profile{Name: "prod", URL: "https://mfp.example.com", Login: "deployer", Password: "s3cret",
		AdminContext: "admin2", Runtime: "rt", Timeout: 12}
	if err := c.Add(p); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}

	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Default != "prod" {
		t.Errorf("Default = %q, want the first profile added", got.Default)
	}
	if len(got.Profiles) != 1 || got.Profiles[0] != p {
		t.Errorf("Profiles = %+v, want [%+v]", got.Profiles, p)
	}
}

func TestSavePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mfpdev")
	path := filepath.Join(dir, "config.json")
	if err := (&Config{}).Save(path); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode = %o, want 600", mode)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mode := di.Mode().Perm(); mode != 0o700 {
		t.Errorf("folder mode = %o, want 700", mode)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only config.json (no temporary file left)", len(entries))
	}
}

func TestLoadCorruptFile(t *testing.T) {
	cases := map[string]string{
		"not json":          "{profiles: ",
		"duplicate profile": `{"profiles":[{"name":"a"},{"name":"a"}]}`,
		"unknown default":   `{"default":"b","profiles":[{"name":"a"}]}`,
		"invalid name":      `{"profiles":[{"name":"a b"}]}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if !strings.Contains(err.Error(), "mfpdev server add") {
				t.Errorf("error %q does not say how to fix it", err)
			}
		})
	}
}

func TestAddDuplicate(t *testing.T) {
	c := &Config{}
	if err := c.Add(Profile{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	err := c.Add(Profile{Name: "a"})
	if err == nil || !strings.Contains(err.Error(), "mfpdev server edit a") {
		t.Errorf("second Add error = %v, want one pointing at mfpdev server edit", err)
	}
}

func TestRemoveClearsDefault(t *testing.T) {
	c := &Config{}
	c.Add(Profile{Name: "a"})
	c.Add(Profile{Name: "b"})
	if err := c.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if c.Default != "" {
		t.Errorf("Default = %q after removing it, want empty", c.Default)
	}
	if err := c.Remove("a"); err == nil {
		t.Error("removing a missing profile succeeded, want an error")
	}
}

func TestResolve(t *testing.T) {
	empty := &Config{}
	p, err := empty.Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if p != LocalProfile() {
		t.Errorf("Resolve with no profiles = %+v, want the local server", p)
	}
	if p.URL != "http://localhost:9080" || p.Login != "admin" || p.Password != "admin" {
		t.Errorf("local profile = %+v, want http://localhost:9080 with admin/admin", p)
	}

	two := &Config{Profiles: []Profile{{Name: "a"}, {Name: "b"}}}
	if _, err := two.Resolve(""); err == nil || !strings.Contains(err.Error(), "--setdefault") {
		t.Errorf("Resolve without default among two = %v, want an error naming --setdefault", err)
	}
	two.Default = "b"
	if p, _ := two.Resolve(""); p.Name != "b" {
		t.Errorf("Resolve with default b = %q", p.Name)
	}
	if p, _ := two.Resolve("a"); p.Name != "a" {
		t.Errorf("Resolve(a) = %q", p.Name)
	}
	if _, err := two.Resolve("c"); err == nil || !strings.Contains(err.Error(), "mfpdev server list") {
		t.Errorf("Resolve(c) = %v, want a not found error", err)
	}
}

func TestProfileDefaults(t *testing.T) {
	var p Profile
	if p.AdminContextRoot() != "mfpadmin" {
		t.Errorf("AdminContextRoot = %q", p.AdminContextRoot())
	}
	if p.RuntimeName() != "mfp" {
		t.Errorf("RuntimeName = %q", p.RuntimeName())
	}
	if p.TimeoutDuration() != 30*time.Second {
		t.Errorf("TimeoutDuration = %v", p.TimeoutDuration())
	}
}

func TestNormalizeURL(t *testing.T) {
	valid := map[string]string{
		"http://localhost:9080":           "http://localhost:9080",
		"https://mfp.example.com/":        "https://mfp.example.com",
		" https://mfp.example.com/prefix": "https://mfp.example.com/prefix",
		"http://[::1]:9080":               "http://[::1]:9080",
	}
	for in, want := range valid {
		got, err := NormalizeURL(in)
		if err != nil {
			t.Errorf("NormalizeURL(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", in, got, want)
		}
	}

	invalid := []string{"", "localhost:9080", "ftp://host", "http://", "http:///path",
		"http://user:pw@host", "http://host?x=1", "http://host#frag", "http://ho st"}
	for _, in := range invalid {
		_, err := NormalizeURL(in)
		if err == nil {
			t.Errorf("NormalizeURL(%q) succeeded, want an error", in)
			continue
		}
		if strings.Contains(err.Error(), "pw@") {
			t.Errorf("NormalizeURL(%q) error %q shows the password", in, err)
		}
	}
}

func TestResolvePassword(t *testing.T) {
	noEnv := func(string) string { return "" }
	withEnv := func(key string) string {
		if key == EnvPassword {
			return "from-env"
		}
		return ""
	}
	ask := func(string) (string, error) { return "typed", nil }

	saved := Profile{Name: "p", Login: "l", Password: "saved"}
	if pw, _ := ResolvePassword(saved, withEnv, ask); pw != "saved" {
		t.Errorf("with a saved password got %q", pw)
	}

	unsaved := Profile{Name: "p", Login: "l"}
	if pw, _ := ResolvePassword(unsaved, withEnv, ask); pw != "from-env" {
		t.Errorf("with MFPDEV_PASSWORD got %q", pw)
	}
	if pw, _ := ResolvePassword(unsaved, noEnv, ask); pw != "typed" {
		t.Errorf("with a prompt got %q", pw)
	}

	_, err := ResolvePassword(unsaved, noEnv, nil)
	if !errors.Is(err, ErrNoPassword) {
		t.Fatalf("without a terminal err = %v, want ErrNoPassword", err)
	}
	for _, want := range []string{"--password", "MFPDEV_PASSWORD", "mfpdev server edit p"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestResolvePasswordTrimsLineBreak(t *testing.T) {
	for _, value := range []string{"s3cret\n", "s3cret\r\n", "s3cret"} {
		getenv := func(key string) string {
			if key == EnvPassword {
				return value
			}
			return ""
		}
		got, err := ResolvePassword(Profile{Name: "p", Login: "ci"}, getenv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != "s3cret" {
			t.Errorf("MFPDEV_PASSWORD %q gave password %q, want %q", value, got, "s3cret")
		}
	}
}
