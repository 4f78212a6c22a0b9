package app

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
	"github.com/mfpdev/mfpdev/pkg/webres"
	"github.com/mfpdev/mfpdev/pkg/webupdate"
)

// WebupdateOptions are the inputs of "mfpdev app webupdate".
type WebupdateOptions struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
	Factory  *cmdutil.Factory

	ProjectDir       string
	Build            bool
	Platforms        []string
	SignKey          string
	KeystorePassword string
	File             string
	URL              string
	Login            string
	Password         string
	JSON             bool
	CompressionLevel int
	Profile          string
	Runtime          string
}

// NewCmdWebupdate returns the "app webupdate" command. runF replaces the
// command's work in tests of flag parsing.
func NewCmdWebupdate(f *cmdutil.Factory, runF func(*WebupdateOptions) error) *cobra.Command {
	opts := &WebupdateOptions{IO: f.IOStreams, Prompter: f.Prompter, Factory: f}
	cmd := &cobra.Command{
		Use:   "webupdate [server-profile] [runtime]",
		Short: "Package the prepared web resources and push them to a server",
		Long: `Package the prepared www folder of each platform of the Cordova project into
a direct-update archive, mobilefirst/<appId>-<platform>-<appVersion>.zip, and
upload it to an update server.

The project is found from the current folder or any folder above it, or
given with --project. Run "cordova prepare" first: the archives contain
what the platforms' www folders contain, not the project's root www.

Each archive carries the web-resources checksum that the app reports, in
plugins/cordova-plugin-mfp/worklight/checksum.js, and the fresh filelist.
mfpdev also writes both into the platform www folders and records the
checksum in config.xml (mfp:appChecksum), changing nothing else there.
Archives are reproducible: the same folders and options give the same bytes.
Entry times come from SOURCE_DATE_EPOCH, or are 1980-01-01 when it is not set.
Files are deflated at level 6. Every device downloads the archive, so for a
release --compression-level 8 or 9 can be worth its slower build: on a large
Ionic app, level 8 made the archive 3% smaller and the build 1.7 times slower.

When config.xml sets directUpdateAuthenticityPublicKey, devices accept only
archives signed with the matching private key, so --sign-key is required and
must match. Without --build the archives are uploaded to the server of
server-profile (see "mfpdev server add"), or the default profile, or the
local server http://localhost:9080 with admin/admin.
` + cmdutil.ExitStatusHelp,
		Example: `  # Build signed archives for every prepared platform, upload nothing
  mfpdev app webupdate --build --sign-key signing-key.pem

  # Build and push the Android archive to the server of profile "prod"
  mfpdev app webupdate prod --platform android

  # Upload an archive built earlier
  mfpdev app webupdate prod --file mobilefirst/com.example.app-ios-1.0.0.zip`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.Profile = args[0]
			}
			if len(args) > 1 {
				opts.Runtime = args[1]
			}
			if cmd.Flags().Changed("platform") && len(opts.Platforms) == 0 {
				return cmdutil.Usagef("--platform is empty: pass platform names such as --platform android,ios")
			}
			for _, p := range opts.Platforms {
				if strings.TrimSpace(p) == "" {
					return cmdutil.Usagef("--platform has an empty name: pass platform names such as --platform android,ios")
				}
			}
			if opts.File != "" && opts.Build {
				return cmdutil.Usagef("--file uploads an existing archive and cannot be used with --build")
			}
			if opts.File != "" && (len(opts.Platforms) > 0 || opts.SignKey != "" || cmd.Flags().Changed("compression-level")) {
				return cmdutil.Usagef("--file uploads an existing archive as it is: --platform, --sign-key and --compression-level do not apply")
			}
			if opts.CompressionLevel < 1 || opts.CompressionLevel > 9 {
				return cmdutil.Usagef("--compression-level %d is invalid: use 1 (fastest) to 9 (smallest archive); the default is %d", opts.CompressionLevel, bundle.DefaultLevel)
			}
			if opts.Build && (opts.Password != "" || opts.URL != "" || opts.Login != "") {
				return cmdutil.Usagef("--build uploads nothing, so --url, --login and --password do not apply")
			}
			if err := checkServerFlags(opts.URL, opts.Login, args); err != nil {
				return err
			}
			if opts.Build && len(args) > 0 {
				return cmdutil.Usagef("--build writes archives without uploading them, so it takes no server profile (got %q)", args[0])
			}
			if runF != nil {
				return runF(opts)
			}
			return webupdateRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ProjectDir, "project", "", "Cordova project `folder` (default: the nearest folder with a config.xml at or above the current one)")
	fl.BoolVar(&opts.Build, "build", false, "Write the archives into mobilefirst/ without uploading them")
	fl.StringSliceVar(&opts.Platforms, "platform", nil, "Platforms to package, comma-separated (default: every prepared platform)")
	fl.StringVar(&opts.SignKey, "sign-key", "", "Sign the archives with the RSA private key in `file` (PEM PKCS #1 or PKCS #8, or a PKCS #12 keystore)")
	fl.StringVar(&opts.KeystorePassword, "keystore-password", "", "Password of the PKCS #12 keystore given with --sign-key (default: $MFPDEV_KEYSTORE_PASSWORD, or a prompt on a terminal)")
	fl.StringVar(&opts.URL, "url", "", "Push to the server at this base `URL` instead of a server profile, such as http://127.0.0.1:9081")
	fl.StringVar(&opts.Login, "login", "", "User to push as with --url (default \"admin\")")
	fl.StringVar(&opts.Password, "password", "", "Password of the server login (default: the profile's saved password, $MFPDEV_PASSWORD, or a prompt on a terminal)")
	fl.StringVar(&opts.File, "file", "", "Upload the existing archive `zip` instead of building one")
	fl.IntVar(&opts.CompressionLevel, "compression-level", bundle.DefaultLevel, "Deflate `level` from 1 (fastest) to 9 (smallest archive)")
	fl.BoolVar(&opts.JSON, "json", false, "Print the archives as one JSON document on stdout")
	return cmd
}

