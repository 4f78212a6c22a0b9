package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 upload and clean-up parameters.
const (
	// s3PartSize is the part size of multipart uploads, and so the memory
	// one Put buffers. Archives up to this size go up in one PUT request.
	s3PartSize = 16 << 20
	// S3TempMaxAge is the age after which RemoveTemp deletes a temporary
	// object or an incomplete multipart upload. Other server instances may
	// be writing younger ones.
	S3TempMaxAge = 24 * time.Hour
)

// S3Credentials are the keys an S3 blob store signs requests with.
type S3Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken is needed only with temporary credentials.
	SessionToken string
}

// S3 is a Blobs backend in a bucket of any S3-compatible object store.
// Blobs are the objects PREFIX/sha256/<key>; a Put first writes
// PREFIX/tmp/<random name> and copies it to its key once the content's
// SHA-256 matches, so a blob is never visible before it is complete.
type S3 struct {
	client   *minio.Client
	core     minio.Core
	bucket   string
	prefix   string // empty or ending in "/"
	endpoint string
}

// ParsedS3URL is the content of an s3:// blob store URL.
type ParsedS3URL struct {
	Bucket string
	// Prefix is put before every object name; empty or ending in "/".
	Prefix string
	// Endpoint is the S3 server's URL: http:// or https:// and a host.
	Endpoint *url.URL
	Region   string
}

// ParseS3URL parses s3://BUCKET[/PREFIX]?endpoint=URL[&region=REGION].
func ParseS3URL(raw string) (ParsedS3URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return ParsedS3URL{}, fmt.Errorf("blob store %q is invalid: use s3://BUCKET[/PREFIX]?endpoint=https://HOST[:PORT]&region=REGION", raw)
	}
	if u.User != nil {
		return ParsedS3URL{}, fmt.Errorf("blob store %s has credentials in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead", u.Redacted())
	}
	q := u.Query()
	for name := range q {
		if name != "endpoint" && name != "region" {
			return ParsedS3URL{}, fmt.Errorf("blob store %s: unknown parameter %q: use endpoint and region", raw, name)
		}
	}

	p := ParsedS3URL{Bucket: u.Host, Region: q.Get("region")}
	if prefix := strings.Trim(u.Path, "/"); prefix != "" {
		p.Prefix = prefix + "/"
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		return ParsedS3URL{}, fmt.Errorf("blob store %s has no endpoint: add ?endpoint=https://HOST[:PORT] of the S3 server", raw)
	}
	p.Endpoint, err = url.Parse(endpoint)
	if err != nil || (p.Endpoint.Scheme != "http" && p.Endpoint.Scheme != "https") || p.Endpoint.Host == "" ||
		strings.Trim(p.Endpoint.Path, "/") != "" || p.Endpoint.User != nil {
		return ParsedS3URL{}, fmt.Errorf("blob store %s: endpoint %q is invalid: use http:// or https:// with a host and port only", raw, endpoint)
	}
	return p, nil
}

// OpenS3 connects to the bucket of the s3:// URL raw with creds, and
// checks that the bucket exists and that the credentials may list it.
func OpenS3(ctx context.Context, raw string, creds S3Credentials) (*S3, error) {
	p, err := ParseS3URL(raw)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("bucket %s at %s", p.Bucket, p.Endpoint)
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, fmt.Errorf("open blob store %s: credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", where)
	}

	client, err := minio.New(p.Endpoint.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		Secure: p.Endpoint.Scheme == "https",
		Region: p.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", where, err)
	}
	s := &S3{client: client, core: minio.Core{Client: client}, bucket: p.Bucket, prefix: p.Prefix, endpoint: p.Endpoint.String()}

	// A list call checks the bucket and the credentials at once. A HEAD
	// request (BucketExists) carries no error code, and some servers
	// return 404 to it for unknown access keys.
	for obj := range client.ListObjects(ctx, p.Bucket, minio.ListObjectsOptions{Prefix: p.Prefix, MaxKeys: 1}) {
		if obj.Err == nil {
			break
		}
		if minio.ToErrorResponse(obj.Err).Code == "NoSuchBucket" {
			return nil, fmt.Errorf("open blob store %s: bucket not found: create it first, or fix the bucket name", where)
		}
		return nil, fmt.Errorf("open blob store %s: %w", where, describeS3Error(obj.Err))
	}
	return s, nil
}

