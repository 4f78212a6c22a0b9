// Package keys implements "mfpdev keys": creating the RSA key that signs
// direct-update archives and printing the public key value that apps
// trust, as written in config.xml.
package keys

import (
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
)

// keystorePasswordEnv names the environment variable that gives the
// password of a PKCS#12 keystore when --keystore-password is not set.
const keystorePasswordEnv = "MFPDEV_KEYSTORE_PASSWORD"

// NewCmdKeys returns the "keys" command and its subcommands.
func NewCmdKeys(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys <command>",
		Short: "Create and inspect the keys that sign direct-update archives",
		Long: `Create and inspect the RSA keys that sign direct-update archives.

An app built with cordova-plugin-mfp checks the signature of every direct
update against the public key in config.xml
(<mfp:directUpdateAuthenticityPublicKey>), written as the base64 of the
DER SubjectPublicKeyInfo. The signature is stored in the 512-byte zip
comment, so only RSA keys of 2048 or 3072 bits fit.

Once an app is in a store, its trusted key changes only with a new store
release: keep the private key safe and backed up.
` + cmdutil.ExitStatusLocalHelp,
		Example: `  # Create a key outside the project and print the value for config.xml
  mfpdev keys generate --out ~/keys/myapp.pem

  # Print the config.xml value of an existing key, certificate or keystore
  mfpdev keys public signing.p12`,
		RunE: cmdutil.RunGroup,
	}

	cmd.AddCommand(NewCmdGenerate(f, nil))
	cmd.AddCommand(NewCmdPublic(f, nil))
	return cmd
}

// configHint returns the command that writes the public key into config.xml.
func configHint(publicKey string) string {
	return "mfpdev app config direct_update_authenticity_public_key " + publicKey
}
