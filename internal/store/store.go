// Package store keeps what the update server knows between restarts: the
// metadata of every uploaded web-resources archive (Metadata) and the
// archive bytes themselves (Blobs).
//
// The two halves are separate interfaces so that each can move to another
// backend on its own (SQLite or PostgreSQL for metadata, a folder or an
// object store for blobs). Blobs are content addressed: the key of an
// archive is the lowercase hex SHA-256 of its bytes, so uploading the same
// archive twice stores it once.
//
// Writers keep one order so that a crash never leaves a row pointing at
// missing bytes: the blob is written and synced first, then the metadata
// row that references it is committed. A crash between the two steps leaves
// an unreferenced blob, which RemoveUnreferenced deletes at the next start.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"time"
)

// ErrNotFound is returned when no deployment or blob matches a lookup.
var ErrNotFound = errors.New("not found")

// AppKey names one app version on one platform in one runtime: the unit
// a device checks for updates and an upload replaces.
type AppKey struct {
	Runtime    string
	AppID      string
	Platform   string
	AppVersion string
}

func (k AppKey) String() string {
	return fmt.Sprintf("%s/%s/%s/%s", k.Runtime, k.AppID, k.Platform, k.AppVersion)
}

// Deployment is one uploaded archive of an app version.
type Deployment struct {
	// ID is assigned by Metadata.Insert and increases with every insert.
	ID int64
	AppKey
	PluginVersion   string
	PlatformVersion string
	// Checksum is the web-resources checksum devices report.
	Checksum uint32
	// Size is the sum of the sizes of the files the checksum covers, in bytes.
	Size int64
	// Files is the number of files under www/ in the archive.
	Files int
	// UnpackedSize is the sum of the sizes of all archive entries, in bytes.
	UnpackedSize int64
	// PackedSize is the archive's size in bytes.
	PackedSize int64
	// SHA256 is the lowercase hex SHA-256 of the archive and its blob key.
	SHA256     string
	Signed     bool
	DeployedAt time.Time
	// DeployedBy is the name of the user who uploaded the archive.
	DeployedBy string
	// Active is true for the deployment devices are offered. At most one
	// deployment per AppKey is active.
	Active bool
}

// App lists the active versions of one app on one platform.
type App struct {
	AppID    string
	Platform string
	// Versions is sorted in byte order.
	Versions []string
}

// Metadata stores deployments. Implementations are safe for concurrent use.
type Metadata interface {
	// Insert stores d as the active deployment of d.AppKey in one
	// transaction: the deployment active before stays as inactive
	// history. Insert sets d.ID and d.Active.
	Insert(ctx context.Context, d *Deployment) error
	// Active returns the active deployment of key, or ErrNotFound.
	Active(ctx context.Context, key AppKey) (Deployment, error)
	// History returns every deployment of key, active or not, newest first.
	History(ctx context.Context, key AppKey) ([]Deployment, error)
	// FindByChecksum returns the newest deployment of key with checksum,
	// active or not, or ErrNotFound.
	FindByChecksum(ctx context.Context, key AppKey, checksum uint32) (Deployment, error)
	// Deactivate stops offering key: its active deployment becomes
	// history. It returns ErrNotFound when key has no active deployment.
	Deactivate(ctx context.Context, key AppKey) error
	// Delete removes one deployment row and leaves its blob for
	// RemoveUnreferenced. It returns ErrNotFound for an unknown id.
	Delete(ctx context.Context, id int64) error
	// Apps lists the apps with an active deployment in runtime, sorted by
	// app id and platform.
	Apps(ctx context.Context, runtime string) ([]App, error)
	// BlobKeys returns the set of blob keys any deployment or built
	// delta references.
	BlobKeys(ctx context.Context) (map[string]bool, error)
	// DeltaBuild returns the delta index entry of k, or ErrNotFound.
	DeltaBuild(ctx context.Context, k DeltaKey) (DeltaBuild, error)
	// PutDeltaBuild stores b as the index entry of b.DeltaKey, replacing
	// the entry there, except that a failed build never replaces a built
	// one: instances building the same delta at once both succeed. It
	// sets b.CreatedAt and b.UpdatedAt.
	PutDeltaBuild(ctx context.Context, b *DeltaBuild) error
	// DeleteDeltaBuild removes the index entry of k, so that the delta is
	// built again. Deleting a missing entry is not an error.
	DeleteDeltaBuild(ctx context.Context, k DeltaKey) error
	// RemoveOrphanDeltaBuilds removes the index entries whose base or
	// target archive no deployment of their app version references any
	// more, and returns how many it removed. Their blobs are left for
	// RemoveUnreferenced.
	RemoveOrphanDeltaBuilds(ctx context.Context) (int64, error)
	Close() error
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Size    int64
	ModTime time.Time
}

