package signing

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// Verify checks the signature in the comment of the archive in r, of size
// bytes, against pub. It reads the file in a stream and hashes it with the
// last 512 bytes replaced by spaces. The error wraps ErrNotSigned,
// ErrMalformedComment or ErrSignatureMismatch, so callers can tell an
// unsigned archive from a damaged or foreign one.
func Verify(r io.ReaderAt, size int64, pub *rsa.PublicKey) error {
	return VerifyContext(context.Background(), r, size, pub)
}

// VerifyContext is Verify that stops reading when ctx is done.
func VerifyContext(ctx context.Context, r io.ReaderAt, size int64, pub *rsa.PublicKey) error {
	if pub == nil {
		return errors.New("verify archive signature: no public key")
	}
	_, err := VerifyAny(ctx, r, size, []*rsa.PublicKey{pub})
	return err
}

// VerifyAny checks the signature of the archive in r against each key of
// pubs and returns the index of the first key that matches. It hashes the
// file once. Its errors are those of Verify; with several keys, a signature
// that matches none of them wraps ErrSignatureMismatch.
func VerifyAny(ctx context.Context, r io.ReaderAt, size int64, pubs []*rsa.PublicKey) (int, error) {
	if len(pubs) == 0 {
		return -1, errors.New("verify archive signature: no public key")
	}

	comment, err := readComment(r, size)
	if err != nil {
		return -1, fmt.Errorf("verify archive signature: %w", err)
	}

	sig, err := decodeComment(comment)
	if err != nil {
		return -1, fmt.Errorf("verify archive signature: %w", err)
	}
	if sig == nil {
		return -1, fmt.Errorf("verify archive signature: %w: its zip comment is 512 spaces", ErrNotSigned)
	}

	digest, err := Digest(ctx, r, size)
	if err != nil {
		return -1, fmt.Errorf("verify archive signature: %w", err)
	}

	for i, pub := range pubs {
		if pub != nil && rsa.VerifyPKCS1v15(pub, cryptoSHA256, digest, sig) == nil {
			return i, nil
		}
	}
	if len(pubs) == 1 && pubs[0] != nil {
		return -1, fmt.Errorf("verify archive signature: %w: the archive was changed after signing or signed with another key (%d-bit key, %d-byte signature)",
			ErrSignatureMismatch, pubs[0].N.BitLen(), len(sig))
	}
	return -1, fmt.Errorf("verify archive signature: %w: the archive was changed after signing or signed with none of the %d keys (%d-byte signature)",
		ErrSignatureMismatch, len(pubs), len(sig))
}

// Digest returns the SHA-256 of the size bytes of r with the last 512
// bytes replaced by spaces: the digest a signature covers, whether the
// archive is signed yet or not. It reads r in a stream.
func Digest(ctx context.Context, r io.ReaderAt, size int64) ([]byte, error) {
	if size < CommentSize {
		return nil, fmt.Errorf("hash archive: file is %d bytes, shorter than its %d-byte comment", size, CommentSize)
	}

	h := sha256.New()
	body := io.NewSectionReader(r, 0, size-CommentSize)
	if _, err := io.CopyBuffer(h, &contextReader{ctx: ctx, r: body}, make([]byte, 64<<10)); err != nil {
		return nil, fmt.Errorf("hash archive: %w", err)
	}

	h.Write(bytes.Repeat([]byte{' '}, CommentSize))
	return h.Sum(nil), nil
}

// contextReader stops a copy when its context is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
