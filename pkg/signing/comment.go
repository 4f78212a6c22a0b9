// Package signing signs and verifies direct-update archives and loads the
// RSA keys that do it.
//
// An archive carries its signature in the zip comment, which is exactly
// CommentSize (512) bytes long and therefore the last 512 bytes of the file:
//
//   - An unsigned archive has a comment of 512 spaces (0x20).
//   - To sign, the writer produces the whole file with the 512-space
//     comment and computes an RSASSA-PKCS1-v1_5 signature with SHA-256
//     ("SHA256withRSA" in Java) over all of its bytes. It then writes the
//     standard, padded base64 of the signature at the start of the
//     comment, and the rest of the comment stays spaces.
//   - A verifier takes the last 512 bytes, cuts them at the first space,
//     decodes the base64, puts the 512 spaces back and verifies the
//     signature over the whole file.
//
// The base64 of a signature from a 4096-bit key is 684 bytes, so only RSA
// keys of 2048 to 3072 bits fit. The app trusts the key whose DER
// SubjectPublicKeyInfo is written, in base64, in the
// directUpdateAuthenticityPublicKey element of config.xml.
package signing

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// CommentSize is the length in bytes of the zip comment of every archive,
// signed or not.
const CommentSize = 512

// endOfCentralDirSize is the length of the zip end-of-central-directory
// record without its comment.
const endOfCentralDirSize = 22

var endOfCentralDirSignature = []byte{'P', 'K', 0x05, 0x06}

// Errors that Verify and IsSigned wrap, for errors.Is.
var (
	// ErrNotSigned reports an archive whose comment is 512 spaces.
	ErrNotSigned = errors.New("archive is not signed")
	// ErrMalformedComment reports a file whose last 512 bytes are not a
	// 512-byte zip comment holding base64 followed by spaces.
	ErrMalformedComment = errors.New("malformed signature comment")
	// ErrSignatureMismatch reports a signature that does not verify with
	// the given public key: the archive was changed after signing or was
	// signed with another key.
	ErrSignatureMismatch = errors.New("signature does not match this key")
)

// BlankComment returns the comment of an unsigned archive: 512 spaces.
// The caller owns the returned slice.
func BlankComment() []byte {
	return bytes.Repeat([]byte{' '}, CommentSize)
}

// EncodeComment returns the 512-byte comment that carries sig: its standard
// padded base64, followed by spaces. It rejects an empty signature and one
// whose base64 is longer than 512 bytes (a key larger than 3072 bits).
func EncodeComment(sig []byte) ([]byte, error) {
	if len(sig) == 0 {
		return nil, fmt.Errorf("encode signature comment: empty signature")
	}

	n := base64.StdEncoding.EncodedLen(len(sig))
	if n > CommentSize {
		return nil, fmt.Errorf("encode signature comment: the base64 of a %d-byte signature is %d bytes, more than the %d-byte zip comment: use a 2048- or 3072-bit RSA key",
			len(sig), n, CommentSize)
	}

	comment := BlankComment()
	base64.StdEncoding.Encode(comment, sig)
	return comment, nil
}

// SignDigest signs sha256Digest, the SHA-256 of the whole archive written
// with BlankComment, with RSASSA-PKCS1-v1_5. The signer must hold an RSA
// key whose signature fits the comment (2048 to 3072 bits). The result is
// ready for EncodeComment.
func SignDigest(s crypto.Signer, sha256Digest []byte) ([]byte, error) {
	sig, err := signDigest(s, sha256Digest)
	if err != nil {
		return nil, fmt.Errorf("sign archive: %w", err)
	}
	return sig, nil
}

func signDigest(s crypto.Signer, sha256Digest []byte) ([]byte, error) {
	if len(sha256Digest) != sha256.Size {
		return nil, fmt.Errorf("digest is %d bytes, a SHA-256 digest is %d", len(sha256Digest), sha256.Size)
	}

	pub, err := rsaPublicKey(s.Public())
	if err != nil {
		return nil, err
	}
	if err := CheckKeySize(pub); err != nil {
		return nil, err
	}

	// crypto.SHA256 as SignerOpts selects PKCS #1 v1.5 for RSA signers,
	// including *rsa.PrivateKey.
	return s.Sign(rand.Reader, sha256Digest, crypto.SHA256)
}

// IsSigned reports whether the archive in r, of size bytes, carries a
// signature in its comment. It returns false for a comment of 512 spaces
// and an error wrapping ErrMalformedComment when the file does not end with
// a 512-byte zip comment of base64 followed by spaces. It does not check
// the signature; Verify does.
func IsSigned(r io.ReaderAt, size int64) (bool, error) {
	comment, err := readComment(r, size)
	if err != nil {
		return false, err
	}

	sig, err := decodeComment(comment)
	if err != nil {
		return false, err
	}
	return sig != nil, nil
}

// readComment returns the last 512 bytes of the file after checking that
// they are the comment of the zip end-of-central-directory record.
func readComment(r io.ReaderAt, size int64) ([]byte, error) {
	if size < endOfCentralDirSize+CommentSize {
		return nil, fmt.Errorf("%w: file is %d bytes, shorter than a zip with a %d-byte comment: write the archive with mfpdev",
			ErrMalformedComment, size, CommentSize)
	}

	tail := make([]byte, endOfCentralDirSize+CommentSize)
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
		return nil, fmt.Errorf("read zip comment: %w", err)
	}

	// The record ends with the 2-byte comment length. Base64 and spaces
	// never contain byte 0x05, so a signature cannot imitate the record.
	if !bytes.Equal(tail[:4], endOfCentralDirSignature) ||
		binary.LittleEndian.Uint16(tail[endOfCentralDirSize-2:]) != CommentSize {
		return nil, fmt.Errorf("%w: the zip comment is not %d bytes: write the archive with mfpdev",
			ErrMalformedComment, CommentSize)
	}
	return tail[endOfCentralDirSize:], nil
}

// decodeComment returns the signature in a comment, or nil for a blank one.
// The signature is base64 up to the first space, and only spaces follow,
// because the bytes after the base64 are not covered by the signature.
func decodeComment(comment []byte) ([]byte, error) {
	end := bytes.IndexByte(comment, ' ')
	if end < 0 {
		end = len(comment)
	}

	if bytes.Count(comment[end:], []byte{' '}) != len(comment)-end {
		return nil, fmt.Errorf("%w: the zip comment has other bytes after the first space", ErrMalformedComment)
	}
	if end == 0 {
		return nil, nil
	}

	// The decoder skips line breaks, but a signature never contains them.
	if bytes.ContainsAny(comment[:end], "\r\n") {
		return nil, fmt.Errorf("%w: the signature contains a line break", ErrMalformedComment)
	}

	sig := make([]byte, base64.StdEncoding.DecodedLen(end))
	n, err := base64.StdEncoding.Strict().Decode(sig, comment[:end])
	if err != nil {
		return nil, fmt.Errorf("%w: the signature is not valid base64: %v", ErrMalformedComment, err)
	}
	return sig[:n], nil
}

func rsaPublicKey(pub crypto.PublicKey) (*rsa.PublicKey, error) {
	if k, ok := pub.(*rsa.PublicKey); ok {
		return k, nil
	}
	return nil, fmt.Errorf("%s keys cannot sign archives: use a 2048- or 3072-bit RSA key", keyAlgorithm(pub))
}