// Blobs stores archives by key. Implementations are safe for concurrent use.
type Blobs interface {
	// Put stores the bytes of r under key, which must be the lowercase hex
	// SHA-256 of those bytes. Put stores nothing when the content does not
	// match. The blob becomes visible only once complete and
	// durable. Storing a key that exists already succeeds without reading
	// r, and sets the blob's modification time to now, so that
	// RemoveUnreferencedOlderThan keeps it until its row is committed.
	Put(ctx context.Context, key string, r io.Reader) error
	// Open returns the blob's content for reading and seeking, or
	// ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, BlobInfo, error)
	// Delete removes a blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys of every stored blob.
	List(ctx context.Context) ([]string, error)
	// RemoveTemp deletes the leftovers of interrupted Put calls. Call it
	// only while no Put is running.
	RemoveTemp(ctx context.Context) error
}

var blobKeyPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidateBlobKey checks that key is a lowercase hex SHA-256.
func ValidateBlobKey(key string) error {
	if !blobKeyPattern.MatchString(key) {
		return fmt.Errorf("blob key %q is invalid: want 64 lowercase hex digits (a SHA-256)", key)
	}
	return nil
}

// Presigner is implemented by Blobs backends that can hand out a URL from
// which anyone may download a blob until expiry (the S3 backend).
type Presigner interface {
	// PresignGet returns a URL for GET requests of the blob key, valid for
	// expiry. The response carries contentType and an attachment
	// Content-Disposition with filename where the store supports it.
	PresignGet(ctx context.Context, key string, expiry time.Duration, contentType, filename string) (*url.URL, error)
}

// RemoveUnreferenced deletes temporary files, the delta index entries of
// deleted deployments and every blob no deployment or delta index entry
// references, and returns the blob keys it deleted. Run it at start, before
// serving uploads, because a Put in flight has no row yet.
func RemoveUnreferenced(ctx context.Context, meta Metadata, blobs Blobs) ([]string, error) {
	return RemoveUnreferencedOlderThan(ctx, meta, blobs, 0, time.Now())
}

// RemoveUnreferencedOlderThan is RemoveUnreferenced for stores that other
// server instances may share. It keeps unreferenced blobs modified after
// now minus minAge, because another instance may have stored such a blob
// and not yet committed the row that references it.
//
// NOTE: an old unreferenced blob that another instance stores again
// between this function's age check and its delete is still deleted,
// leaving that instance's new row without its archive.
func RemoveUnreferencedOlderThan(ctx context.Context, meta Metadata, blobs Blobs, minAge time.Duration, now time.Time) ([]string, error) {
	if err := blobs.RemoveTemp(ctx); err != nil {
		return nil, err
	}
	if _, err := meta.RemoveOrphanDeltaBuilds(ctx); err != nil {
		return nil, err
	}

	referenced, err := meta.BlobKeys(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := blobs.List(ctx)
	if err != nil {
		return nil, err
	}

	var removed []string
	for _, key := range keys {
		if referenced[key] {
			continue
		}
		if minAge > 0 {
			recent, err := modifiedAfter(ctx, blobs, key, now.Add(-minAge))
			if err != nil {
				return removed, err
			}
			if recent {
				continue
			}
		}
		if err := blobs.Delete(ctx, key); err != nil {
			return removed, err
		}
		removed = append(removed, key)
	}
	return removed, nil
}

// modifiedAfter reports whether the blob key was modified after cutoff. A
// blob deleted in the meantime counts as recent, so it is left alone.
func modifiedAfter(ctx context.Context, blobs Blobs, key string, cutoff time.Time) (bool, error) {
	r, info, err := blobs.Open(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	r.Close()
	return info.ModTime.After(cutoff), nil
}
