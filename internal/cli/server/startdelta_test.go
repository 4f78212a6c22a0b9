package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/signing"
)

func TestStartDeltaFlagDefaults(t *testing.T) {
	opts, err := parseStart(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Delta.History != 5 {
		t.Errorf("Delta.History = %d, want 5", opts.Delta.History)
	}
	if opts.Delta.MinSavings != 30 {
		t.Errorf("Delta.MinSavings = %d, want 30", opts.Delta.MinSavings)
	}
	if opts.Delta.SigningKey != "" {
		t.Errorf("Delta.SigningKey = %q, want none", opts.Delta.SigningKey)
	}
}

func TestStartDeltaFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--delta-history", "-1"}, "--delta-history -1 is invalid"},
		{[]string{"--delta-min-savings", "100"}, "--delta-min-savings 100 is invalid"},
		{[]string{"--delta-min-savings", "-5"}, "--delta-min-savings -5 is invalid"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseStart(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStartDeltaSigningKey(t *testing.T) {
	key, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := signing.EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}

	opts := DeltaOptions{SigningKey: path}
	loaded, err := opts.loadSigner(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.PublicKey.Equal(&key.PublicKey) {
		t.Error("loaded key differs from the key written")
	}

	opts.SigningKey = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := opts.loadSigner(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "--signing-key") {
		t.Errorf("missing key file: err = %v, want an error naming --signing-key", err)
	}

	none := DeltaOptions{}
	if signer, err := none.loadSigner(func(string) string { return "" }); signer != nil || err != nil {
		t.Errorf("no --signing-key: signer %v, err %v, want neither", signer, err)
	}
}
