package keys

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// PublicOptions are the inputs of "mfpdev keys public".
type PublicOptions struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Getenv   func(string) string
	WorkDir  func() (string, error)

	File             string
	KeystorePassword string
	JSON             bool
}

// publicResult is the --json output of "keys public".
type publicResult struct {
	File      string `json:"file"`
	PublicKey string `json:"publicKey"`
	Bits      int    `json:"bits"`
}

// NewCmdPublic returns the "keys public" command. Tests pass runF to check
// flag parsing without reading a key.
func NewCmdPublic(f *cmdutil.Factory, runF func(*PublicOptions) error) *cobra.Command {
	opts := &PublicOptions{IO: f.IOStreams, Prompter: f.Prompter, Getenv: f.Getenv, WorkDir: f.WorkDir}

	cmd := &cobra.Command{
		Use:   "public FILE",
		Short: "Print the config.xml value of a key's public half",
		Long: `Print the public key that verifies archives signed with FILE, as the
base64 of its DER SubjectPublicKeyInfo: the value of
<mfp:directUpdateAuthenticityPublicKey> in config.xml.

FILE can be a PEM or DER private key (PKCS #1 or PKCS #8), a certificate
(PEM or DER), a PEM public key, or a PKCS #12 keystore (.p12, .pfx). Only
RSA keys of 2048 or 3072 bits are accepted, because the signature of a
larger key does not fit the 512-byte zip comment. Encrypted PEM keys are
not read: decrypt them with "openssl pkey" or put them in a keystore.

The keystore password comes from --keystore-password, else from the
` + keystorePasswordEnv + ` environment variable, else from a prompt when
running in a terminal. The prompt and the variable keep the password out
of the process list and shell history.
` + cmdutil.ExitStatusLocalHelp,
		Example: `  mfpdev keys public mfpdev-signing-key.pem

  # From a keystore, with the password in the environment
  MFPDEV_KEYSTORE_PASSWORD=... mfpdev keys public release.p12

  # Write it into config.xml
  mfpdev app config direct_update_authenticity_public_key "$(mfpdev keys public release.pem)"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("keys public takes one FILE, got %d arguments: give the path of a private key, certificate, public key or keystore", len(args))
			}
			opts.File = args[0]

			if !cmd.Flags().Changed("keystore-password") {
				opts.KeystorePassword = opts.Getenv(keystorePasswordEnv)
			}
			if runF != nil {
				return runF(opts)
			}
			return publicRun(opts)
		},
	}

	cmd.Flags().StringVar(&opts.KeystorePassword, "keystore-password", "", "Password of a PKCS #12 keystore (default: $"+keystorePasswordEnv+")")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "Print the file, the public key and its size as JSON")
	return cmd
}

func publicRun(opts *PublicOptions) error {
	path, err := absPath(opts.WorkDir, opts.File)
	if err != nil {
		return err
	}

	pub, err := signing.LoadPublicKey(path, opts.KeystorePassword)
	if errors.Is(err, signing.ErrKeystorePassword) && opts.KeystorePassword == "" && opts.IO.CanPrompt() {
		password, promptErr := opts.Prompter.Password(fmt.Sprintf("Password of keystore %s:", filepath.Base(path)))
		if promptErr != nil {
			return promptErr
		}
		pub, err = signing.LoadPublicKey(path, password)
	}
	if err != nil {
		return err
	}

	publicKey, err := signing.PublicKeyBase64(pub)
	if err != nil {
		return err
	}

	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "To make the app trust it, run:\n  %s\n", configHint(publicKey))
	}
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, publicResult{File: path, PublicKey: publicKey, Bits: pub.N.BitLen()})
	}
	_, err = fmt.Fprintln(opts.IO.Out, publicKey)
	return err
}
