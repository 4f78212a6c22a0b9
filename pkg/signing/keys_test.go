package signing

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

const keystorePassword = "s3cret-Keystore-pw"

// openSSLFiles are keys, certificates and keystores made by the openssl
// command, shared by the tests because RSA key generation is slow.
type openSSLFiles struct {
	dir string
	err error
}

var (
	openSSLOnce  sync.Once
	openSSLState openSSLFiles
)

// openSSLFixtures creates, once per test run, every file the key loading
// tests read, using only the openssl command.
func openSSLFixtures(t *testing.T) string {
	t.Helper()
	openssl := requireOpenSSL(t)

	openSSLOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mfpdev-signing-keys-")
		if err != nil {
			openSSLState.err = err
			return
		}
		openSSLState.dir = dir

		steps := [][]string{
			{"genrsa", "-out", "pkcs8.pem", "2048"},
			{"rsa", "-in", "pkcs8.pem", "-traditional", "-out", "pkcs1.pem"},
			{"pkey", "-in", "pkcs8.pem", "-outform", "DER", "-out", "pkcs8.der"},
			{"pkey", "-in", "pkcs8.pem", "-pubout", "-out", "pub.pem"},
			{"pkey", "-in", "pkcs8.pem", "-pubout", "-outform", "DER", "-out", "pub.der"},
			{"rsa", "-in", "pkcs8.pem", "-RSAPublicKey_out", "-out", "pub-pkcs1.pem"},
			{"req", "-x509", "-new", "-key", "pkcs8.pem", "-subj", "/CN=mfpdev test", "-days", "2", "-out", "cert.pem"},
			{"x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"},
			{"pkcs12", "-export", "-inkey", "pkcs8.pem", "-in", "cert.pem", "-passout", "pass:" + keystorePassword, "-out", "keystore.p12"},
			{"pkcs12", "-export", "-inkey", "pkcs8.pem", "-in", "cert.pem", "-passout", "pass:" + keystorePassword,
				"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-out", "legacy.pfx"},
			{"pkcs12", "-export", "-nokeys", "-in", "cert.pem", "-passout", "pass:" + keystorePassword, "-out", "certs-only.p12"},
			{"genrsa", "-out", "rsa3072.pem", "3072"},
			{"genrsa", "-out", "rsa4096.pem", "4096"},
			{"genrsa", "-out", "rsa1024.pem", "1024"},
			{"genrsa", "-aes256", "-passout", "pass:" + keystorePassword, "-out", "encrypted-pkcs8.pem", "2048"},
			{"rsa", "-in", "pkcs8.pem", "-traditional", "-aes256", "-passout", "pass:" + keystorePassword, "-out", "encrypted-pkcs1.pem"},
			{"ecparam", "-genkey", "-name", "prime256v1", "-out", "ec.pem"},
			{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec-pkcs8.pem"},
			{"genpkey", "-algorithm", "ED25519", "-out", "ed25519.pem"},
			{"pkey", "-in", "ec-pkcs8.pem", "-pubout", "-out", "ec-pub.pem"},
		}
		for _, args := range steps {
			cmd := exec.Command(openssl, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				openSSLState.err = errors.New("openssl " + strings.Join(args, " ") + ": " + err.Error() + "\n" + string(out))
				return
			}
		}
	})

	if openSSLState.err != nil {
		t.Fatalf("create openssl fixtures: %v", openSSLState.err)
	}
	return openSSLState.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if openSSLState.dir != "" {
		os.RemoveAll(openSSLState.dir)
	}
	os.Exit(code)
}

func TestLoadPrivateKeyFormats(t *testing.T) {
	dir := openSSLFixtures(t)
	want, err := LoadPublicKey(filepath.Join(dir, "pub.pem"), "")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		file     string
		password string
	}{
		{"pkcs8.pem", ""},
		{"pkcs1.pem", ""},
		{"pkcs8.der", ""},
		{"keystore.p12", keystorePassword},
		{"legacy.pfx", keystorePassword},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			key, err := LoadPrivateKey(filepath.Join(dir, tt.file), tt.password)
			if err != nil {
				t.Fatalf("LoadPrivateKey: %v", err)
			}
			if !key.PublicKey.Equal(want) {
				t.Errorf("the key in %s differs from the one openssl generated", tt.file)
			}
		})
	}
}

