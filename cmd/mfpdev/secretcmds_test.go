package main

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/mfpdev/mfpdev/pkg/signing"
)

// cmdMakeKeystore writes a PKCS #12 keystore holding the RSA key of a PEM
// file and a self-signed certificate: mkkeystore KEY.pem PASSWORD OUT.p12.
func cmdMakeKeystore(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: mkkeystore KEY.pem PASSWORD OUT.p12")
	}
	key, err := signing.LoadPrivateKey(ts.MkAbs(args[0]), "")
	ts.Check(err)

	template := &x509.Certificate{SerialNumber: big.NewInt(1), BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	ts.Check(err)
	cert, err := x509.ParseCertificate(der)
	ts.Check(err)
	data, err := pkcs12.Modern.Encode(key, cert, nil, args[1])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), data, 0o600))
}

// cmdNoSecrets fails when the stdout or stderr of the last command, or
// any FILE given, contains one of the comma-separated values of $SECRETS:
// nosecrets [FILE...].
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: nosecrets [FILE...]")
	}
	secrets := strings.Split(ts.Getenv("SECRETS"), ",")
	if len(secrets) == 0 || secrets[0] == "" {
		ts.Fatalf("nosecrets: $SECRETS is empty")
	}

	sources := map[string]string{"stdout": ts.ReadFile("stdout"), "stderr": ts.ReadFile("stderr")}
	for _, name := range args {
		data, err := os.ReadFile(ts.MkAbs(name))
		ts.Check(err)
		sources[name] = string(data)
	}
	for name, text := range sources {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				ts.Fatalf("%s contains the secret %q", name, secret)
			}
		}
	}
}