// describeS3Error adds the likely fix to errors that a user can fix.
func describeS3Error(err error) error {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	// versitygw 1.8 rejects an unknown access key with
	// XAdminUserNotFound and status 404.
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "XAdminUserNotFound":
		return fmt.Errorf("%w: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and the bucket's permissions", err)
	}
	if resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and the bucket's permissions", err)
	}
	return err
}

// String describes the store for logs; it contains no credentials.
func (s *S3) String() string {
	return fmt.Sprintf("s3 bucket %s/%s at %s", s.bucket, s.prefix, s.endpoint)
}

func (s *S3) object(key string) string { return s.prefix + "sha256/" + key }

// isS3NotFound reports whether err means that the object does not exist.
// A bare 404 status does not suffice, because versitygw also returns 404
// for an unknown access key.
func isS3NotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// Put uploads r to a temporary object while hashing it, checks the hash
// against key, and copies the temporary object to the blob's name on the
// server side. Memory use is bounded by one multipart part.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	if err := ValidateBlobKey(key); err != nil {
		return err
	}
	if _, err := s.client.StatObject(ctx, s.bucket, s.object(key), minio.StatObjectOptions{}); err == nil {
		return s.touch(ctx, key)
	} else if !isS3NotFound(err) {
		return fmt.Errorf("store blob %s: %w", key, s.ctxErr(ctx, err))
	}

	tmp := s.prefix + "tmp/put-" + rand.Text()
	defer func() {
		// The temporary object goes in every case, also after a
		// cancellation, so it uses its own short deadline.
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		s.client.RemoveObject(cleanupCtx, s.bucket, tmp, minio.RemoveObjectOptions{})
	}()

	hash := sha256.New()
	body := io.TeeReader(contextReader{ctx, r}, hash)
	if _, err := s.client.PutObject(ctx, s.bucket, tmp, body, readerSize(r, s3PartSize),
		minio.PutObjectOptions{PartSize: s3PartSize, ContentType: "application/zip"}); err != nil {
		return fmt.Errorf("store blob %s: %w", key, s.ctxErr(ctx, err))
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != key {
		return fmt.Errorf("store blob %s: content has SHA-256 %s", key, got)
	}

	// ComposeObject copies in parts where one copy request cannot hold
	// the object (above 5 GiB on Amazon S3).
	_, err := s.client.ComposeObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: s.object(key)},
		minio.CopySrcOptions{Bucket: s.bucket, Object: tmp})
	if err != nil {
		return fmt.Errorf("store blob %s: copy to its name: %w", key, s.ctxErr(ctx, err))
	}
	return nil
}

// touch sets the Last-Modified time of the blob to now by copying it to a
// temporary object and back on the server side. A copy onto itself would
// do on Amazon S3, but versitygw 1.8 keeps the old time then.
func (s *S3) touch(ctx context.Context, key string) error {
	tmp := s.prefix + "tmp/touch-" + rand.Text()
	defer func() {
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		s.client.RemoveObject(cleanupCtx, s.bucket, tmp, minio.RemoveObjectOptions{})
	}()

	for _, step := range [][2]string{{s.object(key), tmp}, {tmp, s.object(key)}} {
		_, err := s.client.ComposeObject(ctx,
			minio.CopyDestOptions{Bucket: s.bucket, Object: step[1]},
			minio.CopySrcOptions{Bucket: s.bucket, Object: step[0]})
		if err != nil {
			return fmt.Errorf("store blob %s: refresh modification time: %w", key, s.ctxErr(ctx, err))
		}
	}
	return nil
}

// readerSize returns the bytes left in r when r is a file at most max
// bytes long, and -1 otherwise, which makes PutObject stream in parts.
func readerSize(r io.Reader, max int64) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	offset, err := f.Seek(0, io.SeekCurrent)
	if err != nil || st.Size()-offset > max {
		return -1
	}
	return st.Size() - offset
}

// ctxErr returns ctx's error when ctx ended, so that callers can test for
// context.Canceled whatever the client wrapped it in.
func (s *S3) ctxErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return describeS3Error(err)
}

