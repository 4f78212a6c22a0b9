package server

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mfpdev/mfpdev/internal/cli/cmdutil"
	updateserver "github.com/mfpdev/mfpdev/internal/server"
	"github.com/mfpdev/mfpdev/internal/store"
)

// Environment variables read by the store flags of "server start".
const (
	// databaseEnv is read when --database is not given, so that a
	// password in the URL stays out of the process list.
	databaseEnv        = "MFPDEV_DATABASE"
	awsAccessKeyEnv    = "AWS_ACCESS_KEY_ID"
	awsSecretKeyEnv    = "AWS_SECRET_ACCESS_KEY"
	awsSessionTokenEnv = "AWS_SESSION_TOKEN"
)

// StoreOptions are the flags of "server start" that choose where
// deployments and archives are kept.
type StoreOptions struct {
	// Database is empty (SQLite in the data folder) or a postgres:// URL.
	Database string
	// BlobStore is empty (a folder in the data folder), file:///PATH or
	// s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION.
	BlobStore string
	// S3AccessKeyID and S3SecretKeyFile replace AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY.
	S3AccessKeyID   string
	S3SecretKeyFile string
	// PresignedDownloads redirects downloads to presigned S3 URLs valid
	// for PresignExpiry.
	PresignedDownloads bool
	PresignExpiry      time.Duration
}

func (o *StoreOptions) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.Database, "database", "", "PostgreSQL URL for the deployment metadata, postgres://USER@HOST:PORT/DATABASE (default: $"+databaseEnv+", else SQLite in --data)")
	fl.StringVar(&o.BlobStore, "blob-store", "", "Where archives are kept: file:///PATH or s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION (default: a folder in --data)")
	fl.StringVar(&o.S3AccessKeyID, "s3-access-key-id", "", "Access key ID of the S3 blob store (default: $"+awsAccessKeyEnv+")")
	fl.StringVar(&o.S3SecretKeyFile, "s3-secret-key-file", "", "File whose first line is the secret access key of the S3 blob store (default: $"+awsSecretKeyEnv+")")
	fl.BoolVar(&o.PresignedDownloads, "presigned-downloads", false, "Answer archive downloads with a redirect to a presigned URL of the S3 blob store instead of serving the bytes")
	fl.DurationVar(&o.PresignExpiry, "presigned-expiry", updateserver.DefaultPresignExpiry, "How long a presigned download URL stays valid, at most 168h")
}

// parse checks the forms of the store flags; opening the stores checks
// that they can be reached.
func (o *StoreOptions) parse(getenv func(string) string) error {
	if o.Database == "" {
		o.Database = getenv(databaseEnv)
	}
	if o.Database != "" && !store.IsPostgresURL(o.Database) {
		return cmdutil.Usagef("--database %s is invalid: use postgres://USER@HOST:PORT/DATABASE, or leave it out for SQLite in --data", store.RedactURL(o.Database))
	}

	switch {
	case o.BlobStore == "":
	case strings.HasPrefix(o.BlobStore, "file:"):
		if _, err := folderPath(o.BlobStore); err != nil {
			return err
		}
	case strings.HasPrefix(o.BlobStore, "s3:"):
		if _, err := store.ParseS3URL(o.BlobStore); err != nil {
			return cmdutil.Usagef("--blob-store: %v", err)
		}
	default:
		return cmdutil.Usagef("--blob-store %q is invalid: use file:///PATH or s3://BUCKET?endpoint=URL, or leave it out for a folder in --data", o.BlobStore)
	}

	if o.PresignedDownloads && !strings.HasPrefix(o.BlobStore, "s3:") {
		return cmdutil.Usagef("--presigned-downloads needs an S3 blob store: set --blob-store s3://BUCKET?endpoint=URL")
	}
	if o.PresignExpiry <= 0 || o.PresignExpiry > 7*24*time.Hour {
		return cmdutil.Usagef("--presigned-expiry %s is invalid: use a duration from 1s to 168h", o.PresignExpiry)
	}
	return nil
}

// folderPath returns the absolute path of a file:///PATH blob store.
func folderPath(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") || !filepath.IsAbs(u.Path) {
		return "", cmdutil.Usagef("--blob-store %q is invalid: use file:///ABSOLUTE/PATH", raw)
	}
	return filepath.FromSlash(u.Path), nil
}

// open opens the stores the flags name. With neither flag it returns
// nils, and the server opens SQLite and the blob folder in dataDir
// itself. When only one is set, the other is the one in dataDir, as the
// server would open it. close releases what open opened.
func (o *StoreOptions) open(ctx context.Context, dataDir string, getenv func(string) string) (meta store.Metadata, blobs store.Blobs, close func(), err error) {
	if o.Database == "" && o.BlobStore == "" {
		return nil, nil, func() {}, nil
	}

	if o.Database != "" {
		meta, err = store.OpenPostgres(ctx, o.Database)
	} else {
		meta, err = store.OpenSQLite(ctx, filepath.Join(dataDir, "metadata.db"))
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("start server: %w", err)
	}

	blobs, err = o.openBlobs(ctx, dataDir, getenv)
	if err != nil {
		meta.Close()
		return nil, nil, nil, fmt.Errorf("start server: %w", err)
	}
	return meta, blobs, func() { meta.Close() }, nil
}

func (o *StoreOptions) openBlobs(ctx context.Context, dataDir string, getenv func(string) string) (store.Blobs, error) {
	switch {
	case o.BlobStore == "":
		return store.OpenFolder(filepath.Join(dataDir, "blobs"))
	case strings.HasPrefix(o.BlobStore, "file:"):
		path, err := folderPath(o.BlobStore)
		if err != nil {
			return nil, err
		}
		return store.OpenFolder(path)
	}

	creds, err := o.s3Credentials(getenv)
	if err != nil {
		return nil, err
	}
	return store.OpenS3(ctx, o.BlobStore, creds)
}

// s3Credentials takes each key from its flag, else from the standard AWS
// environment variable.
func (o *StoreOptions) s3Credentials(getenv func(string) string) (store.S3Credentials, error) {
	creds := store.S3Credentials{
		AccessKeyID:     o.S3AccessKeyID,
		SecretAccessKey: getenv(awsSecretKeyEnv),
		SessionToken:    getenv(awsSessionTokenEnv),
	}
	if creds.AccessKeyID == "" {
		creds.AccessKeyID = getenv(awsAccessKeyEnv)
	}
	if o.S3SecretKeyFile != "" {
		b, err := os.ReadFile(o.S3SecretKeyFile)
		if err != nil {
			return creds, fmt.Errorf("read --s3-secret-key-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		creds.SecretAccessKey = strings.TrimSpace(line)
	}
	return creds, nil
}
