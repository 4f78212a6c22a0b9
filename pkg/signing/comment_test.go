package signing

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Keys are slow to generate, so the tests share one of each size.
var (
	keyOnce sync.Once
	key2048 *rsa.PrivateKey
	key3072 *rsa.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if key3072, err = rsa.GenerateKey(rand.Reader, 3072); err != nil {
			panic(err)
		}
	})
	return key2048, key3072
}

// writeBlankZip returns the bytes of a small zip whose comment is 512 spaces.
func writeBlankZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"www/index.html", "www/js/app.js"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(strings.Repeat("content of "+name+"\n", 50))); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.SetComment(string(BlankComment())); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signZip signs a zip written with a blank comment the way the archive
// writer does: hash, sign, put the comment in place.
func signZip(t *testing.T, blank []byte, key *rsa.PrivateKey) []byte {
	t.Helper()
	digest := sha256.Sum256(blank)
	sig, err := SignDigest(key, digest[:])
	if err != nil {
		t.Fatalf("SignDigest: %v", err)
	}
	comment, err := EncodeComment(sig)
	if err != nil {
		t.Fatalf("EncodeComment: %v", err)
	}
	signed := bytes.Clone(blank)
	copy(signed[len(signed)-CommentSize:], comment)
	return signed
}

func TestBlankComment(t *testing.T) {
	c := BlankComment()
	if len(c) != CommentSize {
		t.Fatalf("len = %d, want %d", len(c), CommentSize)
	}
	if strings.Trim(string(c), " ") != "" {
		t.Errorf("comment has bytes other than spaces: %q", c)
	}
}

func TestEncodeCommentLayout(t *testing.T) {
	sig := bytes.Repeat([]byte{0xfb}, 256)
	c, err := EncodeComment(sig)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != CommentSize {
		t.Fatalf("len = %d, want %d", len(c), CommentSize)
	}
	// 256 bytes encode to 344 base64 bytes, with one '=' of padding.
	if c[343] != '=' || c[344] != ' ' || c[342] == ' ' {
		t.Errorf("comment around the end of the base64: %q", c[340:348])
	}
	if strings.Trim(string(c[344:]), " ") != "" {
		t.Errorf("bytes after the base64 are not all spaces")
	}
	if !strings.ContainsAny(string(c[:344]), "+/") {
		t.Errorf("expected the standard alphabet (+ and /) for 0xfb bytes: %q", c[:20])
	}
}

func TestEncodeCommentSizes(t *testing.T) {
	tests := []struct {
		sigLen  int
		wantErr string
	}{
		{sigLen: 256},
		{sigLen: 384},
		{sigLen: 385, wantErr: "use a 2048- or 3072-bit RSA key"},
		{sigLen: 512, wantErr: "684 bytes"},
		{sigLen: 0, wantErr: "empty signature"},
	}
	for _, tt := range tests {
		_, err := EncodeComment(make([]byte, tt.sigLen))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("EncodeComment(%d bytes): %v", tt.sigLen, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("EncodeComment(%d bytes) error = %v, want it to contain %q", tt.sigLen, err, tt.wantErr)
		}
	}
}

func TestSignAndVerify(t *testing.T) {
	k2048, k3072 := testKeys(t)
	blank := writeBlankZip(t)

	for _, key := range []*rsa.PrivateKey{k2048, k3072} {
		signed := signZip(t, blank, key)

		ok, err := IsSigned(bytes.NewReader(signed), int64(len(signed)))
		if err != nil || !ok {
			t.Errorf("%d bits: IsSigned = %v, %v; want true", key.N.BitLen(), ok, err)
		}
		if err := Verify(bytes.NewReader(signed), int64(len(signed)), &key.PublicKey); err != nil {
			t.Errorf("%d bits: Verify: %v", key.N.BitLen(), err)
		}

		// The signed file is still a zip that archive/zip reads, with the
		// signature as its comment.
		zr, err := zip.NewReader(bytes.NewReader(signed), int64(len(signed)))
		if err != nil {
			t.Fatalf("%d bits: archive/zip cannot read the signed file: %v", key.N.BitLen(), err)
		}
		if len(zr.Comment) != CommentSize || zr.Comment[0] == ' ' {
			t.Errorf("%d bits: zip comment as archive/zip reads it: %q", key.N.BitLen(), zr.Comment[:16])
		}
	}
}

