package signing

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// Errors that the key loaders wrap, for errors.Is.
var (
	// ErrKeystorePassword reports a PKCS#12 keystore that the given
	// password (possibly empty) does not open. A command can ask for the
	// password and try again.
	ErrKeystorePassword = errors.New("wrong keystore password")
	// ErrEncryptedPEM reports a password-protected PEM key, which the
	// loaders do not decrypt.
	ErrEncryptedPEM = errors.New("encrypted PEM keys are not supported")
)

// Magic numbers at the start of Java keystores: JKS, then JCEKS.
var (
	jksMagic   = []byte{0xfe, 0xed, 0xfe, 0xed}
	jceksMagic = []byte{0xce, 0xce, 0xce, 0xce}
)

// LoadPrivateKey reads the RSA private key that signs archives from path:
// a PEM "RSA PRIVATE KEY" (PKCS #1) or "PRIVATE KEY" (PKCS #8), the same in
// DER, or a PKCS #12 keystore (.p12, .pfx) opened with password. It rejects
// encrypted PEM, keys other than RSA and sizes other than 2048 to 3072
// bits. Errors name path but never the password.
func LoadPrivateKey(path string, password string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}

	key, err := parsePrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}

	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load private key %s: %s keys cannot sign archives: use a 2048- or 3072-bit RSA key", path, keyAlgorithm(key))
	}
	if err := CheckKeySize(&rsaKey.PublicKey); err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	return rsaKey, nil
}

// LoadPublicKey reads the RSA public key that verifies archives from path.
// It accepts everything LoadPrivateKey does, plus a certificate (PEM or
// DER), a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY"
// (PKCS #1), a DER SubjectPublicKeyInfo, a file with the base64
// SubjectPublicKeyInfo of config.xml, and a PKCS #12 trust store of
// certificates only.
func LoadPublicKey(path string, password string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load public key: %w", err)
	}

	key, err := parsePublicKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("load public key %s: %w", path, err)
	}

	pub, err := rsaPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("load public key %s: %w", path, err)
	}
	if err := CheckKeySize(pub); err != nil {
		return nil, fmt.Errorf("load public key %s: %w", path, err)
	}
	return pub, nil
}

// parsePrivateKey returns the private key in data, of any algorithm.
func parsePrivateKey(data []byte, password string) (any, error) {
	if isPEM(data) {
		return parsePEMPrivateKey(data)
	}

	if key, err := x509.ParsePKCS8PrivateKey(data); err == nil {
		return key, nil
	}
	if key, err := x509.ParsePKCS1PrivateKey(data); err == nil {
		return key, nil
	}

	if _, err := x509.ParseCertificate(data); err == nil {
		return nil, errNoPrivateKey("a certificate")
	}
	if _, err := x509.ParsePKIXPublicKey(data); err == nil {
		return nil, errNoPrivateKey("a public key")
	}

	key, _, _, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, keystoreError(data, password, err)
	}
	return key, nil
}

func errNoPrivateKey(kind string) error {
	return fmt.Errorf("the file is %s, not a private key: give the private key or the PKCS#12 keystore that signs", kind)
}

func parsePEMPrivateKey(data []byte) (any, error) {
	var others []string
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, encryptedPEMError()
		case "RSA PRIVATE KEY":
			if isLegacyEncrypted(block) {
				return nil, encryptedPEMError()
			}
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			return x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			return nil, errors.New("ECDSA keys cannot sign archives: use a 2048- or 3072-bit RSA key")
		default:
			others = append(others, block.Type)
		}
	}

	if len(others) > 0 {
		return nil, fmt.Errorf("no private key in the PEM file, only %s: give the private key or the PKCS#12 keystore that signs", strings.Join(others, ", "))
	}
	return nil, errors.New("no PEM block found: expected a PEM or DER RSA private key or a PKCS#12 keystore")
}

