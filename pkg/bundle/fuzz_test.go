package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
)

// FuzzRead feeds Read arbitrary bytes. Read must not panic, and every
// archive it accepts must have entries that read back with the size and
// SHA-256 it reported.
func FuzzRead(f *testing.F) {
	valid := writeSample(f, WriteOptions{})
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(valid[:len(valid)-1])
	f.Add(append(append([]byte(nil), valid...), 0))

	flipped := append([]byte(nil), valid...)
	flipped[len(flipped)/3] ^= 0xff
	f.Add(flipped)

	f.Add(withEntries(f, valid, func(e []rawEntry) []rawEntry {
		return append(e, storedEntry("www/../x", []byte("x")), storedEntry("www/index.html", nil))
	}))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})

	limits := Limits{MaxEntries: 1000, MaxUncompressed: 16 << 20, MaxRatio: 200}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Read(context.Background(), bytes.NewReader(data), int64(len(data)), ReadOptions{Limits: limits})
		if err != nil {
			return
		}

		for _, e := range a.WWWEntries() {
			rc, err := a.OpenEntry(e.Name)
			if err != nil {
				t.Fatalf("accepted archive: open %s: %v", e.Name, err)
			}
			h := sha256.New()
			n, err := io.Copy(h, rc)
			rc.Close()
			if err != nil {
				t.Fatalf("accepted archive: read %s: %v", e.Name, err)
			}
			if n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
				t.Fatalf("accepted archive: %s reads back as %d bytes, Read reported %d", e.Name, n, e.Size)
			}
		}
	})
}
