package store_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mfpdev/mfpdev/internal/store"
)

// Environment variables that name the PostgreSQL database and the S3
// bucket of the postgres+s3 backend; scripts/ci-services.sh sets them.
const (
	postgresEnv = "MFPDEV_TEST_POSTGRES"
	s3Env       = "MFPDEV_TEST_S3"
)

func init() {
	backends = append(backends, backend{name: "postgres+s3", open: openPostgresS3})
}

// sharedNamespaces maps a test folder to the PostgreSQL schema and S3
// prefix created for it, so that opening the same folder twice reopens the
// same data, as the SQLite and folder backends do.
var sharedNamespaces sync.Map

// requireSharedServices returns the PostgreSQL URL and the s3:// URL of
// the test services. It skips the test when they are not set, and fails
// it in CI, where scripts/ci-services.sh must have started them.
func requireSharedServices(t *testing.T) (postgresURL, s3URL string) {
	t.Helper()
	postgresURL, s3URL = os.Getenv(postgresEnv), os.Getenv(s3Env)
	if postgresURL != "" && s3URL != "" {
		return postgresURL, s3URL
	}
	msg := postgresEnv + " and " + s3Env + " are not set: run \". scripts/ci-services.sh\" to start PostgreSQL and an S3 server"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return "", ""
}

// S3TestCredentials returns the credentials of the test bucket.
func s3TestCredentials() store.S3Credentials {
	return store.S3Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
}

func openPostgresS3(t *testing.T, dir string) (store.Metadata, store.Blobs) {
	t.Helper()
	postgresURL, s3URL := requireSharedServices(t)
	ctx := context.Background()

	name := "t_" + strings.ToLower(rand.Text())
	actual, loaded := sharedNamespaces.LoadOrStore(dir, name)
	name = actual.(string)
	if !loaded {
		createSchema(t, postgresURL, name)
	}

	meta, err := store.OpenPostgres(ctx, withSearchPath(t, postgresURL, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })

	blobs, err := store.OpenS3(ctx, withS3Prefix(t, s3URL, name), s3TestCredentials())
	if err != nil {
		t.Fatal(err)
	}
	if !loaded {
		t.Cleanup(func() { emptyBlobs(t, blobs) })
	}
	return meta, blobs
}

// createSchema creates an empty schema and drops it when the test ends.
func createSchema(t *testing.T, postgresURL, name string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, postgresURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, postgresURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
}

// withSearchPath adds search_path=schema to a postgres:// URL, which pgx
// sends as a run-time parameter of every connection.
func withSearchPath(t *testing.T, postgresURL, schema string) string {
	t.Helper()
	sep := "?"
	if strings.Contains(postgresURL, "?") {
		sep = "&"
	}
	return postgresURL + sep + "search_path=" + schema
}

// withS3Prefix puts prefix after the bucket of an s3:// URL.
func withS3Prefix(t *testing.T, s3URL, prefix string) string {
	t.Helper()
	bucket, query, _ := strings.Cut(s3URL, "?")
	return strings.TrimRight(bucket, "/") + "/" + prefix + "?" + query
}

func emptyBlobs(t *testing.T, blobs store.Blobs) {
	ctx := context.Background()
	keys, err := blobs.List(ctx)
	if err != nil {
		t.Error(err)
		return
	}
	for _, key := range keys {
		if err := blobs.Delete(ctx, key); err != nil {
			t.Error(err)
		}
	}
}
