package bundle

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/mfpdev/mfpdev/pkg/signing"
)

func generateKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()

	key, err := signing.Generate(2048)
	if err != nil {
		t.Fatal(err)
	}

	return key
}

func TestWriteSigned(t *testing.T) {
	key := generateKey(t)
	dir := t.TempDir()
	srcs, meta := makeTree(t, filepath.Join(dir, "www"), sampleFiles())
	dest := filepath.Join(dir, "app.zip")

	res := writeOne(t, dest, srcs, meta, WriteOptions{ModTime: testModTime, Signer: key})
	if !res.Signed {
		t.Error("Result.Signed = false")
	}

	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, signed file hashes to %x", res.SHA256, sum)
	}
	if err := signing.Verify(bytes.NewReader(data), int64(len(data)), &key.PublicKey); err != nil {
		t.Fatalf("signing.Verify: %v", err)
	}

	a, err := readBytes(data, ReadOptions{PublicKeys: []*rsa.PublicKey{&generateKey(t).PublicKey, &key.PublicKey}, RequireSignature: true})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Signed {
		t.Error("Archive.Signed = false")
	}

	// The unsigned archive of the same files differs only in its comment.
	unsigned := writeSample(t, WriteOptions{})
	if !bytes.Equal(unsigned[:len(unsigned)-512], data[:len(data)-512]) {
		t.Error("signed archive differs from the unsigned one before the comment")
	}
}

func TestReadSignatureProblems(t *testing.T) {
	key := generateKey(t)
	signed := writeSample(t, WriteOptions{Signer: key})

	other := generateKey(t)
	expectProblem(t, problemsOf(t, signed, ReadOptions{PublicKeys: []*rsa.PublicKey{&other.PublicKey}}), "", "signature")

	unsigned := writeSample(t, WriteOptions{})
	expectProblem(t, problemsOf(t, unsigned, ReadOptions{RequireSignature: true}), "", "not signed")

	// One changed byte in the central directory keeps every entry
	// readable but breaks the signature.
	tampered := append([]byte(nil), signed...)
	at := bytes.LastIndex(tampered, []byte("www/index.html"))
	tampered[at+4] = 'I'
	expectProblem(t, problemsOf(t, tampered, ReadOptions{PublicKeys: []*rsa.PublicKey{&key.PublicKey}}), "", "signature")
}
