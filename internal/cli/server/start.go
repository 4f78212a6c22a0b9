package server

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/adrg/xdg"
	"github.com/dustin/go-humanize"
	"github.com/gofrs/flock"
	"github.com/spf13/cobra"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	"github.com/mfpdev/mfpdev/internal/cli/iostreams"
	"github.com/mfpdev/mfpdev/internal/cli/prompt"
	updateserver "github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/protocol"
	"github.com/mfpdev/mfpdev/pkg/signing"
)

func init() {
	newCmdStart = func(f *cmdutil.Factory) *cobra.Command { return NewCmdStart(f, nil) }
}

// adminPasswordEnv is the environment variable read when --admin-password
// is not given.
const adminPasswordEnv = "MFPDEV_ADMIN_PASSWORD"

// StartOptions are the inputs of "server start".
type StartOptions struct {
	IO      *iostreams.IOStreams
	Getenv  func(string) string
	Context context.Context
	Version string

	Addr            string
	DataDir         string
	Runtimes        []string
	AdminContext    string
	AdminUser       string
	AdminPassword   string
	UsersFile       string
	TrustedKeys     []string
	MaxUploadSize   int64
	MaxEntries      int
	MaxUncompressed int64
	DownloadBaseURL string
	LogFormat       string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration

	// Abuse limits of the HTTP server.
	AuthFailuresPerMinute int
	MaxCompressionRatio   int64
	TrustedProxies        []netip.Prefix
	trustedProxyValues    []string // --trusted-proxy as given
	ReadHeaderTimeout     time.Duration
	BodyTimeout           time.Duration
	Delta                 DeltaOptions

	// Store is the location of the deployment metadata and the archives.
	Store StoreOptions
}

