package app

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

// ConfigOptions are the inputs of "mfpdev app config".
type ConfigOptions struct {
	IO      *iostreams.IOStreams
	Factory *cmdutil.Factory

	ProjectDir string
	Key        string
	Value      string
}

// configKeys are the settings "app config" writes, with what they set.
var configKeys = map[string]string{
	"direct_update_authenticity_public_key": "the base64 SubjectPublicKeyInfo of the RSA key whose signature devices require on direct-update archives (mfp:directUpdateAuthenticityPublicKey); an empty value turns the check off",
}

// NewCmdConfig returns the "app config" command.
func NewCmdConfig(f *cmdutil.Factory, runF func(*ConfigOptions) error) *cobra.Command {
	opts := &ConfigOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "config [--project folder] <key> <value>",
		Short: "Set a direct-update setting in the project's config.xml",
		Long: `Set a direct-update setting in the Cordova project's config.xml, changing
nothing else in the file.

Keys:
  direct_update_authenticity_public_key
      The base64 SubjectPublicKeyInfo of the RSA key whose signature
      devices require on direct-update archives
      (mfp:directUpdateAuthenticityPublicKey). An empty value turns the
      check off. "mfpdev keys generate" and "mfpdev keys public" print it.
      Once an app is in the store, the key it trusts cannot change without
      a new store release.
` + cmdutil.ExitStatusLocalHelp,
		Example: `  mfpdev app config direct_update_authenticity_public_key "$(mfpdev keys public signing-key.pem)"`,
		Args: func(cmd *cobra.Command, args []string) error {
			// Flags after KEY are arguments here (see SetInterspersed below).
			for _, arg := range args {
				if arg == "--help" || arg == "-h" {
					return nil
				}
			}
			if len(args) > 2 && strings.HasPrefix(args[2], "--") {
				return cmdutil.Usagef("%s after KEY and VALUE is not read as a flag: put flags first, as in mfpdev app config --project DIR KEY VALUE", args[2])
			}
			if len(args) != 2 {
				return cmdutil.Usagef("app config needs a KEY and a VALUE (%d given), for example mfpdev app config direct_update_authenticity_public_key VALUE", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if slices.Contains(args, "--help") || slices.Contains(args, "-h") {
				return cmd.Help()
			}
			opts.Key, opts.Value = args[0], args[1]
			if _, ok := configKeys[opts.Key]; !ok {
				return cmdutil.Usagef("unknown key %q: known keys are %s", opts.Key, strings.Join(knownConfigKeys(), ", "))
			}
			if runF != nil {
				return runF(opts)
			}
			return configRun(cmd.Context(), opts)
		},
	}
	// The value may be a PEM block starting with "-----", which must not be
	// taken for a flag (and echoed in the error).
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&opts.ProjectDir, "project", "", "Cordova project `folder` (default: the nearest folder with a config.xml at or above the current one)")
	return cmd
}

func knownConfigKeys() []string {
	keys := make([]string, 0, len(configKeys))
	for k := range configKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func configRun(ctx context.Context, opts *ConfigOptions) error {
	root, err := findProjectRoot(opts.Factory, opts.ProjectDir)
	if err != nil {
		return err
	}
	value, err := publicKeyValue(opts.Value)
	if err != nil {
		return err
	}
	configPath := filepath.Join(root, cordova.ConfigName)
	if err := cordova.SetPublicKey(ctx, configPath, value); err != nil {
		return err
	}
	if value == "" {
		fmt.Fprintf(opts.IO.ErrOut, "Cleared directUpdateAuthenticityPublicKey in %s: devices no longer check signatures\n", configPath)
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "Set directUpdateAuthenticityPublicKey in %s: sign archives with --sign-key from now on\n", configPath)
	return nil
}

// publicKeyValue returns the base64 SubjectPublicKeyInfo to write for a
// value given on the command line: that base64 itself, or a PEM public
// key, which is converted. A private key is rejected without echoing it.
func publicKeyValue(value string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", nil
	}
	if strings.Contains(value, "PRIVATE KEY") {
		return "", cmdutil.Usagef("direct_update_authenticity_public_key: the value is a private key, which must stay secret: pass the public key printed by \"mfpdev keys public FILE\"")
	}
	if block, _ := pem.Decode([]byte(value)); block != nil {
		pub, err := signing.ParsePublicKeyBase64(base64.StdEncoding.EncodeToString(block.Bytes))
		if err != nil {
			return "", cmdutil.Usagef("direct_update_authenticity_public_key: PEM block %q: %v: pass the base64 value printed by \"mfpdev keys public FILE\"", block.Type, err)
		}
		return signing.PublicKeyBase64(pub)
	}
	value = strings.Join(strings.Fields(value), "")
	if _, err := signing.ParsePublicKeyBase64(value); err != nil {
		return "", cmdutil.Usagef("direct_update_authenticity_public_key: %v: pass the base64 value printed by \"mfpdev keys public FILE\"", err)
	}
	return value, nil
}
