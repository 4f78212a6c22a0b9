package bundle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/mfpdev/mfpdev/pkg/signing"
)

// createOutputs creates the destination folders and one temp file per job.
func createOutputs(jobs []Job, opts WriteOptions) ([]*output, error) {
	outs := make([]*output, 0, len(jobs))
	for i := range jobs {
		o, err := newOutput(&jobs[i], opts.ModTime, opts.level())
		if err != nil {
			for _, o := range outs {
				o.discard()
			}

			return nil, err
		}
		outs = append(outs, o)
	}

	return outs, nil
}

func newOutput(job *Job, modTime time.Time, level int) (*output, error) {
	dir := filepath.Dir(job.Dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write archive %s: %w", job.Dest, err)
	}

	f, err := os.CreateTemp(dir, "."+filepath.Base(job.Dest)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write archive %s: %w", job.Dest, err)
	}
	// CreateTemp makes the file private (0600); an archive is meant to be
	// shared, so it gets the mode of any other build output.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("write archive %s: %w", job.Dest, err)
	}

	o := &output{job: job, modTime: modTime, level: level, file: f}
	o.hasher = newTailHasher(f, signing.CommentSize)
	o.buf = bufio.NewWriterSize(o.hasher, 64<<10)
	o.zw = zip.NewWriter(o.buf)

	return o, nil
}

// writeEntry appends the file entry "www/"+path with the bytes of b.
func (o *output) writeEntry(path string, b *blob) error {
	fh := newFileHeader("www/"+path, b.method, b.crc, b.packed, b.size, o.modTime)
	w, err := o.zw.CreateRaw(fh)
	if err != nil {
		return err
	}

	switch {
	case b.spill != nil:
		err = copyExact(w, io.NewSectionReader(b.spill, 0, b.packed), b.packed)
	case b.reread != nil:
		err = copySource(w, b.reread, b.crc, b.size)
	default:
		_, err = w.Write(b.data)
	}
	if err != nil {
		return err
	}

	o.digests = append(o.digests, FileDigest{Path: path, Size: b.size, SHA256: hexSum(b.sum[:])})
	o.total += b.size

	return nil
}

// copyExact copies exactly n bytes from r to w.
func copyExact(w io.Writer, r io.Reader, n int64) error {
	written, err := io.Copy(w, io.LimitReader(r, n))
	if err != nil {
		return err
	}
	if written != n {
		return fmt.Errorf("read %d bytes of %d", written, n)
	}

	return nil
}

// copySource copies a stored source file again, checking that it still
// has the size and CRC-32 it had when it was first read.
func copySource(w io.Writer, src *source, crc uint32, size int64) error {
	r, err := src.open()
	if err != nil {
		return err
	}
	defer r.Close()

	h := crc32.NewIEEE()
	if err := copyExact(io.MultiWriter(w, h), r, size); err != nil {
		return fmt.Errorf("%s: %w", src.name(), err)
	}
	if h.Sum32() != crc {
		return fmt.Errorf("%s changed while the archive was written: run the command again", src.name())
	}

	return nil
}

// finish writes the metadata and the central directory, signs the file
// when signer is set, and syncs the temp file to disk.
func (o *output) finish(signer crypto.Signer) (Result, error) {
	if err := o.writeMetadata(); err != nil {
		return Result{}, err
	}

	blank := signing.BlankComment()
	if err := o.zw.SetComment(string(blank)); err != nil {
		return Result{}, err
	}
	if err := o.zw.Close(); err != nil {
		return Result{}, err
	}
	if err := o.buf.Flush(); err != nil {
		return Result{}, err
	}

	size := o.hasher.count
	final, err := o.hasher.sumWith(blank)
	if err != nil {
		return Result{}, err
	}

	if signer != nil {
		comment, err := signComment(signer, final)
		if err != nil {
			return Result{}, err
		}
		if _, err := o.file.WriteAt(comment, size-signing.CommentSize); err != nil {
			return Result{}, err
		}
		if final, err = o.hasher.sumWith(comment); err != nil {
			return Result{}, err
		}
	}

	if err := o.file.Sync(); err != nil {
		return Result{}, err
	}

	return Result{Path: o.job.Dest, PackedSize: size, SHA256: hexSum(final), Signed: signer != nil}, nil
}

// signComment signs the SHA-256 of the file written with a blank comment
// and returns the 512-byte comment that carries the signature.
func signComment(signer crypto.Signer, digest []byte) ([]byte, error) {
	sig, err := signing.SignDigest(signer, digest)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}

	comment, err := signing.EncodeComment(sig)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if len(comment) < signing.CommentSize {
		comment = append(comment, bytes.Repeat([]byte{' '}, signing.CommentSize-len(comment))...)
	}
	if len(comment) != signing.CommentSize {
		return nil, fmt.Errorf("sign: encoded signature is %d bytes, more than the %d-byte comment", len(comment), signing.CommentSize)
	}

	return comment, nil
}

// writeMetadata appends the metadata file as the last entry.
func (o *output) writeMetadata() error {
	meta := o.job.Meta
	meta.FormatVersion = FormatVersion
	meta.Files = len(o.digests)
	meta.UnpackedSize = o.total
	meta.Digests = o.digests

	raw, err := marshalMetadata(&meta)
	if err != nil {
		return err
	}

	return writeRootFile(o, MetadataName, raw)
}

// commit closes the temp file and renames it over the destination.
func (o *output) commit() error {
	if err := o.file.Close(); err != nil {
		return fmt.Errorf("write archive %s: %w", o.job.Dest, err)
	}
	if err := os.Rename(o.file.Name(), o.job.Dest); err != nil {
		return fmt.Errorf("write archive %s: %w", o.job.Dest, err)
	}
	o.done = true

	// Sync the folder to make the rename durable. A folder that cannot be
	// synced (on some network file systems) still has the complete file.
	if d, err := os.Open(filepath.Dir(o.job.Dest)); err == nil {
		d.Sync()
		d.Close()
	}

	return nil
}

// discard removes the temp file unless it was already renamed.
func (o *output) discard() {
	if o.done {
		return
	}
	o.file.Close()
	os.Remove(o.file.Name())
}

// writeRootFile appends a deflated entry at the zip root, written raw so
// that it has no data descriptor.
func writeRootFile(o *output, name string, raw []byte) error {
	var packed bytes.Buffer
	fw, err := flate.NewWriter(&packed, o.level)
	if err != nil {
		return err
	}
	fw.Write(raw)
	if err := fw.Close(); err != nil {
		return err
	}

	fh := newFileHeader(name, zip.Deflate, crc32.ChecksumIEEE(raw), int64(packed.Len()), int64(len(raw)), o.modTime)
	w, err := o.zw.CreateRaw(fh)
	if err != nil {
		return err
	}
	_, err = w.Write(packed.Bytes())

	return err
}
