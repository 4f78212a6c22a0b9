package keys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// defaultKeyFile is the default --out of "keys generate": a file name in
// the current folder.
const defaultKeyFile = "mfpdev-signing-key.pem"

// GenerateOptions are the inputs of "mfpdev keys generate".
type GenerateOptions struct {
	IO      *iostreams.IOStreams
	WorkDir func() (string, error)

	Bits      int
	Out       string
	PublicOut string
	JSON      bool
	Force     bool
}

// generateResult is the --json output of "keys generate".
type generateResult struct {
	PrivateKey    string `json:"privateKey"`
	PublicKey     string `json:"publicKey"`
	Bits          int    `json:"bits"`
	PublicKeyFile string `json:"publicKeyFile,omitempty"`
}

// NewCmdGenerate returns the "keys generate" command. Tests pass runF to
// check flag parsing without generating a key.
func NewCmdGenerate(f *cmdutil.Factory, runF func(*GenerateOptions) error) *cobra.Command {
	opts := &GenerateOptions{IO: f.IOStreams, WorkDir: f.WorkDir}

	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Create an RSA key for signing archives",
		Long: `Create an RSA private key for signing direct-update archives.

The key is written as PKCS #8 PEM with mode 0600 to --out
(default ` + defaultKeyFile + ` in the current folder). An existing file is
never overwritten unless --force is given. When the file lands inside a
Cordova project, a warning says to keep it out of version control: write
the key outside the project with --out instead.

Standard output receives the public key as base64 of its DER
SubjectPublicKeyInfo: the value of <mfp:directUpdateAuthenticityPublicKey>
in config.xml. Standard error receives the command that writes it there.
` + cmdutil.ExitStatusLocalHelp,
		Example: `  # 2048-bit key in a folder outside the project
  mfpdev keys generate --out ~/keys/myapp.pem

  # 3072-bit key, with the public key as PEM too
  mfpdev keys generate --bits 3072 --out ~/keys/myapp.pem --public-out myapp-public.pem

  # Machine-readable output
  mfpdev keys generate --out ~/keys/ci-key.pem --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Bits != 2048 && opts.Bits != 3072 {
				return cmdutil.Usagef("invalid --bits %d: use 2048 or 3072, because smaller keys are weak and signatures of larger ones do not fit the %d-byte zip comment",
					opts.Bits, signing.CommentSize)
			}
			if opts.Out == "" {
				return cmdutil.Usagef("--out must not be empty: give the path of the private key file")
			}
			if runF != nil {
				return runF(opts)
			}
			return generateRun(opts)
		},
	}

	cmd.Flags().IntVar(&opts.Bits, "bits", 2048, "Size of the RSA key in bits: 2048 or 3072")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", defaultKeyFile, "Write the private key (PKCS #8 PEM, mode 0600) to this file")
	cmd.Flags().StringVar(&opts.PublicOut, "public-out", "", "Also write the public key as PEM to this file")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "Print the file names and the public key as JSON")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "Overwrite existing key files")
	return cmd
}

func generateRun(opts *GenerateOptions) error {
	keyPath, err := absPath(opts.WorkDir, opts.Out)
	if err != nil {
		return err
	}
	publicPath := ""
	if opts.PublicOut != "" {
		if publicPath, err = absPath(opts.WorkDir, opts.PublicOut); err != nil {
			return err
		}
		if publicPath == keyPath {
			return cmdutil.Usagef("--out and --public-out are both %s: give two different files", opts.Out)
		}
	}

	// Check both destinations before spending time on a key.
	if !opts.Force {
		for _, p := range []string{keyPath, publicPath} {
			if err := checkAbsent(p); err != nil {
				return err
			}
		}
	}

	key, err := signing.Generate(opts.Bits)
	if err != nil {
		return err
	}
	privatePEM, err := signing.EncodePrivateKeyPEM(key)
	if err != nil {
		return err
	}
	publicKey, err := signing.PublicKeyBase64(&key.PublicKey)
	if err != nil {
		return err
	}

	if err := writeKeyFile(keyPath, privatePEM, 0o600, opts.Force); err != nil {
		return err
	}
	if publicPath != "" {
		publicPEM, err := signing.EncodePublicKeyPEM(&key.PublicKey)
		if err != nil {
			return err
		}
		if err := writeKeyFile(publicPath, publicPEM, 0o644, opts.Force); err != nil {
			return err
		}
	}

	return printGenerated(opts, keyPath, publicPath, publicKey)
}

func printGenerated(opts *GenerateOptions, keyPath, publicPath, publicKey string) error {
	stderr := opts.IO.ErrOut
	fmt.Fprintf(stderr, "Wrote a %d-bit RSA private key to %s. Keep it secret and back it up: apps trust only this key until their next store release.\n",
		opts.Bits, keyPath)
	if root := projectRoot(keyPath); root != "" {
		fmt.Fprintf(stderr, "warning: the private key %s is inside the Cordova project %s: keep it out of version control (add it to .gitignore), or write it outside the project with --out\n",
			keyPath, root)
	}
	if publicPath != "" {
		fmt.Fprintf(stderr, "Wrote the public key to %s.\n", publicPath)
	}
	fmt.Fprintf(stderr, "To make the app trust it, run:\n  %s\n", configHint(publicKey))

	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, generateResult{
			PrivateKey:    keyPath,
			PublicKey:     publicKey,
			Bits:          opts.Bits,
			PublicKeyFile: publicPath,
		})
	}
	_, err := fmt.Fprintln(opts.IO.Out, publicKey)
	return err
}

// projectRoot returns the root of the Cordova project that contains the
// file at path, or "" when no folder at or above the file has config.xml.
func projectRoot(path string) string {
	root, err := cordova.Find(filepath.Dir(path))
	if err != nil {
		return ""
	}
	return root
}

// absPath resolves path against the folder the command runs in.
func absPath(workDir func() (string, error), path string) (string, error) {
	if filepath.IsAbs(path) {
		return filepath.Clean(path), nil
	}

	dir, err := workDir()
	if err != nil {
		return "", fmt.Errorf("find the current folder: %w", err)
	}
	return filepath.Join(dir, path), nil
}

func checkAbsent(path string) error {
	if path == "" {
		return nil
	}

	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return fmt.Errorf("%s already exists: pass --force to overwrite it, or choose another file", path)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("check %s: %w", path, err)
	}
}

// writeKeyFile writes data to path with mode perm, creating its folder.
// Without overwrite it creates the file exclusively, so it never replaces
// one that appeared since checkAbsent. With overwrite it writes a temporary file in the same
// folder and renames it, so a reader never sees half a key.
func writeKeyFile(path string, data []byte, perm os.FileMode, overwrite bool) error {
	// A missing folder is created private, because it is made for a key.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if !overwrite {
		return writeExclusive(path, data, perm)
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)

	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}

	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeExclusive(path string, data []byte, perm os.FileMode) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists: pass --force to overwrite it, or choose another file", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}

	_, err = file.Write(data)
	if err == nil {
		err = file.Sync()
	}
	if closeErr := file.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
