package signing

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
)

// cryptoSHA256 names the hash for rsa.SignPKCS1v15 and rsa.VerifyPKCS1v15.
const cryptoSHA256 = crypto.SHA256

// Key sizes in bits whose signatures fit the 512-byte comment and are not
// weak. A k-bit key gives a signature of ceil(k/8) bytes, and its base64 is
// 4*ceil(bytes/3) long: 344 bytes for 2048 bits, 512 for 3072, 684 for 4096.
const (
	MinKeyBits = 2048
	MaxKeyBits = 3072
)

// CheckKeySize returns an error unless pub is between MinKeyBits and
// MaxKeyBits long.
func CheckKeySize(pub *rsa.PublicKey) error {
	bits := pub.N.BitLen()
	switch {
	case bits > MaxKeyBits:
		return fmt.Errorf("the signature of a %d-bit RSA key does not fit the %d-byte zip comment: use a 2048- or 3072-bit RSA key",
			bits, CommentSize)
	case bits < MinKeyBits:
		return fmt.Errorf("a %d-bit RSA key is too weak to sign archives: use a 2048- or 3072-bit RSA key", bits)
	}
	return nil
}

// keyAlgorithm names the algorithm of a public or private key for errors.
func keyAlgorithm(key any) string {
	switch key.(type) {
	case *rsa.PublicKey, *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PublicKey, *ecdsa.PrivateKey:
		return "ECDSA"
	case ed25519.PublicKey, ed25519.PrivateKey, *ed25519.PrivateKey:
		return "Ed25519"
	case *ecdh.PublicKey, *ecdh.PrivateKey:
		return "ECDH"
	default:
		return fmt.Sprintf("%T", key)
	}
}