func TestLoadPublicKeyFormats(t *testing.T) {
	dir := openSSLFixtures(t)
	private, err := LoadPrivateKey(filepath.Join(dir, "pkcs8.pem"), "")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		file     string
		password string
	}{
		{"pub.pem", ""},
		{"pub.der", ""},
		{"pub-pkcs1.pem", ""},
		{"cert.pem", ""},
		{"cert.der", ""},
		{"pkcs8.pem", ""},
		{"pkcs1.pem", ""},
		{"pkcs8.der", ""},
		{"keystore.p12", keystorePassword},
		{"legacy.pfx", keystorePassword},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			pub, err := LoadPublicKey(filepath.Join(dir, tt.file), tt.password)
			if err != nil {
				t.Fatalf("LoadPublicKey: %v", err)
			}
			if !pub.Equal(&private.PublicKey) {
				t.Errorf("the public key in %s differs from the one openssl generated", tt.file)
			}
		})
	}
}

// TestLoadPublicKeyTrustStore reads a trust store as Java's keytool writes
// it: certificates marked as trusted, no private key.
func TestLoadPublicKeyTrustStore(t *testing.T) {
	dir := openSSLFixtures(t)
	certPEM, err := os.ReadFile(filepath.Join(dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	store, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{cert}, keystorePassword)
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "truststore.p12"), store)

	pub, err := LoadPublicKey(path, keystorePassword)
	if err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	if !pub.Equal(cert.PublicKey) {
		t.Error("the key in the trust store differs from the certificate's")
	}
}

func TestLoadPublicKeyBase64File(t *testing.T) {
	dir := openSSLFixtures(t)
	der, err := os.ReadFile(filepath.Join(dir, "pub.der"))
	if err != nil {
		t.Fatal(err)
	}

	// "base64" wraps at 76 columns; the loader reads it as one value.
	wrapped := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(wrapped) > 76 {
		b.WriteString(wrapped[:76] + "\n")
		wrapped = wrapped[76:]
	}
	b.WriteString(wrapped + "\n")
	path := writeFile(t, filepath.Join(t.TempDir(), "key.b64"), []byte(b.String()))

	pub, err := LoadPublicKey(path, "")
	if err != nil {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	want, err := LoadPublicKey(filepath.Join(dir, "pub.der"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(want) {
		t.Error("the key read from base64 differs from the DER one")
	}
}

func TestLoadKeyRejects(t *testing.T) {
	dir := openSSLFixtures(t)
	jks := writeFile(t, filepath.Join(t.TempDir(), "keystore.jks"), append([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2}, make([]byte, 64)...))
	text := writeFile(t, filepath.Join(t.TempDir(), "notes.txt"), []byte("not a key\n"))

	tests := []struct {
		name     string
		load     func(path, password string) error
		file     string
		password string
		want     []string
		wantIs   error
	}{
		{"4096-bit private", loadPrivate, "rsa4096.pem", "", []string{"4096-bit", "does not fit", "use a 2048- or 3072-bit RSA key"}, nil},
		{"4096-bit public", loadPublic, "rsa4096.pem", "", []string{"4096-bit", "does not fit", "use a 2048- or 3072-bit RSA key"}, nil},
		{"1024-bit private", loadPrivate, "rsa1024.pem", "", []string{"1024-bit", "too weak"}, nil},
		{"EC private", loadPrivate, "ec.pem", "", []string{"ECDSA keys cannot sign archives", "use a 2048- or 3072-bit RSA key"}, nil},
		{"EC PKCS8 private", loadPrivate, "ec-pkcs8.pem", "", []string{"ECDSA keys cannot sign archives"}, nil},
		{"Ed25519 private", loadPrivate, "ed25519.pem", "", []string{"Ed25519 keys cannot sign archives"}, nil},
		{"EC public", loadPublic, "ec-pub.pem", "", []string{"ECDSA keys cannot sign archives"}, nil},
		{"encrypted PKCS8", loadPrivate, "encrypted-pkcs8.pem", "", []string{"encrypted PEM", "openssl pkey"}, ErrEncryptedPEM},
		{"encrypted PKCS1", loadPrivate, "encrypted-pkcs1.pem", "", []string{"encrypted PEM"}, ErrEncryptedPEM},
		{"certificate as private", loadPrivate, "cert.pem", "", []string{"no private key", "CERTIFICATE"}, nil},
		{"DER certificate as private", loadPrivate, "cert.der", "", []string{"is a certificate, not a private key"}, nil},
		{"wrong keystore password", loadPrivate, "keystore.p12", "wrong-password", []string{"keystore.p12", "--keystore-password", "MFPDEV_KEYSTORE_PASSWORD"}, ErrKeystorePassword},
		{"missing keystore password", loadPrivate, "keystore.p12", "", []string{"protected by a password", "--keystore-password"}, ErrKeystorePassword},
		{"wrong password public", loadPublic, "legacy.pfx", "wrong-password", []string{"legacy.pfx", "MFPDEV_KEYSTORE_PASSWORD"}, ErrKeystorePassword},
		{"Java keystore", loadPrivate, jks, "", []string{"Java keystores", "keytool -importkeystore"}, nil},
		{"openssl certificate-only PKCS12", loadPublic, "certs-only.p12", keystorePassword, []string{"no private key", "openssl pkcs12 -in FILE -nokeys"}, nil},
		{"text file", loadPublic, text, "", []string{"unrecognized format"}, nil},
		{"missing file", loadPrivate, "missing.pem", "", []string{"missing.pem", "no such file"}, os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.file
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}

			err := tt.load(path, tt.password)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error = %q, want it to contain %q", err, s)
				}
			}
			if !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Errorf("error = %q, want it to name the file", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error = %v, want errors.Is %v", err, tt.wantIs)
			}
			if strings.Contains(err.Error(), keystorePassword) || (tt.password != "" && strings.Contains(err.Error(), tt.password)) {
				t.Errorf("error contains the password: %q", err)
			}
		})
	}
}

