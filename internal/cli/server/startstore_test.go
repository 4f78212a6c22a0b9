package server

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestStartStoreFlags(t *testing.T) {
	opts, err := parseStart(t, map[string]string{databaseEnv: "postgres://mfpdev:secret@127.0.0.1:5432/mfpdev"},
		"--blob-store", "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1",
		"--presigned-downloads", "--presigned-expiry", "5m")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Store.Database != "postgres://mfpdev:secret@127.0.0.1:5432/mfpdev" {
		t.Errorf("Database = %q, want the value of %s", opts.Store.Database, databaseEnv)
	}
	if !opts.Store.PresignedDownloads {
		t.Error("PresignedDownloads = false")
	}
	if opts.Store.PresignExpiry != 5*time.Minute {
		t.Errorf("PresignExpiry = %s, want 5m", opts.Store.PresignExpiry)
	}
}

func TestStartStoreFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"mysql database", []string{"--database", "mysql://root:hunter2@127.0.0.1/db"}, "--database mysql://root:xxxxx@127.0.0.1/db is invalid"},
		{"relative folder", []string{"--blob-store", "file://blobs"}, "file:///ABSOLUTE/PATH"},
		{"unknown scheme", []string{"--blob-store", "gs://bucket"}, "--blob-store \"gs://bucket\" is invalid"},
		{"s3 without endpoint", []string{"--blob-store", "s3://bucket"}, "has no endpoint"},
		{"presign without s3", []string{"--presigned-downloads"}, "--presigned-downloads needs an S3 blob store"},
		{"presign too long", []string{"--blob-store", "s3://b?endpoint=http://127.0.0.1:9000", "--presigned-downloads", "--presigned-expiry", "200h"}, "--presigned-expiry 200h0m0s is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseStart(t, nil, tt.args...)
			if err == nil {
				t.Fatal("parse accepted the flags")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the database password", err)
			}
		})
	}
}

func TestStartStoreS3Credentials(t *testing.T) {
	secretFile := t.TempDir() + "/secret"
	if err := os.WriteFile(secretFile, []byte("from-file\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{awsAccessKeyEnv: "env-id", awsSecretKeyEnv: "env-secret"}
	getenv := func(k string) string { return env[k] }

	fromEnv, err := (&StoreOptions{}).s3Credentials(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if fromEnv.AccessKeyID != "env-id" || fromEnv.SecretAccessKey != "env-secret" {
		t.Errorf("credentials from the environment = %q / %q", fromEnv.AccessKeyID, fromEnv.SecretAccessKey)
	}

	fromFlags, err := (&StoreOptions{S3AccessKeyID: "flag-id", S3SecretKeyFile: secretFile}).s3Credentials(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if fromFlags.AccessKeyID != "flag-id" || fromFlags.SecretAccessKey != "from-file" {
		t.Errorf("credentials from the flags = %q / %q", fromFlags.AccessKeyID, fromFlags.SecretAccessKey)
	}
}