// parsePublicKey returns the public key in data, of any algorithm.
func parsePublicKey(data []byte, password string) (any, error) {
	if isPEM(data) {
		return parsePEMPublicKey(data)
	}

	if cert, err := x509.ParseCertificate(data); err == nil {
		return cert.PublicKey, nil
	}
	if key, err := x509.ParsePKIXPublicKey(data); err == nil {
		return key, nil
	}
	if key, err := x509.ParsePKCS1PublicKey(data); err == nil {
		return key, nil
	}
	if key, err := parsePrivateKeyDER(data); err == nil {
		return publicOf(key)
	}
	if b64 := string(bytes.TrimSpace(data)); isBase64Text(b64) {
		if key, err := ParsePublicKeyBase64(b64); err == nil {
			return key, nil
		}
	}

	key, cert, _, err := pkcs12.DecodeChain(data, password)
	if err == nil {
		if cert != nil {
			return cert.PublicKey, nil
		}
		return publicOf(key)
	}
	if isPasswordError(err) {
		return nil, keystoreError(data, password, err)
	}

	// A Java trust store holds certificates marked as trusted and no
	// private key.
	certs, storeErr := pkcs12.DecodeTrustStore(data, password)
	if storeErr == nil && len(certs) > 0 {
		return certs[0].PublicKey, nil
	}
	if storeErr != nil && strings.Contains(err.Error(), "private key missing") {
		return nil, errors.New("the PKCS#12 file contains no private key and no Java trusted certificate: extract the certificate with \"openssl pkcs12 -in FILE -nokeys -out cert.pem\" and give cert.pem")
	}
	return nil, keystoreError(data, password, err)
}

func parsePEMPublicKey(data []byte) (any, error) {
	var others []string
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("invalid certificate: %w", err)
			}
			return cert.PublicKey, nil
		case "PUBLIC KEY":
			return x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			return x509.ParsePKCS1PublicKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY":
			key, err := parsePEMPrivateKey(pem.EncodeToMemory(block))
			if err != nil {
				return nil, err
			}
			return publicOf(key)
		default:
			others = append(others, block.Type)
		}
	}

	if len(others) > 0 {
		return nil, fmt.Errorf("no key or certificate in the PEM file, only %s", strings.Join(others, ", "))
	}
	return nil, errors.New("no PEM block found: expected a key, a certificate or a PKCS#12 keystore")
}

func parsePrivateKeyDER(data []byte) (any, error) {
	if key, err := x509.ParsePKCS8PrivateKey(data); err == nil {
		return key, nil
	}
	return x509.ParsePKCS1PrivateKey(data)
}

// publicOf returns the public half of a private key.
func publicOf(key any) (any, error) {
	signer, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T: use a 2048- or 3072-bit RSA key", key)
	}
	return signer.Public(), nil
}

// keystoreError explains why data did not open as a PKCS#12 keystore.
func keystoreError(data []byte, password string, err error) error {
	switch {
	case isPasswordError(err) && password == "":
		return fmt.Errorf("%w: the PKCS#12 keystore is protected by a password: give it with --keystore-password or MFPDEV_KEYSTORE_PASSWORD", ErrKeystorePassword)
	case isPasswordError(err):
		return fmt.Errorf("%w: the PKCS#12 keystore does not open with the given password: check --keystore-password or MFPDEV_KEYSTORE_PASSWORD", ErrKeystorePassword)
	case bytes.HasPrefix(data, jksMagic) || bytes.HasPrefix(data, jceksMagic):
		return errors.New("Java keystores (JKS, JCEKS) are not supported: convert it with \"keytool -importkeystore -srckeystore FILE -destkeystore key.p12 -deststoretype pkcs12\"")
	case looksLikePKCS12(data):
		return fmt.Errorf("invalid PKCS#12 keystore: %w", err)
	}
	return errors.New("unrecognized format: expected a PEM or DER RSA key, a certificate or a PKCS#12 keystore (.p12, .pfx)")
}

// isPasswordError reports whether a PKCS#12 error comes from the password:
// a MAC that does not match, or a decryption that fails when there is no
// MAC to check.
func isPasswordError(err error) bool {
	return errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption)
}

