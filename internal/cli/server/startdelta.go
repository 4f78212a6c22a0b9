package server

import (
	"crypto/rsa"

	"github.com/spf13/pflag"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	updateserver "github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// keystorePasswordEnv is read for the password of a PKCS#12 --signing-key.
const keystorePasswordEnv = "MFPDEV_KEYSTORE_PASSWORD"

// DeltaOptions are the delta archive flags of "server start".
type DeltaOptions struct {
	// History is how many deployments before the active one a delta may
	// start from; 0 disables deltas.
	History int
	// MinSavings is the percentage of the full archive's bytes a delta
	// must save to be offered.
	MinSavings int
	// SigningKey is the file of the RSA private key that signs deltas.
	SigningKey string
}

func (o *DeltaOptions) addFlags(fl *pflag.FlagSet) {
	fl.IntVar(&o.History, "delta-history", updateserver.DefaultDeltaHistory, "Number of deployments before the active one that devices may update from with a delta archive; 0 disables deltas")
	fl.IntVar(&o.MinSavings, "delta-min-savings", updateserver.DefaultDeltaMinSavings, "Percentage of the full archive's size a delta archive must save to be offered, 0 to 99")
	fl.StringVar(&o.SigningKey, "signing-key", "", "Sign delta archives with the RSA private key in `file` (PEM PKCS #1 or PKCS #8, or a PKCS #12 keystore whose password is in $"+keystorePasswordEnv+"); without it, devices of signed deployments get full archives only")
}

func (o *DeltaOptions) parse() error {
	if o.History < 0 {
		return cmdutil.Usagef("--delta-history %d is invalid: use 0 to disable deltas, or a positive number", o.History)
	}
	if o.MinSavings < 0 || o.MinSavings > 99 {
		return cmdutil.Usagef("--delta-min-savings %d is invalid: use a percentage from 0 to 99", o.MinSavings)
	}
	return nil
}

// loadSigner reads --signing-key; it returns nil without one.
func (o *DeltaOptions) loadSigner(getenv func(string) string) (*rsa.PrivateKey, error) {
	if o.SigningKey == "" {
		return nil, nil
	}
	key, err := signing.LoadPrivateKey(o.SigningKey, getenv(keystorePasswordEnv))
	if err != nil {
		return nil, cmdutil.Usagef("--signing-key: %v", err)
	}
	return key, nil
}