// webupdateOutput is the JSON document --json prints.
type webupdateOutput struct {
	Archives []webupdate.Archive `json:"archives,omitempty"`
	// Uploads lists what the server confirmed storing; absent with --build.
	Uploads []PushResult `json:"uploads,omitempty"`
	// Warnings are the problems that did not stop the build, such as a
	// platform skipped because it is not prepared, as printed on stderr.
	Warnings []string `json:"warnings,omitempty"`
}

// buildMemoryLimit is the Go heap size above which the garbage collector
// works harder during a build. The writer's buffers are bounded by bytes,
// so what grows past them is garbage, and collecting it keeps the peak
// resident size under 64 MB whatever the size of the tree.
const buildMemoryLimit = 40 << 20

func webupdateRun(ctx context.Context, opts *WebupdateOptions) error {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(buildMemoryLimit))

	if opts.File != "" {
		return pushFile(ctx, opts)
	}

	project, err := loadProject(ctx, opts.Factory, opts.ProjectDir)
	if err != nil {
		return err
	}
	key, err := loadSigningKey(opts)
	if err != nil {
		return err
	}
	buildTime, err := webres.BuildTime(opts.Factory.Getenv)
	if err != nil {
		return err
	}

	plan, err := webupdate.Prepare(ctx, project, webupdate.Options{
		Platforms:        opts.Platforms,
		SigningKey:       key,
		BuildTime:        buildTime,
		CreatedBy:        "mfpdev " + opts.Factory.Version,
		CompressionLevel: opts.CompressionLevel,
	})
	if err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		fmt.Fprintln(opts.IO.ErrOut, "warning:", w)
	}
	for _, pp := range plan.Platforms {
		for _, o := range pp.Tree.Omitted {
			fmt.Fprintf(opts.IO.ErrOut, "%s: left out %s: %s\n", pp.Platform.Name, o.Path, o.Reason)
		}
	}

	var archives []webupdate.Archive
	var uploads []PushResult
	if opts.Build {
		archives, err = writeWithProgress(ctx, opts.IO, plan.TotalBytes(), plan.Write)
	} else {
		archives, uploads, err = buildAndPush(ctx, opts, plan)
	}
	if err != nil {
		if ctx.Err() != nil {
			return cmdutil.ErrCancelled
		}
		return err
	}

	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, webupdateOutput{Archives: archives, Uploads: uploads, Warnings: plan.Warnings})
	}
	printArchives(opts.IO.Out, archives, workDir(opts.Factory))
	printUploads(opts.IO.Out, uploads)
	return nil
}