// NewCmdStart returns "server start". runF replaces startRun in tests.
func NewCmdStart(f *cmdutil.Factory, runF func(*StartOptions) error) *cobra.Command {
	opts := &StartOptions{IO: f.IOStreams, Getenv: f.Getenv, Version: f.Version}
	var maxUpload, maxUncompressed, logLevel string

	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run an update server",
		Long: `Run an update server that stores direct-update archives and offers them
to devices.

Admin API (HTTP Basic auth), below /<admin-context>/management-apis/2.0:
  POST|GET|DELETE runtimes/<runtime>/applications/<appId>/<platform>/<version>/web
  GET runtimes, GET runtimes/<runtime>/applications
Device API: POST /<runtime>/api/directupdate/check and the download links
it returns. Also GET /healthz and Prometheus metrics at GET /metrics.

Users and roles: admin may do everything, deployer may upload and read,
monitor may only read. --admin-user and --admin-password (or the
MFPDEV_ADMIN_PASSWORD environment variable) define one admin; --users adds
users from a file with one "name:role:bcrypt-hash" line per user (lines
starting with # are comments). The server reads the file only at start, so
restart it after a change. Make a hash with
  mfpdev server hash-password
or with Apache's htpasswd:
  htpasswd -nbB '' 'PASSWORD' | tr -d ':\n'
With no user configured and a loopback --addr, the server creates the user
admin with password admin and logs a warning; on any other address it does
not start without credentials.

With --trusted-key, uploads must be signed by one of the keys; unsigned or
wrongly signed archives are rejected.

Delta archives: a device on one of the --delta-history deployments before
the active one gets only the changed files, once the server has built that
delta in the background (an upload starts the builds, and a check starts
any still missing) and when it saves --delta-min-savings percent. To
offer deltas of signed deployments, give the same key with --signing-key.

Storage: by default SQLite and a blob folder in --data. With --database
postgres://… and --blob-store s3://… several instances share one
PostgreSQL database and one bucket; each instance still needs its own
--data for upload temporary files. S3 keys come from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, or --s3-access-key-id and --s3-secret-key-file.
--presigned-downloads redirects devices to short-lived S3 URLs, and
--download-base-url makes download links point at a CDN or proxy.

Once the server listens, it prints "mfpdev: serving on URL (data in DIR)"
on standard error, so scripts can wait for that line. SIGINT or SIGTERM stop
it: it stops accepting connections and lets running requests finish within
--shutdown-timeout.

Exit status:
  0  stopped by SIGINT or SIGTERM after running requests finished
  1  the server failed to start or stopped on an error, or requests were
     still running when --shutdown-timeout passed
  2  invalid flags or arguments`,
		Example: `  # Local server for development (user admin, password admin)
  mfpdev server start

  # Any free port, printed on standard error
  mfpdev server start --addr 127.0.0.1:0

  # Shared server that accepts only signed archives, on loopback behind a
  # reverse proxy on the same host that terminates TLS
  mfpdev server start --addr 127.0.0.1:9080 --users /etc/mfpdev/users.txt \
    --trusted-proxy 127.0.0.1 --trusted-key "$(cat public-key.b64)" --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context = cmd.Context()
			if err := opts.parse(maxUpload, maxUncompressed, logLevel); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return startRun(opts)
		},
	}

	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", protocol.DefaultAddr, "Address to listen on, host:port; port 0 picks a free port")
	fl.StringVar(&opts.DataDir, "data", "", "Folder for the database and archives (default: mfpdev/server in the user's data folder)")
	fl.StringSliceVar(&opts.Runtimes, "runtime", []string{protocol.DefaultRuntime}, "Runtime names devices and uploads may use (repeat the flag or separate with commas)")
	fl.StringVar(&opts.AdminContext, "admin-context", protocol.DefaultAdminContext, "First path segment of the admin API")
	fl.StringVar(&opts.AdminUser, "admin-user", "", `Name of the admin user (default "admin" when a password is given)`)
	fl.StringVar(&opts.AdminPassword, "admin-password", "", "Password of the admin user (default: $"+adminPasswordEnv+")")
	fl.StringVar(&opts.UsersFile, "users", "", `File of users, one "name:role:bcrypt-hash" per line; roles admin, deployer, monitor`)
	fl.StringArrayVar(&opts.TrustedKeys, "trusted-key", nil, "Public key that uploads must be signed with: base64 SubjectPublicKeyInfo as in config.xml, or a key or certificate file (repeatable)")
	fl.StringVar(&maxUpload, "max-upload-size", "512MiB", "Maximum size of an uploaded archive, with a unit (KB, MB, MiB, GB, …)")
	fl.IntVar(&opts.MaxEntries, "max-entries", bundle.DefaultMaxEntries, "Maximum number of zip entries in an uploaded archive")
	fl.Int64Var(&opts.MaxCompressionRatio, "max-compression-ratio", bundle.DefaultMaxRatio, "Maximum ratio of uncompressed to compressed size of one entry larger than 1 MiB in an uploaded archive")
	fl.StringVar(&maxUncompressed, "max-uncompressed-size", defaultMaxUncompressed, "Maximum total uncompressed size of an uploaded archive, with a unit")
	fl.StringVar(&opts.DownloadBaseURL, "download-base-url", "", "Absolute URL that download links start with, for a CDN or proxy; the runtime name follows it (default: links relative to the runtime root)")
	fl.StringVar(&opts.LogFormat, "log-format", "", "Log format on standard error: text or json (default: text on a terminal, json otherwise)")
	fl.StringVar(&logLevel, "log-level", "info", "Lowest level logged: debug, info, warn or error")
	fl.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", updateserver.DefaultShutdownTimeout, "How long running requests may take to finish after SIGINT or SIGTERM")
	fl.IntVar(&opts.AuthFailuresPerMinute, "auth-failures-per-minute", updateserver.DefaultAuthFailuresPerMinute, "Failed admin logins one client address may make per minute before it gets 429 responses; 0 disables the limit")
	fl.StringSliceVar(&opts.trustedProxyValues, "trusted-proxy", nil, "Address or CIDR range of a reverse proxy whose X-Forwarded-For names the client that failed logins are counted under (repeatable)")
	fl.DurationVar(&opts.ReadHeaderTimeout, "read-header-timeout", updateserver.DefaultReadHeaderTimeout, "Time a client may take to send a request header")
	fl.DurationVar(&opts.BodyTimeout, "body-timeout", updateserver.DefaultBodyTimeout, "Time a client may take to send each 64 KiB of a request body (a small body whole), or to accept each 64 KiB of a response")
	opts.Delta.addFlags(fl)
	opts.Store.addFlags(fl)
	return cmd
}

// parse validates the flag values that need more than cobra's parsing.
func (opts *StartOptions) parse(maxUpload, maxUncompressed, logLevel string) error {
	n, err := parseSize("--max-upload-size", maxUpload)
	if err != nil {
		return err
	}
	opts.MaxUploadSize = n
	if opts.MaxUncompressed, err = parseSize("--max-uncompressed-size", maxUncompressed); err != nil {
		return err
	}
	if opts.MaxEntries <= 0 {
		return cmdutil.Usagef("--max-entries %d is invalid: use a positive number", opts.MaxEntries)
	}
	if opts.MaxCompressionRatio <= 0 {
		return cmdutil.Usagef("--max-compression-ratio %d is invalid: use a positive number", opts.MaxCompressionRatio)
	}

	if err := opts.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return cmdutil.Usagef("--log-level %q is invalid: use debug, info, warn or error", logLevel)
	}
	switch opts.LogFormat {
	case "":
		opts.LogFormat = "json"
		if opts.IO.IsStderrTTY() {
			opts.LogFormat = "text"
		}
	case "text", "json":
	default:
		return cmdutil.Usagef("--log-format %q is invalid: use text or json", opts.LogFormat)
	}

	if opts.DownloadBaseURL != "" {
		u, err := url.Parse(opts.DownloadBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return cmdutil.Usagef("--download-base-url %q is invalid: use an absolute http or https URL without query, such as https://cdn.example.com", opts.DownloadBaseURL)
		}
	}
	if err := opts.Store.parse(opts.Getenv); err != nil {
		return err
	}
	if err := opts.Delta.parse(); err != nil {
		return err
	}
	if opts.ShutdownTimeout <= 0 {
		return cmdutil.Usagef("--shutdown-timeout %s is invalid: use a positive duration such as 30s", opts.ShutdownTimeout)
	}
	for _, value := range opts.trustedProxyValues {
		prefix, err := parseProxy(value)
		if err != nil {
			return cmdutil.Usagef("--trusted-proxy %q is invalid: use an IP address or a CIDR range such as 10.0.0.0/8", value)
		}
		opts.TrustedProxies = append(opts.TrustedProxies, prefix)
	}
	if opts.AuthFailuresPerMinute < 0 {
		return cmdutil.Usagef("--auth-failures-per-minute %d is invalid: use a positive number, or 0 for no limit", opts.AuthFailuresPerMinute)
	}
	if opts.ReadHeaderTimeout <= 0 || opts.BodyTimeout <= 0 {
		return cmdutil.Usagef("--read-header-timeout %s and --body-timeout %s must be positive durations, such as 10s", opts.ReadHeaderTimeout, opts.BodyTimeout)
	}
	_, port, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return cmdutil.Usagef("--addr %q is invalid: use host:port, such as 127.0.0.1:9080", opts.Addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return cmdutil.Usagef("--addr %q has an invalid port %q: use a number from 0 to 65535, such as 127.0.0.1:9080", opts.Addr, port)
	}

	if opts.AdminPassword == "" {
		// A secret mounted from a file often ends with a line break, which
		// the CLI also drops from MFPDEV_PASSWORD.
		opts.AdminPassword = strings.TrimRight(opts.Getenv(adminPasswordEnv), "\r\n")
	}
	if opts.AdminUser != "" && opts.AdminPassword == "" {
		return cmdutil.Usagef("--admin-user %s has no password: set --admin-password or %s", opts.AdminUser, adminPasswordEnv)
	}
	if opts.AdminPassword != "" && opts.AdminUser == "" {
		opts.AdminUser = "admin"
	}
	return nil
}

// parseSize reads a size flag such as 512MiB. A bare number is rejected
// because "512" is more likely a forgotten unit than 512 bytes.
func parseSize(flag, value string) (int64, error) {
	trimmed := strings.TrimSpace(value)
	if trimmed != "" && strings.IndexFunc(trimmed, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return 0, cmdutil.Usagef("%s %q has no unit: add one, such as %sMiB or %sB for bytes", flag, value, trimmed, trimmed)
	}
	n, err := humanize.ParseBytes(value)
	if err != nil || n == 0 || n > 1<<62 {
		return 0, cmdutil.Usagef("%s %q is invalid: use a positive size with a unit, such as 512MiB", flag, value)
	}
	return int64(n), nil
}

func startRun(opts *StartOptions) error {
	logger := newLogger(opts.IO.ErrOut, opts.LogFormat, opts.LogLevel)

	// Listen first, so that an address in use or invalid fails before the
	// data folder or the development user is created.
	listener, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w: choose another --addr", opts.Addr, err)
	}
	defer listener.Close()

	users, devUser, err := opts.users()
	if err != nil {
		return err
	}
	keys, err := loadTrustedKeys(opts.TrustedKeys)
	if err != nil {
		return err
	}
	signer, err := opts.Delta.loadSigner(opts.Getenv)
	if err != nil {
		return err
	}
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(xdg.DataHome, "mfpdev", "server")
	}
	unlock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	if devUser {
		logger.Warn("no users configured: created user admin with password admin; set --admin-password or --users before exposing the server",
			"addr", opts.Addr)
	}
	meta, blobs, closeStore, err := opts.Store.open(opts.Context, dataDir, opts.Getenv)
	if err != nil {
		return err
	}
	defer closeStore()

	var cfgSigner crypto.Signer
	if signer != nil {
		cfgSigner = signer
	}
	srv, err := updateserver.New(updateserver.Config{
		Signer:          cfgSigner,
		DataDir:         dataDir,
		Runtimes:        opts.Runtimes,
		AdminContext:    opts.AdminContext,
		Users:           users,
		TrustedKeys:     keys,
		MaxUploadSize:   opts.MaxUploadSize,
		Limits:          bundle.Limits{MaxEntries: opts.MaxEntries, MaxUncompressed: opts.MaxUncompressed, MaxRatio: opts.MaxCompressionRatio},
		DownloadBaseURL: opts.DownloadBaseURL,
		ShutdownTimeout: opts.ShutdownTimeout,
		ProductVersion:  "mfpdev " + opts.Version,
		Logger:          logger,

		AuthFailuresPerMinute: authFailuresPerMinute(opts.AuthFailuresPerMinute),
		ReadHeaderTimeout:     opts.ReadHeaderTimeout,
		BodyTimeout:           opts.BodyTimeout,
		TrustedProxies:        opts.TrustedProxies,
		DeltaHistory:          opts.Delta.History,
		DeltaMinSavings:       opts.Delta.MinSavings,

		Metadata:           meta,
		Blobs:              blobs,
		PresignedDownloads: opts.Store.PresignedDownloads,
		PresignExpiry:      opts.Store.PresignExpiry,
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	fmt.Fprintf(opts.IO.ErrOut, "mfpdev: serving on http://%s (data in %s)\n", listener.Addr(), dataDir)
	err = srv.Serve(opts.Context, listener)
	if err != nil && opts.Context.Err() != nil {
		return &cmdutil.StopError{Err: err}
	}
	return err
}

// defaultMaxUncompressed is bundle.DefaultMaxUncompressed in the form of
// the other size defaults; a test checks that the two agree.
const defaultMaxUncompressed = "1GiB"

// dataLockName is the file in the data folder that a running server keeps
// locked.
const dataLockName = "server.lock"

// lockDataDir creates dataDir and locks it for this process. At start a
// server deletes the upload leftovers it finds in its data folder, so a
// second server on the same folder would delete the uploads the first one
// is receiving.
func lockDataDir(dataDir string) (unlock func(), err error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	lock := flock.New(filepath.Join(dataDir, dataLockName))
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data folder %s: %w", dataDir, err)
	}
	if !locked {
		return nil, fmt.Errorf("data folder %s is in use by another mfpdev server: stop that server or give this one its own --data folder", dataDir)
	}
	return func() { lock.Unlock() }, nil
}

// parseProxy parses a --trusted-proxy value: an address or a CIDR range.
func parseProxy(value string) (netip.Prefix, error) {
	if addr, err := netip.ParseAddr(value); err == nil {
		return netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()), nil
	}
	prefix, err := netip.ParsePrefix(value)
	if err != nil {
		return netip.Prefix{}, err
	}
	return prefix.Masked(), nil
}

// authFailuresPerMinute maps the flag's 0 (no limit) to the Config's -1.
func authFailuresPerMinute(flag int) int {
	if flag == 0 {
		return -1
	}
	return flag
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	handlerOpts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, handlerOpts))
	}
	return slog.New(slog.NewTextHandler(w, handlerOpts))
}

// users returns the admin from the flags and the users of --users. With
// neither, a server on a loopback address gets the development user
// admin/admin, and dev is true.
func (opts *StartOptions) users() (users []updateserver.User, dev bool, err error) {
	if opts.AdminPassword != "" {
		u, err := updateserver.NewUser(opts.AdminUser, updateserver.RoleAdmin, opts.AdminPassword)
		if err != nil {
			return nil, false, cmdutil.Usagef("--admin-user: %v", err)
		}
		users = append(users, u)
	}
	if opts.UsersFile != "" {
		f, err := os.Open(opts.UsersFile)
		if err != nil {
			return nil, false, fmt.Errorf("read users: %w", err)
		}
		defer f.Close()
		fromFile, err := updateserver.ParseUsers(opts.UsersFile, f)
		if err != nil {
			return nil, false, fmt.Errorf("read users: %w", err)
		}
		// An empty file and no --admin-password must not fall back to the
		// development login below.
		if len(fromFile) == 0 && len(users) == 0 {
			return nil, false, cmdutil.Usagef("--users %s defines no user: add a line NAME:ROLE:HASH per user (mfpdev server hash-password prints the HASH)", opts.UsersFile)
		}
		users = append(users, fromFile...)
	}
	if err := checkUniqueUsers(users); err != nil {
		return nil, false, err
	}
	if len(users) > 0 {
		return users, false, nil
	}

	if !isLoopback(opts.Addr) {
		return nil, false, cmdutil.Usagef("no admin credentials for a server listening on %s: set --admin-password (or %s) or --users, or listen on 127.0.0.1",
			opts.Addr, adminPasswordEnv)
	}
	u, err := updateserver.NewUser(devLogin, updateserver.RoleAdmin, devLogin)
	if err != nil {
		return nil, false, err
	}
	return []updateserver.User{u}, true, nil
}

// devLogin is the user name and password of the development user that a
// loopback server without configured users gets.
const devLogin = "admin"

// checkUniqueUsers rejects a --users file that defines the --admin-user,
// before the server creates anything.
func checkUniqueUsers(users []updateserver.User) error {
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.Name] {
			return cmdutil.Usagef("user %q is defined by --admin-user and in the --users file: keep one definition", u.Name)
		}
		seen[u.Name] = true
	}
	return nil
}

// isLoopback reports whether addr's host only accepts local connections.
// An empty host listens on every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadTrustedKeys reads each --trusted-key value as a file when one exists
// at that path, and as a base64 SubjectPublicKeyInfo otherwise.
func loadTrustedKeys(values []string) ([]*rsa.PublicKey, error) {
	var keys []*rsa.PublicKey
	for _, v := range values {
		if st, err := os.Stat(v); err == nil && st.Mode().IsRegular() {
			pub, err := signing.LoadPublicKey(v, "")
			if err != nil {
				return nil, cmdutil.Usagef("--trusted-key: %v", err)
			}
			keys = append(keys, pub)
			continue
		}
		pub, err := signing.ParsePublicKeyBase64(v)
		if err != nil {
			return nil, cmdutil.Usagef("--trusted-key: neither a readable file nor a base64 public key: %v", err)
		}
		keys = append(keys, pub)
	}
	return keys, nil
}

// HashPasswordOptions are the inputs of "server hash-password".
type HashPasswordOptions struct {
	IO       *iostreams.IOStreams
	Prompter prompt.Prompter
}

// NewCmdHashPassword returns "server hash-password", which prints the
// bcrypt hash of a password for a --users file. runF replaces
// hashPasswordRun in tests.
func NewCmdHashPassword(f *cmdutil.Factory, runF func(*HashPasswordOptions) error) *cobra.Command {
	opts := &HashPasswordOptions{IO: f.IOStreams, Prompter: f.Prompter}
	return &cobra.Command{
		Use:   "hash-password",
		Short: "Print the bcrypt hash of a password for a users file",
		Long: `Print the bcrypt hash of a password, for the third field of a line of
the file that "mfpdev server start --users" reads.

On a terminal, mfpdev asks for the password twice without echoing it, on
standard error, so standard output can be redirected. Otherwise it reads the
first line of standard input.` + "\n" + cmdutil.ExitStatusLocalHelp,
		Example: `  printf 'deployer:deployer:%s\n' "$(mfpdev server hash-password)" >> users.txt
  echo "$PASSWORD" | mfpdev server hash-password`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return hashPasswordRun(opts)
		},
	}
}

func hashPasswordRun(opts *HashPasswordOptions) error {
	var password string
	if opts.IO.CanPrompt() {
		p, err := opts.Prompter.Password("Password:")
		if err != nil {
			return err
		}
		// The password is not echoed, so a typo shows only as a failed
		// login later: ask twice.
		again, err := opts.Prompter.Password("Password again:")
		if err != nil {
			return err
		}
		if again != p {
			return errors.New("the two passwords differ: run the command again")
		}
		password = p
	} else {
		line, err := bufio.NewReader(opts.IO.In).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if password == "" {
		return cmdutil.Usagef("password is empty: type one, or pipe it on standard input")
	}

	if len(password) > updateserver.MaxPasswordBytes {
		return cmdutil.Usagef("password is %d bytes long, more than the %d bytes bcrypt uses: choose a shorter one", len(password), updateserver.MaxPasswordBytes)
	}
	hash, err := updateserver.HashPassword(password)
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.Out, string(hash))
	return nil
}
