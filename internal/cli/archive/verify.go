package archive

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// VerifyOptions are the inputs of "mfpdev archive verify".
type VerifyOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	File       string
	PublicKey  string
	ProjectDir string
	JSON       bool
}

// NewCmdVerify returns the "archive verify" command.
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "verify <file>",
		Short: "Check an archive as a device and the update server would",
		Long: `Check a direct-update archive: the structure rules devices rely on (entry
names, no links, no duplicates, the 512-byte comment), the web-resources
checksum recomputed from the www entries against the metadata, filelist and
checksum.js, the SHA-256 of every file, and the signature.

With --public-key, or --project naming a Cordova project whose config.xml
sets directUpdateAuthenticityPublicKey, the archive must be signed with the
matching key. Without either, a signature is reported but not checked.
` + cmdutil.ExitStatusLocalHelp,
		Example: `  mfpdev archive verify mobilefirst/com.example.app-ios-1.0.0.zip --project .
  mfpdev archive verify app.zip --public-key "$(mfpdev keys public signing-key.pem)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.PublicKey != "" && opts.ProjectDir != "" {
				return cmdutil.Usagef("--public-key and --project both name the trusted key: pass only one")
			}
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.PublicKey, "public-key", "", "Require a signature by this `base64` SubjectPublicKeyInfo, as in config.xml")
	cmd.Flags().StringVar(&opts.ProjectDir, "project", "", "Require a signature by the key in this Cordova project's config.xml")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "Print the result as one JSON document")
	return cmd
}

// verifyFailure is the JSON document "archive verify --json" prints for an
// archive it rejects: Valid is false, and Problems has one line per rule
// the archive breaks.
type verifyFailure struct {
	File     string   `json:"file"`
	Valid    bool     `json:"valid"`
	Problems []string `json:"problems"`
}

// verifyOutput is the JSON document "archive verify --json" prints for a
// valid archive.
type verifyOutput struct {
	File              string `json:"file"`
	Valid             bool   `json:"valid"`
	Signed            bool   `json:"signed"`
	SignatureVerified bool   `json:"signatureVerified"`
	AppID             string `json:"appId"`
	Platform          string `json:"platform"`
	AppVersion        string `json:"appVersion"`
	Checksum          uint32 `json:"checksum"`
	SHA256            string `json:"sha256"`
}

func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	key, source, err := trustedKey(ctx, opts)
	if err != nil {
		return err
	}
	readOpts := bundle.ReadOptions{}
	if key != nil {
		readOpts.PublicKeys = []*rsa.PublicKey{key}
		readOpts.RequireSignature = true
	}
	a, err := readArchive(ctx, opts.File, readOpts)
	if err != nil {
		if opts.JSON && ctx.Err() == nil {
			// A pipeline reading stdout learns the outcome there too; the
			// error still goes to stderr and sets the exit status.
			if writeErr := cmdutil.WriteJSON(opts.IO.Out, verifyFailure{File: opts.File, Problems: problemList(err)}); writeErr != nil {
				return writeErr
			}
		}
		return err
	}

	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, verifyOutput{
			File: opts.File, Valid: true, Signed: a.Signed, SignatureVerified: key != nil,
			AppID: a.Meta.AppID, Platform: a.Meta.Platform, AppVersion: a.Meta.AppVersion,
			Checksum: a.Meta.Checksum, SHA256: a.SHA256,
		})
	}
	signature := "unsigned"
	switch {
	case key == nil && source != "":
		signature = "signature not required: " + source + " sets no directUpdateAuthenticityPublicKey"
	case key != nil:
		signature = "signature verified with the key of " + source
	case a.Signed:
		signature = "signed (signature not checked: pass --public-key or --project)"
	}
	fmt.Fprintf(opts.IO.Out, "%s: valid: %s %s %s, checksum %d, %s\n",
		opts.File, a.Meta.AppID, a.Meta.Platform, a.Meta.AppVersion, a.Meta.Checksum, signature)
	return nil
}

// problemList returns the problems of an invalid archive, or the error
// itself as the only problem.
func problemList(err error) []string {
	var invalid *bundle.InvalidArchiveError
	if !errors.As(err, &invalid) {
		return []string{err.Error()}
	}
	problems := make([]string, len(invalid.Problems))
	for i, p := range invalid.Problems {
		problems[i] = p.String()
	}
	return problems
}

// trustedKey returns the key named by --public-key or by the project's
// config.xml, and where it came from. The key is nil when neither is
// given, or when the project's config.xml names no key, because its devices
// accept unsigned archives. source is then the config.xml path.
func trustedKey(ctx context.Context, opts *VerifyOptions) (*rsa.PublicKey, string, error) {
	if opts.PublicKey != "" {
		key, err := signing.ParsePublicKeyBase64(opts.PublicKey)
		if err != nil {
			return nil, "", cmdutil.Usagef("--public-key: %v", err)
		}
		return key, "--public-key", nil
	}
	if opts.ProjectDir == "" {
		return nil, "", nil
	}
	root, err := findProject(opts.ProjectDir)
	if err != nil {
		return nil, "", err
	}
	configPath := filepath.Join(root, cordova.ConfigName)
	data, err := os.ReadFile(configPath)
	if err != nil {
		return nil, "", err
	}
	config, err := cordova.ParseConfig(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", configPath, err)
	}
	if config.MFP.PublicKey == "" {
		// Devices of this app accept unsigned archives, so there is no
		// signature to require.
		return nil, configPath, nil
	}
	key, err := signing.ParsePublicKeyBase64(config.MFP.PublicKey)
	if err != nil {
		return nil, "", fmt.Errorf("%s: directUpdateAuthenticityPublicKey: %w", configPath, err)
	}
	return key, configPath, nil
}

// findProject returns the root of the Cordova project that --project names,
// adding --public-key to the ways out when there is none.
func findProject(dir string) (string, error) {
	root, err := cmdutil.FindProject(dir)
	if errors.Is(err, cordova.ErrNoConfig) {
		return "", &cmdutil.UsageError{Err: fmt.Errorf("%w, or pass --public-key instead", err)}
	}
	return root, err
}