func loadPrivate(path, password string) error {
	_, err := LoadPrivateKey(path, password)
	return err
}

func loadPublic(path, password string) error {
	_, err := LoadPublicKey(path, password)
	return err
}

// TestOpenSSLKeySignsArchive signs with a key and checks the signature
// with the certificate of that key, both made by openssl.
func TestOpenSSLKeySignsArchive(t *testing.T) {
	dir := openSSLFixtures(t)
	for _, tt := range []struct{ file, password string }{
		{"keystore.p12", keystorePassword},
		{"rsa3072.pem", ""},
	} {
		key, err := LoadPrivateKey(filepath.Join(dir, tt.file), tt.password)
		if err != nil {
			t.Fatal(err)
		}
		signed := signZip(t, writeBlankZip(t), key)

		pubFile := "cert.pem"
		if tt.file == "rsa3072.pem" {
			pubFile = "rsa3072.pem"
		}
		pub, err := LoadPublicKey(filepath.Join(dir, pubFile), "")
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(bytes.NewReader(signed), int64(len(signed)), pub); err != nil {
			t.Errorf("%s: Verify: %v", tt.file, err)
		}
	}
}

func TestPublicKeyBase64MatchesOpenSSL(t *testing.T) {
	dir := openSSLFixtures(t)
	der, err := os.ReadFile(filepath.Join(dir, "pub.der"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := LoadPrivateKey(filepath.Join(dir, "pkcs1.pem"), "")
	if err != nil {
		t.Fatal(err)
	}

	got, err := PublicKeyBase64(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.StdEncoding.EncodeToString(der); got != want {
		t.Errorf("PublicKeyBase64 = %s\nwant the base64 of openssl's DER public key %s", got, want)
	}
}

func TestParsePublicKeyBase64(t *testing.T) {
	k2048, _ := testKeys(t)
	b64, err := PublicKeyBase64(&k2048.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	// config.xml values are often indented and wrapped.
	wrapped := "\n      " + b64[:64] + "\n      " + b64[64:200] + "\r\n\t" + b64[200:] + "\n    "
	for name, value := range map[string]string{
		"plain":      b64,
		"wrapped":    wrapped,
		"no padding": strings.TrimRight(b64, "="),
	} {
		pub, err := ParsePublicKeyBase64(value)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !pub.Equal(&k2048.PublicKey) {
			t.Errorf("%s: parsed a different key", name)
		}
	}
}

func TestParsePublicKeyBase64Rejects(t *testing.T) {
	k2048, _ := testKeys(t)
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&k2048.PublicKey))
	private := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k2048))

	tests := []struct {
		name, value, want string
	}{
		{"empty", " \n ", "empty value"},
		{"invalid base64", "abc*def", "invalid base64"},
		{"PKCS1 public key", pkcs1, "PKCS#1 RSAPublicKey"},
		{"private key", private, "private key, which must never go into config.xml"},
		{"random bytes", base64.StdEncoding.EncodeToString([]byte("hello world")), "not a DER SubjectPublicKeyInfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePublicKeyBase64(tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParsePublicKeyBase64Certificate(t *testing.T) {
	dir := openSSLFixtures(t)
	der, err := os.ReadFile(filepath.Join(dir, "cert.der"))
	if err != nil {
		t.Fatal(err)
	}

	_, err = ParsePublicKeyBase64(base64.StdEncoding.EncodeToString(der))
	if err == nil || !strings.Contains(err.Error(), "is a certificate") {
		t.Errorf("error = %v, want it to say the value is a certificate", err)
	}
}

func TestParsePublicKeyBase64Sizes(t *testing.T) {
	dir := openSSLFixtures(t)
	for file, want := range map[string]string{"rsa4096.pem": "does not fit", "ec-pkcs8.pem": "ECDSA"} {
		out, err := exec.Command(requireOpenSSL(t), "pkey", "-in", filepath.Join(dir, file), "-pubout", "-outform", "DER").Output()
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParsePublicKeyBase64(base64.StdEncoding.EncodeToString(out))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error = %v, want it to contain %q", file, err, want)
		}
	}
}

func TestGenerateSizes(t *testing.T) {
	key, err := Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("BitLen = %d, want 2048", key.N.BitLen())
	}

	for _, bits := range []int{1024, 2047, 4096} {
		if _, err := Generate(bits); err == nil || !strings.Contains(err.Error(), "use 2048 or 3072 bits") {
			t.Errorf("Generate(%d) error = %v, want it to name 2048 and 3072", bits, err)
		}
	}
}

