package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

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

// s3TestCredentials returns the credentials of the test bucket.
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

func TestPostgresConcurrentStarts(t *testing.T) {
	postgresURL, _ := requireSharedServices(t)
	ctx := context.Background()
	schema := "t_" + strings.ToLower(rand.Text())
	createSchema(t, postgresURL, schema)
	dsn := withSearchPath(t, postgresURL, schema)

	// Instances that start at once each run the migrations; the advisory
	// lock lets the first apply them and the others find them applied.
	const instances = 4
	errs := make(chan error, instances)
	for range instances {
		go func() {
			meta, err := store.OpenPostgres(ctx, dsn)
			if err == nil {
				meta.Close()
			}
			errs <- err
		}()
	}
	for range instances {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, distinct int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != distinct || rows == 0 {
		t.Errorf("schema_migrations has %d rows for %d versions, want each version once", rows, distinct)
	}
}

func TestPostgresConcurrentInserts(t *testing.T) {
	postgresURL, _ := requireSharedServices(t)
	ctx := context.Background()
	schema := "t_" + strings.ToLower(rand.Text())
	createSchema(t, postgresURL, schema)

	// Two handles stand for two server instances sharing the database.
	var handles [2]*store.Postgres
	for i := range handles {
		meta, err := store.OpenPostgres(ctx, withSearchPath(t, postgresURL, schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { meta.Close() })
		handles[i] = meta
	}

	const perHandle = 20
	errs := make(chan error, 2*perHandle)
	var wg sync.WaitGroup
	for i, meta := range handles {
		for j := range perHandle {
			wg.Go(func() {
				errs <- meta.Insert(ctx, deployment(uint32(i*perHandle+j), []byte{byte(i), byte(j)}))
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	history, err := handles[0].History(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2*perHandle {
		t.Fatalf("history has %d entries, want %d", len(history), 2*perHandle)
	}
	active := 0
	for _, d := range history {
		if d.Active {
			active++
		}
	}
	if active != 1 {
		t.Errorf("%d deployments are active, want 1", active)
	}
	if !history[0].Active {
		t.Errorf("the newest deployment %d is not the active one", history[0].ID)
	}
}

func TestS3OpenErrors(t *testing.T) {
	_, s3URL := requireSharedServices(t)
	ctx := context.Background()
	missingBucket := "s3://mfpdev-missing-bucket?" + strings.SplitN(s3URL, "?", 2)[1]

	tests := []struct {
		name  string
		url   string
		creds store.S3Credentials
		want  string
	}{
		{"missing bucket", missingBucket, s3TestCredentials(), "bucket not found"},
		{"wrong secret", s3URL, store.S3Credentials{AccessKeyID: s3TestCredentials().AccessKeyID, SecretAccessKey: "wrong"}, "check AWS_ACCESS_KEY_ID"},
		{"unknown key id", s3URL, store.S3Credentials{AccessKeyID: "nobody", SecretAccessKey: "wrong"}, "check AWS_ACCESS_KEY_ID"},
		{"no credentials", s3URL, store.S3Credentials{}, "credentials missing"},
		{"no endpoint", "s3://mfpdev-test", s3TestCredentials(), "has no endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.OpenS3(ctx, tt.url, tt.creds)
			if err == nil {
				t.Fatal("OpenS3 succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), s3TestCredentials().SecretAccessKey) {
				t.Errorf("error %q shows the secret key", err)
			}
		})
	}
}

func TestS3MultipartPutAndRangedReads(t *testing.T) {
	_, s3URL := requireSharedServices(t)
	ctx := context.Background()
	blobs, err := store.OpenS3(ctx, withS3Prefix(t, s3URL, "t_"+strings.ToLower(rand.Text())), s3TestCredentials())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyBlobs(t, blobs) })

	// Larger than one 16 MiB part, and not from a file, so Put streams it
	// as a multipart upload of unknown length.
	content := make([]byte, 20<<20+123)
	for i := range content {
		content[i] = byte(i * 7 / 3)
	}
	key := sha(content)
	if err := blobs.Put(ctx, key, io.MultiReader(bytes.NewReader(content))); err != nil {
		t.Fatal(err)
	}

	r, info, err := blobs.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if info.Size != int64(len(content)) {
		t.Errorf("size = %d, want %d", info.Size, len(content))
	}
	for _, offset := range []int64{17 << 20, 5, int64(len(content)) - 10} {
		if _, err := r.Seek(offset, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 10)
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("read at %d: %v", offset, err)
		}
		if !bytes.Equal(got, content[offset:offset+10]) {
			t.Errorf("bytes at %d differ", offset)
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(all, content) {
		t.Error("whole content read back differs")
	}
}

func TestS3PresignGet(t *testing.T) {
	_, s3URL := requireSharedServices(t)
	ctx := context.Background()
	blobs, err := store.OpenS3(ctx, withS3Prefix(t, s3URL, "t_"+strings.ToLower(rand.Text())), s3TestCredentials())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emptyBlobs(t, blobs) })
	content := []byte("presigned archive")
	if err := blobs.Put(ctx, sha(content), bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}

	u, err := blobs.PresignGet(ctx, sha(content), time.Minute, "application/zip", "app.zip")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET presigned URL: status %d: %s", resp.StatusCode, body)
	}
	if !bytes.Equal(body, content) {
		t.Errorf("body = %q, want %q", body, content)
	}
}

func TestPostgresCacheSeesOtherWriters(t *testing.T) {
	postgresURL, _ := requireSharedServices(t)
	ctx := context.Background()
	schema := "t_" + strings.ToLower(rand.Text())
	createSchema(t, postgresURL, schema)
	var handles [2]*store.Postgres
	for i := range handles {
		meta, err := store.OpenPostgres(ctx, withSearchPath(t, postgresURL, schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { meta.Close() })
		handles[i] = meta
	}

	// The reader's cache would keep its entries for an hour, so only the
	// change announced by the writer can make it read the new row.
	reader := store.NewCachedMetadata(handles[1], time.Hour)
	reader.FollowChanges()
	changed := make(chan *store.AppKey, 100)
	handles[1].OnChange(func(k *store.AppKey) {
		select {
		case changed <- k:
		default:
		}
	})
	// The listener reports "anything may have changed" once it listens.
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the change listener did not start within 10s")
	}
	if _, err := reader.Active(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Active before any upload: err = %v, want ErrNotFound", err)
	}

	d := deployment(7, []byte("written by the other instance"))
	if err := handles[0].Insert(ctx, d); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for announced := false; !announced; {
		select {
		case got := <-changed:
			announced = got != nil && *got == key
		case <-timeout:
			t.Fatal("no change of the app version announced within 10s of the insert")
		}
	}

	active, err := reader.Active(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if active.ID != d.ID {
		t.Errorf("cached Active = deployment %d, want %d", active.ID, d.ID)
	}
}