// Open returns a reader that fetches the blob with ranged GET requests,
// starting a new request after each Seek that moves the position.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, BlobInfo, error) {
	if err := ValidateBlobKey(key); err != nil {
		return nil, BlobInfo{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.object(key), minio.StatObjectOptions{})
	if isS3NotFound(err) {
		return nil, BlobInfo{}, fmt.Errorf("open blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, BlobInfo{}, fmt.Errorf("open blob %s: %w", key, s.ctxErr(ctx, err))
	}
	r := &s3Reader{ctx: ctx, s: s, key: key, etag: info.ETag, size: info.Size}
	return r, BlobInfo{Size: info.Size, ModTime: info.LastModified}, nil
}

// PresignGet returns a URL that lets anyone GET the blob until expiry.
// The response carries contentType and a Content-Disposition with
// filename, when the S3 server honours the response-* parameters.
func (s *S3) PresignGet(ctx context.Context, key string, expiry time.Duration, contentType, filename string) (*url.URL, error) {
	if err := ValidateBlobKey(key); err != nil {
		return nil, err
	}
	params := url.Values{}
	if contentType != "" {
		params.Set("response-content-type", contentType)
	}
	if filename != "" {
		params.Set("response-content-disposition", fmt.Sprintf(`attachment; filename="%s"`, filename))
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, s.object(key), expiry, params)
	if err != nil {
		return nil, fmt.Errorf("presign blob %s: %w", key, err)
	}
	return u, nil
}

// Delete removes the blob's object.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateBlobKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.object(key), minio.RemoveObjectOptions{})
	if err != nil && !isS3NotFound(err) {
		return fmt.Errorf("delete blob %s: %w", key, s.ctxErr(ctx, err))
	}
	return nil
}

// List returns the keys of the objects under PREFIX/sha256/ whose names
// are valid keys; other objects there are left alone.
func (s *S3) List(ctx context.Context) ([]string, error) {
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + "sha256/", Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list blobs: %w", s.ctxErr(ctx, obj.Err))
		}
		name := strings.TrimPrefix(obj.Key, s.prefix+"sha256/")
		if ValidateBlobKey(name) == nil {
			keys = append(keys, name)
		}
	}
	return keys, nil
}

// RemoveTemp deletes temporary objects and incomplete multipart uploads
// under PREFIX/tmp/ that are older than S3TempMaxAge. Younger ones may
// belong to a Put running in another server instance.
func (s *S3) RemoveTemp(ctx context.Context) error {
	cutoff := time.Now().Add(-S3TempMaxAge)
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + "tmp/", Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("remove temporary blobs: %w", s.ctxErr(ctx, obj.Err))
		}
		if obj.LastModified.After(cutoff) {
			continue
		}
		if err := s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil && !isS3NotFound(err) {
			return fmt.Errorf("remove temporary blobs: %w", s.ctxErr(ctx, err))
		}
	}

	for upload := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix+"tmp/", true) {
		if upload.Err != nil {
			// Not every S3-compatible server lists multipart uploads; a
			// bucket lifecycle rule can abort them instead.
			if minio.ToErrorResponse(upload.Err).Code == "NotImplemented" {
				return nil
			}
			return fmt.Errorf("remove incomplete uploads: %w", s.ctxErr(ctx, upload.Err))
		}
		if upload.Initiated.After(cutoff) {
			continue
		}
		if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, upload.Key); err != nil {
			return fmt.Errorf("remove incomplete upload %s: %w", upload.Key, s.ctxErr(ctx, err))
		}
	}
	return nil
}

// s3Reader reads one blob with ranged GET requests. The body of the
// current request stays open while reads continue at its position.
type s3Reader struct {
	ctx    context.Context
	s      *S3
	key    string
	etag   string
	size   int64
	offset int64
	body   io.ReadCloser
}

func (r *s3Reader) Read(p []byte) (int, error) {
	if r.offset >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		opts := minio.GetObjectOptions{}
		if err := opts.SetRange(r.offset, r.size-1); err != nil {
			return 0, err
		}
		// The blob's name is its SHA-256, so the ETag only guards against
		// a replaced object after a manual change to the bucket.
		if err := opts.SetMatchETag(r.etag); err != nil {
			return 0, err
		}
		body, _, _, err := r.s.core.GetObject(r.ctx, r.s.bucket, r.s.object(r.key), opts)
		if err != nil {
			return 0, fmt.Errorf("read blob %s at offset %d: %w", r.key, r.offset, r.s.ctxErr(r.ctx, err))
		}
		r.body = body
	}

	n, err := r.body.Read(p)
	r.offset += int64(n)
	if errors.Is(err, io.EOF) && r.offset < r.size {
		return n, fmt.Errorf("read blob %s: body ended at offset %d of %d: %w", r.key, r.offset, r.size, io.ErrUnexpectedEOF)
	}
	return n, err
}

func (r *s3Reader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.offset + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, fmt.Errorf("seek blob %s: invalid whence %d", r.key, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("seek blob %s: negative position %d", r.key, abs)
	}
	if abs != r.offset && r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.offset = abs
	return abs, nil
}

func (r *s3Reader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	return err
}