// looksLikePKCS12 reports whether data starts like a DER PFX: a SEQUENCE
// whose first element is the INTEGER 3.
func looksLikePKCS12(data []byte) bool {
	if len(data) < 8 || data[0] != 0x30 {
		return false
	}

	i := 2
	if data[1] >= 0x80 {
		i += int(data[1] & 0x7f)
	}
	return i+3 <= len(data) && bytes.Equal(data[i:i+3], []byte{0x02, 0x01, 0x03})
}

func isPEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "))
}

// isLegacyEncrypted reports whether a PEM block uses OpenSSL's
// "Proc-Type: 4,ENCRYPTED" header.
func isLegacyEncrypted(block *pem.Block) bool {
	return strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED")
}

func encryptedPEMError() error {
	return fmt.Errorf("%w: decrypt it with \"openssl pkey -in KEY.pem -out plain-key.pem\" or use a PKCS#12 keystore with --keystore-password", ErrEncryptedPEM)
}

// ParsePublicKeyBase64 parses the base64 DER SubjectPublicKeyInfo of an
// RSA key, the value of directUpdateAuthenticityPublicKey in config.xml.
// It ignores spaces and line breaks anywhere in b64 and accepts base64 with
// or without padding. It rejects a PKCS #1 RSAPublicKey or a certificate,
// which apps cannot read, and keys the comment cannot carry signatures of.
func ParsePublicKeyBase64(b64 string) (*rsa.PublicKey, error) {
	compact := strings.Join(strings.Fields(b64), "")
	if compact == "" {
		return nil, errors.New("parse public key: empty value: set it to the output of \"mfpdev keys public KEY\"")
	}

	der, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		der, err = base64.RawStdEncoding.DecodeString(compact)
	}
	if err != nil {
		return nil, fmt.Errorf("parse public key: invalid base64: %w", err)
	}

	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %s: set it to the output of \"mfpdev keys public KEY\"", describeDER(der))
	}

	pub, err := rsaPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	if err := CheckKeySize(pub); err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return pub, nil
}

// describeDER names what a DER value that is not a SubjectPublicKeyInfo is.
func describeDER(der []byte) string {
	if _, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return "the value is a PKCS#1 RSAPublicKey, but apps read a DER SubjectPublicKeyInfo"
	}
	if _, err := x509.ParseCertificate(der); err == nil {
		return "the value is a certificate, but apps read the DER SubjectPublicKeyInfo of its key"
	}
	if _, err := parsePrivateKeyDER(der); err == nil {
		return "the value is a private key, which must never go into config.xml"
	}
	return "the value is not a DER SubjectPublicKeyInfo"
}

// isBase64Text reports whether s contains only base64 characters and
// whitespace and is at least 300 bytes long. The base64 of a 2048-bit
// SubjectPublicKeyInfo is 392 bytes.
func isBase64Text(s string) bool {
	if len(s) < 300 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '+', c == '/', c == '=', c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return false
		}
	}
	return true
}

// PublicKeyBase64 returns the standard padded base64 of the DER
// SubjectPublicKeyInfo of pub, the value for directUpdateAuthenticityPublicKey
// in config.xml.
func PublicKeyBase64(pub *rsa.PublicKey) (string, error) {
	if pub == nil {
		return "", errors.New("encode public key: no key")
	}

	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// Generate returns a new RSA key of bits bits, which must be 2048 or 3072.
func Generate(bits int) (*rsa.PrivateKey, error) {
	if bits != 2048 && bits != 3072 {
		return nil, fmt.Errorf("generate key: %d-bit keys are not supported: use 2048 or 3072 bits, because smaller keys are weak and signatures of larger ones do not fit the %d-byte zip comment", bits, CommentSize)
	}

	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate %d-bit RSA key: %w", bits, err)
	}
	return key, nil
}

// EncodePrivateKeyPEM returns key as a PEM "PRIVATE KEY" block (PKCS #8).
func EncodePrivateKeyPEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKeyPEM returns pub as a PEM "PUBLIC KEY" block
// (SubjectPublicKeyInfo), the form "openssl pkey -pubout" writes.
func EncodePublicKeyPEM(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