func TestIsSignedBlank(t *testing.T) {
	blank := writeBlankZip(t)
	ok, err := IsSigned(bytes.NewReader(blank), int64(len(blank)))
	if err != nil || ok {
		t.Errorf("IsSigned(blank) = %v, %v; want false, nil", ok, err)
	}
}

func TestVerifyErrors(t *testing.T) {
	k2048, k3072 := testKeys(t)
	blank := writeBlankZip(t)
	signed := signZip(t, blank, k2048)

	tampered := bytes.Clone(signed)
	tampered[40] ^= 0x01

	tamperedComment := bytes.Clone(signed)
	// Swap one base64 character for another valid one, so the comment
	// still decodes but to a different signature.
	at := len(tamperedComment) - CommentSize + 10
	if tamperedComment[at] == 'A' {
		tamperedComment[at] = 'B'
	} else {
		tamperedComment[at] = 'A'
	}

	trailing := bytes.Clone(signed)
	trailing[len(trailing)-1] = 'x'

	badBase64 := bytes.Clone(blank)
	copy(badBase64[len(badBase64)-CommentSize:], "abc*def")

	lineBreak := bytes.Clone(signed)
	lineBreak[len(lineBreak)-CommentSize+76] = '\n'

	var shortComment bytes.Buffer
	zw := zip.NewWriter(&shortComment)
	if err := zw.SetComment("signed"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	// Pad it so the file is long enough to hold a 512-byte comment.
	padded := append(bytes.Repeat([]byte{' '}, 600), shortComment.Bytes()...)

	tests := []struct {
		name    string
		file    []byte
		key     *rsa.PublicKey
		want    error
		wantMsg string
	}{
		{"unsigned", blank, &k2048.PublicKey, ErrNotSigned, "512 spaces"},
		{"tampered body", tampered, &k2048.PublicKey, ErrSignatureMismatch, "changed after signing"},
		{"tampered signature", tamperedComment, &k2048.PublicKey, ErrSignatureMismatch, "signed with another key"},
		{"other key", signed, &k3072.PublicKey, ErrSignatureMismatch, "does not match this key"},
		{"bytes after the first space", trailing, &k2048.PublicKey, ErrMalformedComment, "after the first space"},
		{"line break in signature", lineBreak, &k2048.PublicKey, ErrMalformedComment, "line break"},
		{"invalid base64", badBase64, &k2048.PublicKey, ErrMalformedComment, "not valid base64"},
		{"6-byte comment", padded, &k2048.PublicKey, ErrMalformedComment, "not 512 bytes"},
		{"short file", []byte("PK"), &k2048.PublicKey, ErrMalformedComment, "shorter than a zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(bytes.NewReader(tt.file), int64(len(tt.file)), tt.key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Verify error = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestVerifyCancelled(t *testing.T) {
	k2048, _ := testKeys(t)
	signed := signZip(t, writeBlankZip(t), k2048)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := VerifyContext(ctx, bytes.NewReader(signed), int64(len(signed)), &k2048.PublicKey)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyContext error = %v, want context.Canceled", err)
	}
}

func TestSignDigestRejects(t *testing.T) {
	k2048, _ := testKeys(t)
	digest := sha256.Sum256([]byte("x"))

	if _, err := SignDigest(k2048, digest[:20]); err == nil || !strings.Contains(err.Error(), "20 bytes") {
		t.Errorf("SignDigest with a 20-byte digest: %v", err)
	}

	k4096, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	_, err = SignDigest(k4096, digest[:])
	if err == nil || !strings.Contains(err.Error(), "4096-bit") || !strings.Contains(err.Error(), "use a 2048- or 3072-bit RSA key") {
		t.Errorf("SignDigest with a 4096-bit key: %v", err)
	}
}

// requireOpenSSL returns the path of the openssl command. It skips the
// test when openssl is missing, unless CI=true, where it fails.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl not found on PATH; CI must provide it: %v", err)
		}
		t.Skip("openssl not found on PATH")
	}
	return path
}