// TestGeneratedKeyReadByOpenSSL writes a generated key as PKCS #8 PEM and
// checks that openssl reads it and signs what Verify accepts.
func TestGeneratedKeyReadByOpenSSL(t *testing.T) {
	requireOpenSSL(t)
	key, err := Generate(2048)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPath := writeFile(t, filepath.Join(dir, "key.pem"), pemBytes)

	out, err := runOpenSSL(t, "pkey", "-in", keyPath, "-check", "-noout")
	if err != nil {
		t.Fatalf("openssl pkey -check: %v\n%s", err, out)
	}

	pubPEM, err := EncodePublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPath := writeFile(t, filepath.Join(dir, "pub.pem"), pubPEM)
	out, err = runOpenSSL(t, "pkey", "-pubin", "-in", pubPath, "-noout")
	if err != nil {
		t.Errorf("openssl pkey -pubin: %v\n%s", err, out)
	}

	blank := writeBlankZip(t)
	blankPath := writeFile(t, filepath.Join(dir, "blank.zip"), blank)
	sigPath := filepath.Join(dir, "sig.bin")
	if out, err := runOpenSSL(t, "dgst", "-sha256", "-sign", keyPath, "-out", sigPath, blankPath); err != nil {
		t.Fatalf("openssl dgst -sign: %v\n%s", err, out)
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}

	// PKCS #1 v1.5 signatures are deterministic, so ours must be identical.
	digest := sha256.Sum256(blank)
	ours, err := SignDigest(key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, sig) {
		t.Error("SignDigest and openssl dgst -sign produced different signatures with the same key")
	}
}
