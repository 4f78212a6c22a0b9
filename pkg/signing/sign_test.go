package signing

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignFileInPlace(t *testing.T) {
	k2048, k3072 := testKeys(t)
	blank := writeBlankZip(t)
	path := writeFile(t, filepath.Join(t.TempDir(), "app.zip"), blank)

	if err := SignFile(context.Background(), path, k2048); err != nil {
		t.Fatalf("SignFile: %v", err)
	}
	signed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(signed) != len(blank) {
		t.Fatalf("size changed from %d to %d", len(blank), len(signed))
	}
	if !bytes.Equal(signed, signZip(t, blank, k2048)) {
		t.Error("SignFile differs from signing the blank file with SignDigest and EncodeComment")
	}

	// Signing again with another key replaces the signature.
	if err := SignFile(context.Background(), path, k3072); err != nil {
		t.Fatalf("SignFile again: %v", err)
	}
	resigned, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(bytes.NewReader(resigned), int64(len(resigned)), &k3072.PublicKey); err != nil {
		t.Errorf("Verify with the new key: %v", err)
	}
	if err := Verify(bytes.NewReader(resigned), int64(len(resigned)), &k2048.PublicKey); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("Verify with the old key: %v, want ErrSignatureMismatch", err)
	}
}

func TestSignFileRejectsOtherComments(t *testing.T) {
	k2048, _ := testKeys(t)
	path := writeFile(t, filepath.Join(t.TempDir(), "plain.zip"), bytes.Repeat([]byte("x"), 2000))

	err := SignFile(context.Background(), path, k2048)
	if !errors.Is(err, ErrMalformedComment) {
		t.Fatalf("SignFile error = %v, want ErrMalformedComment", err)
	}
	if !strings.Contains(err.Error(), "plain.zip") {
		t.Errorf("error = %q, want it to name the file", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, bytes.Repeat([]byte("x"), 2000)) {
		t.Error("SignFile changed a file it rejected")
	}
}

// FuzzIsSigned checks that IsSigned returns a result or an error for any
// bytes, never a panic, and that Verify checks every signed result against
// the key.
func FuzzIsSigned(f *testing.F) {
	f.Add([]byte{})
	f.Add(append(append(make([]byte, 100), 'P', 'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02), BlankComment()...))
	f.Add(append(append(make([]byte, 100), 'P', 'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02), append([]byte("QUJD"), bytes.Repeat([]byte{' '}, 508)...)...))

	f.Fuzz(func(t *testing.T, data []byte) {
		signed, err := IsSigned(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrMalformedComment) {
				t.Fatalf("IsSigned error does not wrap ErrMalformedComment: %v", err)
			}
			return
		}
		if !signed {
			return
		}
		k2048, _ := testKeys(t)
		verifyErr := Verify(bytes.NewReader(data), int64(len(data)), &k2048.PublicKey)
		if !errors.Is(verifyErr, ErrSignatureMismatch) {
			t.Fatalf("Verify of random bytes = %v, want ErrSignatureMismatch", verifyErr)
		}
	})
}

func FuzzParsePublicKeyBase64(f *testing.F) {
	k2048, _ := testKeys(f)
	b64, err := PublicKeyBase64(&k2048.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b64)
	f.Add("")
	f.Add("MIIB")

	f.Fuzz(func(t *testing.T, value string) {
		pub, err := ParsePublicKeyBase64(value)
		if err != nil {
			return
		}
		if err := CheckKeySize(pub); err != nil {
			t.Fatalf("ParsePublicKeyBase64 accepted a key that CheckKeySize rejects: %v", err)
		}
	})
}

func BenchmarkDigest(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	r := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Digest(context.Background(), r, r.Size()); err != nil {
			b.Fatal(err)
		}
	}
}