func runOpenSSL(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(requireOpenSSL(t), args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenSSLVerifiesSignature checks the signature with a verifier that
// shares no code with this package: openssl dgst, over the file with its
// comment put back to spaces.
func TestOpenSSLVerifiesSignature(t *testing.T) {
	requireOpenSSL(t)
	k2048, _ := testKeys(t)
	dir := t.TempDir()

	blank := writeBlankZip(t)
	signed := signZip(t, blank, k2048)

	sig, err := decodeComment(signed[len(signed)-CommentSize:])
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&k2048.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPath := writeFile(t, filepath.Join(dir, "pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	sigPath := writeFile(t, filepath.Join(dir, "sig.bin"), sig)

	blanked := bytes.Clone(signed)
	copy(blanked[len(blanked)-CommentSize:], BlankComment())
	blankedPath := writeFile(t, filepath.Join(dir, "blanked.zip"), blanked)

	out, err := runOpenSSL(t, "dgst", "-sha256", "-verify", pubPath, "-signature", sigPath, blankedPath)
	if err != nil {
		t.Fatalf("openssl rejected the signature: %v\n%s", err, out)
	}

	blanked[100] ^= 0x01
	writeFile(t, blankedPath, blanked)
	out, err = runOpenSSL(t, "dgst", "-sha256", "-verify", pubPath, "-signature", sigPath, blankedPath)
	if err == nil {
		t.Errorf("openssl accepted the signature of a tampered file:\n%s", out)
	}
}

// TestVerifyOpenSSLSignature checks the other direction: a signature that
// openssl made over a blank-comment zip, put into the comment, verifies.
func TestVerifyOpenSSLSignature(t *testing.T) {
	requireOpenSSL(t)
	k2048, _ := testKeys(t)
	dir := t.TempDir()

	der, err := x509.MarshalPKCS8PrivateKey(k2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := writeFile(t, filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	blank := writeBlankZip(t)
	blankPath := writeFile(t, filepath.Join(dir, "blank.zip"), blank)
	sigPath := filepath.Join(dir, "sig.bin")

	out, err := runOpenSSL(t, "dgst", "-sha256", "-sign", keyPath, "-out", sigPath, blankPath)
	if err != nil {
		t.Fatalf("openssl dgst -sign: %v\n%s", err, out)
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	comment, err := EncodeComment(sig)
	if err != nil {
		t.Fatal(err)
	}
	signed := bytes.Clone(blank)
	copy(signed[len(signed)-CommentSize:], comment)

	if err := Verify(bytes.NewReader(signed), int64(len(signed)), &k2048.PublicKey); err != nil {
		t.Errorf("Verify of an openssl signature: %v", err)
	}
}

func TestVerifyAnyKeys(t *testing.T) {
	k2048, k3072 := testKeys(t)
	signed := signZip(t, writeBlankZip(t), k3072)
	r := bytes.NewReader(signed)

	i, err := VerifyAny(context.Background(), r, r.Size(), []*rsa.PublicKey{&k2048.PublicKey, &k3072.PublicKey})
	if err != nil || i != 1 {
		t.Errorf("VerifyAny = %d, %v; want 1, nil", i, err)
	}

	i, err = VerifyAny(context.Background(), r, r.Size(), []*rsa.PublicKey{&k2048.PublicKey, &k2048.PublicKey})
	if !errors.Is(err, ErrSignatureMismatch) || i != -1 {
		t.Errorf("VerifyAny with no matching key = %d, %v; want -1, ErrSignatureMismatch", i, err)
	}
	if err != nil && !strings.Contains(err.Error(), "none of the 2 keys") {
		t.Errorf("VerifyAny error = %q, want it to name the key count", err)
	}
}
