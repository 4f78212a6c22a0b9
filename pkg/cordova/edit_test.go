package cordova

import (
	"context"
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const testKey = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQAB"

func TestEditGolden(t *testing.T) {
	setChecksum := func(platform string) func(context.Context, string) error {
		return func(ctx context.Context, path string) error {
			return SetAppChecksum(ctx, path, platform, 987322419)
		}
	}
	setKey := func(ctx context.Context, path string) error { return SetPublicKey(ctx, path, testKey) }

	cases := []struct {
		name string
		edit func(context.Context, string) error
	}{
		{"replace-checksum", setChecksum("android")},
		{"self-closing-checksum", setChecksum("android")},
		{"missing-element", setChecksum("android")},
		{"missing-block-crlf", setChecksum("ios")},
		{"missing-namespace", setChecksum("android")},
		{"inline-windows", setChecksum("windows")},
		{"empty-block", setChecksum("android")},
		{"public-key-sample", setKey},
		{"public-key-prefix", setKey},
		{"public-key-create", setKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, err := os.ReadFile(filepath.Join("testdata", "edit", c.name+".before.xml"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "edit", c.name+".after.xml"))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "config.xml")
			if err := os.WriteFile(path, before, 0o640); err != nil {
				t.Fatal(err)
			}

			if err := c.edit(context.Background(), path); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("config.xml after the edit:\n%s\nwant:\n%s", got, want)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o640 {
				t.Errorf("mode = %v, want 0640 kept", info.Mode().Perm())
			}

			// A second edit with the same value changes nothing.
			if err := c.edit(context.Background(), path); err != nil {
				t.Fatal(err)
			}
			again, _ := os.ReadFile(path)
			if string(again) != string(want) {
				t.Errorf("second edit changed the file:\n%s", again)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("folder holds %d entries after the edit, want only config.xml", len(entries))
			}
		})
	}
}

func TestSetAppChecksumValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.xml")
	data, err := os.ReadFile("../../testdata/sample/config.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, value := range []uint32{0, 1, 4294967295, 987322419} {
		if err := SetAppChecksum(context.Background(), path, "ios", value); err != nil {
			t.Fatal(err)
		}
		out, _ := os.ReadFile(path)
		cfg, err := ParseConfig(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.MFP.Platforms["ios"].AppChecksum; got != strconv.FormatUint(uint64(value), 10) {
			t.Errorf("ios appChecksum = %q, want %d", got, value)
		}
		if got := cfg.MFP.Platforms["android"].AppChecksum; got != "0" {
			t.Errorf("android appChecksum = %q, want 0 untouched", got)
		}
	}
}

func TestEditErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	broken := write("broken.xml", "<widget id=\"a\" version=\"1\">\n<mfp:android>\n</widget>\n")
	wrongPrefix := write("prefix.xml", `<widget id="a" version="1" xmlns:mfp="urn:other"></widget>`)
	good := write("good.xml", `<widget id="a" version="1"></widget>`)

	cases := []struct {
		name string
		err  error
		want string
	}{
		{"malformed", SetAppChecksum(context.Background(), broken, "android", 1), "not well-formed"},
		{"wrong prefix", SetAppChecksum(context.Background(), wrongPrefix, "android", 1), "urn:other"},
		{"browser", SetAppChecksum(context.Background(), good, "browser", 1), "android, ios or windows"},
		{"bad base64", SetPublicKey(context.Background(), good, "not base64!"), "base64"},
		{"missing file", SetPublicKey(context.Background(), filepath.Join(dir, "none.xml"), ""), "none.xml"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error = %v, want one containing %q", c.name, c.err, c.want)
		}
	}
	for _, path := range []string{broken, wrongPrefix, good} {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), "appChecksum") || strings.Contains(string(data), "PublicKey") {
			t.Errorf("%s changed after a failed edit:\n%s", path, data)
		}
	}
}

func TestEditThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real-config.xml")
	if err := os.WriteFile(real, []byte(`<widget id="a" version="1"></widget>`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config.xml")
	if err := os.Symlink("real-config.xml", link); err != nil {
		t.Fatal(err)
	}
	if err := SetPublicKey(context.Background(), link, testKey); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("config.xml is no longer a symbolic link: %v, %v", info, err)
	}
	data, _ := os.ReadFile(real)
	if !strings.Contains(string(data), testKey) {
		t.Errorf("link target not edited:\n%s", data)
	}
}

func FuzzSetMFPValue(f *testing.F) {
	for _, name := range []string{"replace-checksum", "self-closing-checksum", "missing-block-crlf", "missing-namespace", "inline-windows", "public-key-prefix"} {
		data, err := os.ReadFile(filepath.Join("testdata", "edit", name+".before.xml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint32(12345), "android")
	}
	f.Fuzz(func(t *testing.T, data []byte, checksum uint32, platform string) {
		if !mfpPlatforms[platform] {
			platform = "ios"
		}
		value := strconv.FormatUint(uint64(checksum), 10)
		out, err := SetMFPValue(data, []string{platform, "appChecksum"}, value)
		if err != nil {
			return
		}
		cfg, err := ParseConfig(out)
		if err != nil {
			// An edit must keep a valid file valid. An input that was
			// already invalid may stay so.
			if _, errBefore := ParseConfig(data); errBefore == nil {
				t.Fatalf("edit broke a valid file: %v\nbefore:\n%s\nafter:\n%s", err, data, out)
			}
			return
		}
		if got := cfg.MFP.Platforms[platform].AppChecksum; got != value {
			t.Fatalf("appChecksum = %q, want %q\nbefore:\n%s\nafter:\n%s", got, value, data, out)
		}
		if before, err := ParseConfig(data); err == nil {
			// Everything but the edited value reads as before.
			want := *before
			want.MFP.Platforms = maps.Clone(before.MFP.Platforms)
			p := want.MFP.Platforms[platform]
			p.AppChecksum = value
			want.MFP.Platforms[platform] = p
			if !reflect.DeepEqual(*cfg, want) {
				t.Fatalf("edit changed other values: %+v, want %+v\nbefore:\n%s\nafter:\n%s", *cfg, want, data, out)
			}
		}

		key := base64.StdEncoding.EncodeToString(data[:min(len(data), 40)])
		out, err = SetMFPValue(out, []string{"directUpdateAuthenticityPublicKey"}, key)
		if err != nil {
			t.Fatalf("second edit failed: %v", err)
		}
		cfg, err = ParseConfig(out)
		if err != nil || cfg.MFP.PublicKey != key || cfg.MFP.Platforms[platform].AppChecksum != value {
			t.Fatalf("after setting the key: %+v, %v\n%s", cfg, err, out)
		}
	})
}