// buildAndPush writes the archives to a staging folder and uploads them.
// Only when every upload succeeded are they moved into mobilefirst/ and is
// the project refreshed, so a failed or interrupted push leaves the
// project and mobilefirst/ as they were.
func buildAndPush(ctx context.Context, opts *WebupdateOptions, plan *webupdate.Plan) ([]webupdate.Archive, []PushResult, error) {
	var staged *webupdate.Staged
	_, err := writeWithProgress(ctx, opts.IO, plan.TotalBytes(), func(ctx context.Context, progress func(int64)) ([]webupdate.Archive, error) {
		var err error
		staged, err = plan.WriteStaged(ctx, progress)
		return nil, err
	})
	if err != nil {
		return nil, nil, err
	}

	uploads, err := pushBuilt(ctx, opts, staged.Archives)
	if err != nil {
		staged.Discard()
		if len(uploads) > 0 && ctx.Err() == nil {
			err = fmt.Errorf("%w (the server kept %d of %d uploads; the project and mobilefirst/ were not changed)", err, len(uploads), len(staged.Archives))
		}
		return nil, nil, err
	}
	archives, err := staged.Commit(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The uploads were read from the staging folder, which Commit removed:
	// report where the archives are now.
	for i := range uploads {
		for _, a := range archives {
			if a.Platform == uploads[i].Archive.Platform {
				uploads[i].Archive.Path = a.AbsPath
			}
		}
	}
	return archives, uploads, nil
}

// loadProject loads the Cordova project that findProjectRoot finds.
func loadProject(ctx context.Context, f *cmdutil.Factory, dir string) (*cordova.Project, error) {
	root, err := findProjectRoot(f, dir)
	if err != nil {
		return nil, err
	}
	return cordova.Load(ctx, root)
}

// findProjectRoot returns the root of the Cordova project at or above dir,
// the --project flag, or at or above the working folder when dir is empty.
func findProjectRoot(f *cmdutil.Factory, dir string) (string, error) {
	if dir == "" {
		wd, err := f.WorkDir()
		if err != nil {
			return "", err
		}
		return cordova.Find(wd)
	}

	return cmdutil.FindProject(dir)
}

// loadSigningKey reads --sign-key. A keystore's password comes from
// --keystore-password, MFPDEV_KEYSTORE_PASSWORD or a prompt on a terminal.
func loadSigningKey(opts *WebupdateOptions) (*rsa.PrivateKey, error) {
	if opts.SignKey == "" {
		return nil, nil
	}
	password := opts.KeystorePassword
	if password == "" {
		password = opts.Factory.Getenv("MFPDEV_KEYSTORE_PASSWORD")
	}
	if password == "" && isKeystore(opts.SignKey) {
		// A keystore may have an empty password; ask only when it does not.
		if key, err := signing.LoadPrivateKey(opts.SignKey, ""); err == nil {
			return key, nil
		}
		if !opts.IO.CanPrompt() {
			return nil, cmdutil.Usagef("--keystore-password or MFPDEV_KEYSTORE_PASSWORD required for keystore %s when not running interactively", opts.SignKey)
		}
		p, err := opts.Prompter.Password("Password of keystore " + opts.SignKey)
		if err != nil {
			return nil, err
		}
		password = p
	}
	key, err := signing.LoadPrivateKey(opts.SignKey, password)
	if err != nil {
		return nil, fmt.Errorf("--sign-key: %w", err)
	}
	return key, nil
}

func isKeystore(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".p12" || ext == ".pfx"
}

// writeWithProgress runs write, which writes archives and reports the bytes
// read so far, with a progress bar on stderr when it is a terminal.
func writeWithProgress(ctx context.Context, io *iostreams.IOStreams, total int64,
	write func(context.Context, func(int64)) ([]webupdate.Archive, error)) ([]webupdate.Archive, error) {
	if !io.IsStderrTTY() {
		return write(ctx, nil)
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(io.ErrOut),
		progressbar.OptionSetDescription("packaging"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	archives, err := write(ctx, func(n int64) { _ = bar.Set64(n) })
	_ = bar.Finish()
	return archives, err
}

// workDir returns the folder mfpdev runs in, or "" when it is unknown.
func workDir(f *cmdutil.Factory) string {
	wd, err := f.WorkDir()
	if err != nil {
		return ""
	}
	return wd
}

// printArchives prints one line per archive, with its path relative to
// workDir so that the user can paste it into the next command.
func printArchives(w io.Writer, archives []webupdate.Archive, workDir string) {
	for _, a := range archives {
		path := a.Path
		if workDir != "" {
			if rel, err := filepath.Rel(workDir, a.AbsPath); err == nil {
				path = rel
			}
		}
		signed := "unsigned"
		if a.Signed {
			signed = "signed"
		}
		fmt.Fprintf(w, "%-8s %s  checksum %d  %d files  %s  %s\n",
			a.Platform, path, a.Checksum, a.Files, formatBytes(a.PackedSize), signed)
	}
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func (opts *WebupdateOptions) pushOptions() PushOptions {
	return PushOptions{
		IO:         opts.IO,
		Prompter:   opts.Prompter,
		HTTPClient: opts.Factory.HTTPClient,
		Getenv:     opts.Factory.Getenv,
		Profile:    opts.Profile,
		Runtime:    opts.Runtime,
		Password:   opts.Password,
		URL:        opts.URL,
		Login:      opts.Login,
	}
}

// pushBuilt uploads the archives just built.
func pushBuilt(ctx context.Context, opts *WebupdateOptions, archives []webupdate.Archive) ([]PushResult, error) {
	toPush := make([]PushArchive, len(archives))
	for i, a := range archives {
		toPush[i] = PushArchive{
			Path: a.AbsPath, AppID: a.AppID, Platform: a.Platform, AppVersion: a.AppVersion,
			Checksum: a.Checksum, SHA256: a.SHA256,
		}
	}
	return pushArchives(ctx, opts.pushOptions(), toPush)
}

// pushFile uploads the archive named by --file, as it is.
func pushFile(ctx context.Context, opts *WebupdateOptions) error {
	archive, err := archiveFromFile(ctx, opts.File)
	if err != nil {
		return err
	}
	results, err := pushArchives(ctx, opts.pushOptions(), []PushArchive{archive})
	if err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.WriteJSON(opts.IO.Out, webupdateOutput{Uploads: results})
	}
	printUploads(opts.IO.Out, results)
	return nil
}

func printUploads(w io.Writer, results []PushResult) {
	for _, r := range results {
		d := r.Deployment
		if r.Unchanged {
			fmt.Fprintf(w, "%-8s already deployed on %s (runtime %s), unchanged: %s %s, checksum %d, sha256 %s\n",
				d.Platform, r.ServerURL, r.Runtime, d.AppID, d.AppVersion, d.Checksum, d.SHA256)
			continue
		}
		fmt.Fprintf(w, "%-8s uploaded to %s (runtime %s): %s %s, checksum %d, sha256 %s\n",
			d.Platform, r.ServerURL, r.Runtime, d.AppID, d.AppVersion, d.Checksum, d.SHA256)
	}
}
