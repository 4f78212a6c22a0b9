package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/flate"
)

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// zerosEntry returns a deflated entry of size zero bytes.
func zerosEntry(t testing.TB, name string, size int64) rawEntry {
	t.Helper()

	var packed bytes.Buffer
	fw, err := flate.NewWriter(&packed, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	crc := crc32.NewIEEE()
	for written := int64(0); written < size; {
		n := min(int64(len(chunk)), size-written)
		fw.Write(chunk[:n])
		crc.Write(chunk[:n])
		written += n
	}
	fw.Close()

	h := *newFileHeader(name, zip.Deflate, crc.Sum32(), int64(packed.Len()), size, testModTime)
	return rawEntry{Header: h, Raw: packed.Bytes()}
}

func TestReadRejectsGigabyteOfZeros(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 1 GB")
	}

	data := withEntries(t, writeSample(t, WriteOptions{}), func(e []rawEntry) []rawEntry {
		return append(e, zerosEntry(t, "www/zeros.bin", 1_000_000_000))
	})

	counter := &countingReaderAt{r: bytes.NewReader(data)}
	_, err := Read(context.Background(), counter, int64(len(data)), ReadOptions{})

	var invalid *InvalidArchiveError
	if !errors.As(err, &invalid) {
		t.Fatalf("Read returned %v, expected *InvalidArchiveError", err)
	}
	expectProblem(t, invalid.Problems, "www/zeros.bin", "compression ratio")
	if n := counter.n.Load(); n > int64(len(data))/2 {
		t.Errorf("read %d bytes of a %d-byte archive to reject it", n, len(data))
	}
}

func TestReadLimits(t *testing.T) {
	valid := writeSample(t, WriteOptions{})

	expectProblem(t, problemsOf(t, valid, ReadOptions{Limits: Limits{MaxEntries: 3}}), "", "10 entries, over the limit of 3")
	expectProblem(t, problemsOf(t, valid, ReadOptions{Limits: Limits{MaxUncompressed: 1000}}), "", "total uncompressed size")

	bomb := withEntries(t, valid, func(e []rawEntry) []rawEntry {
		return append(e, zerosEntry(t, "www/zeros.bin", 8<<20))
	})
	expectProblem(t, problemsOf(t, bomb, ReadOptions{}), "www/zeros.bin", "compression ratio")
	if _, err := readBytes(bomb, ReadOptions{Limits: Limits{MaxRatio: 2000}}); err == nil || bytes.Contains([]byte(err.Error()), []byte("ratio")) {
		t.Errorf("with a ratio limit of 2000, Read returned %v, expected only the missing digest", err)
	}
}

// TestMeteredReaderCountsBytes checks the limits applied while reading,
// whatever the headers declared.
func TestMeteredReaderCountsBytes(t *testing.T) {
	zeros := func() io.Reader { return io.LimitReader(zeroReader{}, 4<<20) }
	cases := []struct {
		limits Limits
		packed int64
		want   string
	}{
		{Limits{MaxUncompressed: 3 << 20, MaxRatio: 1000}, 1 << 20, limitUncompressed},
		{Limits{MaxUncompressed: 1 << 30, MaxRatio: 2}, 1 << 20, limitRatio},
		{Limits{MaxUncompressed: 1 << 30, MaxRatio: 4}, 1 << 20, ""},
	}

	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c.limits), func(t *testing.T) {
			m := &meteredReader{ctx: context.Background(), r: zeros(), entry: "www/a", packed: c.packed, budget: &budget{limits: c.limits}}
			_, err := io.Copy(io.Discard, m)

			var limit *LimitError
			switch {
			case c.want == "" && err != nil:
				t.Errorf("error %v, expected none", err)
			case c.want != "" && !errors.As(err, &limit):
				t.Errorf("error %v, expected a LimitError", err)
			case c.want != "" && limit.Limit != c.want:
				t.Errorf("limit %q, expected %q", limit.Limit, c.want)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
