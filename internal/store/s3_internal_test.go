package store

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestS3RemoveTempKeepsYoungObjects(t *testing.T) {
	s3URL := os.Getenv("MFPDEV_TEST_S3")
	if s3URL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MFPDEV_TEST_S3 is not set: run \". scripts/ci-services.sh\" to start an S3 server")
		}
		t.Skip("MFPDEV_TEST_S3 is not set: run \". scripts/ci-services.sh\" to start an S3 server")
	}
	ctx := context.Background()
	bucket, query, _ := strings.Cut(s3URL, "?")
	prefix := "t_" + strings.ToLower(rand.Text())
	s, err := OpenS3(ctx, bucket+"/"+prefix+"?"+query,
		S3Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
	if err != nil {
		t.Fatal(err)
	}

	// A temporary object of a Put that another instance is running.
	name := s.prefix + "tmp/put-running"
	if _, err := s.client.PutObject(ctx, s.bucket, name, strings.NewReader("partial"), 7, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}) })

	if err := s.RemoveTemp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{}); err != nil {
		t.Errorf("RemoveTemp deleted a temporary object younger than %s: %v", S3TempMaxAge, err)
	}
}
