package signing

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"os"
)

// SignArchive returns the comment that signs the archive in r, of size
// bytes, with s. The archive may be unsigned or signed already, because
// the digest always covers the file with a blank comment. The caller
// writes the result over the last 512 bytes.
func SignArchive(ctx context.Context, r io.ReaderAt, size int64, s crypto.Signer) ([]byte, error) {
	comment, err := signComment(ctx, r, size, s)
	if err != nil {
		return nil, fmt.Errorf("sign archive: %w", err)
	}
	return comment, nil
}

func signComment(ctx context.Context, r io.ReaderAt, size int64, s crypto.Signer) ([]byte, error) {
	if _, err := readComment(r, size); err != nil {
		return nil, err
	}

	digest, err := Digest(ctx, r, size)
	if err != nil {
		return nil, err
	}

	sig, err := signDigest(s, digest)
	if err != nil {
		return nil, err
	}
	return EncodeComment(sig)
}

// SignFile signs the archive at path in place with s, replacing its
// 512-byte comment. It replaces an existing signature.
// NOTE: the comment is written in place, so a crash during the 512-byte
// write can leave a comment that is neither blank nor a valid signature.
func SignFile(ctx context.Context, path string, s crypto.Signer) error {
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sign archive: %w", err)
	}
	defer file.Close()

	info, err := file.Stat()
	if err != nil {
		return fmt.Errorf("sign archive %s: %w", path, err)
	}

	comment, err := signComment(ctx, file, info.Size(), s)
	if err != nil {
		return fmt.Errorf("sign archive %s: %w", path, err)
	}

	if _, err := file.WriteAt(comment, info.Size()-CommentSize); err != nil {
		return fmt.Errorf("sign archive %s: %w", path, err)
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("sign archive %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("sign archive %s: %w", path, err)
	}
	return nil
}
