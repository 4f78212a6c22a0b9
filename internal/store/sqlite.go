package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go)

	"github.com/mfpdev/mfpdev/internal/crashtest"
)

// migrations are applied in order, and the schema_migrations table records
// the number of each one applied. Append new steps, never edit applied ones.
var migrations = []string{
	1: `
CREATE TABLE deployments (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	runtime          TEXT    NOT NULL,
	app_id           TEXT    NOT NULL,
	platform         TEXT    NOT NULL,
	app_version      TEXT    NOT NULL,
	plugin_version   TEXT    NOT NULL,
	platform_version TEXT    NOT NULL,
	checksum         INTEGER NOT NULL,
	size             INTEGER NOT NULL,
	files            INTEGER NOT NULL,
	unpacked_size    INTEGER NOT NULL,
	packed_size      INTEGER NOT NULL,
	sha256           TEXT    NOT NULL,
	signed           INTEGER NOT NULL,
	deployed_at      TEXT    NOT NULL,
	deployed_by      TEXT    NOT NULL,
	active           INTEGER NOT NULL
);
CREATE INDEX deployments_by_app ON deployments (runtime, app_id, platform, app_version, id);
CREATE UNIQUE INDEX deployments_one_active ON deployments (runtime, app_id, platform, app_version) WHERE active = 1;
CREATE INDEX deployments_by_sha256 ON deployments (sha256);
`,
	2: `
CREATE TABLE delta_builds (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	runtime         TEXT    NOT NULL,
	app_id          TEXT    NOT NULL,
	platform        TEXT    NOT NULL,
	app_version     TEXT    NOT NULL,
	base_sha256     TEXT    NOT NULL,
	target_sha256   TEXT    NOT NULL,
	key_id          TEXT    NOT NULL,
	format          TEXT    NOT NULL,
	base_checksum   INTEGER NOT NULL,
	target_checksum INTEGER NOT NULL,
	state           TEXT    NOT NULL CHECK (state IN ('built', 'skipped', 'failed')),
	sha256          TEXT    NOT NULL,
	packed_size     INTEGER NOT NULL,
	unpacked_size   INTEGER NOT NULL,
	min_savings     INTEGER NOT NULL,
	reason          TEXT    NOT NULL,
	created_at      TEXT    NOT NULL,
	updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX delta_builds_by_key ON delta_builds
	(runtime, app_id, platform, app_version, base_sha256, target_sha256, key_id, format);
CREATE INDEX delta_builds_by_sha256 ON delta_builds (sha256);
`,
}

// SQLite is a Metadata backend in one SQLite database file, opened in WAL
// mode so that device checks read while an upload commits.
type SQLite struct {
	db *sql.DB
}

// OpenSQLite opens (creating if needed) the database at path and applies
// pending schema migrations.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
	// so two writers wait for each other instead of failing to upgrade.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &SQLite{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current >= len(migrations) {
		return fmt.Errorf("schema version %d is newer than this mfpdev supports (%d): upgrade mfpdev", current, len(migrations)-1)
	}

	for v := current + 1; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("apply schema migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			v, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("record schema migration %d: %w", v, err)
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

const deploymentColumns = `id, runtime, app_id, platform, app_version, plugin_version, platform_version,
	checksum, size, files, unpacked_size, packed_size, sha256, signed, deployed_at, deployed_by, active`

const keyCondition = `runtime = ? AND app_id = ? AND platform = ? AND app_version = ?`

func keyArgs(k AppKey) []any { return []any{k.Runtime, k.AppID, k.Platform, k.AppVersion} }

// Insert marks the current active deployment of d.AppKey inactive and
// inserts d as active, in one transaction.
func (s *SQLite) Insert(ctx context.Context, d *Deployment) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("insert deployment %s: %w", d.AppKey, err)
	}
	defer tx.Rollback()

	if _, err := tx.ExecContext(ctx, `UPDATE deployments SET active = 0 WHERE active = 1 AND `+keyCondition, keyArgs(d.AppKey)...); err != nil {
		return fmt.Errorf("insert deployment %s: %w", d.AppKey, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO deployments (runtime, app_id, platform, app_version, plugin_version,
		platform_version, checksum, size, files, unpacked_size, packed_size, sha256, signed, deployed_at, deployed_by, active)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		d.Runtime, d.AppID, d.Platform, d.AppVersion, d.PluginVersion, d.PlatformVersion,
		int64(d.Checksum), d.Size, d.Files, d.UnpackedSize, d.PackedSize, d.SHA256, d.Signed,
		d.DeployedAt.UTC().Format(time.RFC3339Nano), d.DeployedBy)
	if err != nil {
		return fmt.Errorf("insert deployment %s: %w", d.AppKey, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert deployment %s: %w", d.AppKey, err)
	}
	crashtest.At(crashtest.BeforeCommit)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("insert deployment %s: %w", d.AppKey, err)
	}

	d.ID = id
	d.Active = true
	return nil
}

// Active returns the active deployment of key.
func (s *SQLite) Active(ctx context.Context, key AppKey) (Deployment, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE active = 1 AND `+keyCondition, keyArgs(key)...)
	d, err := scanDeployment(row)
	if err != nil {
		return Deployment{}, fmt.Errorf("find active deployment %s: %w", key, err)
	}
	return d, nil
}

// History returns every deployment of key, newest first.
func (s *SQLite) History(ctx context.Context, key AppKey) ([]Deployment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE `+keyCondition+` ORDER BY id DESC`, keyArgs(key)...)
	if err != nil {
		return nil, fmt.Errorf("list deployments %s: %w", key, err)
	}
	defer rows.Close()

	var list []Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("list deployments %s: %w", key, err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deployments %s: %w", key, err)
	}
	return list, nil
}

// FindByChecksum returns the newest deployment of key with checksum.
func (s *SQLite) FindByChecksum(ctx context.Context, key AppKey, checksum uint32) (Deployment, error) {
	args := append(keyArgs(key), int64(checksum))
	row := s.db.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE `+keyCondition+
		` AND checksum = ? ORDER BY id DESC LIMIT 1`, args...)
	d, err := scanDeployment(row)
	if err != nil {
		return Deployment{}, fmt.Errorf("find deployment %s with checksum %d: %w", key, checksum, err)
	}
	return d, nil
}

// Deactivate marks the active deployment of key inactive.
func (s *SQLite) Deactivate(ctx context.Context, key AppKey) error {
	res, err := s.db.ExecContext(ctx, `UPDATE deployments SET active = 0 WHERE active = 1 AND `+keyCondition, keyArgs(key)...)
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("deactivate %s: no active deployment: %w", key, ErrNotFound)
	}
	return nil
}

// Delete removes the deployment row id.
func (s *SQLite) Delete(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM deployments WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete deployment %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete deployment %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete deployment %d: %w", id, ErrNotFound)
	}
	return nil
}

// Apps lists the apps with an active deployment in runtime.
func (s *SQLite) Apps(ctx context.Context, runtime string) ([]App, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT app_id, platform, app_version FROM deployments
		WHERE runtime = ? AND active = 1 ORDER BY app_id, platform, app_version`, runtime) // BINARY collation: byte order
	if err != nil {
		return nil, fmt.Errorf("list apps of runtime %s: %w", runtime, err)
	}
	defer rows.Close()

	return collectApps(rows, runtime)
}

// BlobKeys returns the distinct sha256 values of all deployments and
// built deltas.
func (s *SQLite) BlobKeys(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sha256 FROM deployments
		UNION SELECT sha256 FROM delta_builds WHERE state = 'built'`)
	if err != nil {
		return nil, fmt.Errorf("list referenced blobs: %w", err)
	}
	defer rows.Close()

	keys := map[string]bool{}
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return nil, fmt.Errorf("list referenced blobs: %w", err)
		}
		keys[key] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list referenced blobs: %w", err)
	}
	return keys, nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanDeployment(row rowScanner) (Deployment, error) {
	var d Deployment
	var checksum int64
	var deployedAt string
	err := row.Scan(&d.ID, &d.Runtime, &d.AppID, &d.Platform, &d.AppVersion, &d.PluginVersion, &d.PlatformVersion,
		&checksum, &d.Size, &d.Files, &d.UnpackedSize, &d.PackedSize, &d.SHA256, &d.Signed, &deployedAt, &d.DeployedBy, &d.Active)
	if errors.Is(err, sql.ErrNoRows) {
		return Deployment{}, ErrNotFound
	}
	if err != nil {
		return Deployment{}, err
	}

	d.Checksum = uint32(checksum)
	d.DeployedAt, err = time.Parse(time.RFC3339Nano, deployedAt)
	if err != nil {
		return Deployment{}, fmt.Errorf("deployment %d: invalid deployed_at %q: %w", d.ID, deployedAt, err)
	}
	return d, nil
}

const deltaKeyCondition = keyCondition + ` AND base_sha256 = ? AND target_sha256 = ? AND key_id = ? AND format = ?`

func deltaKeyArgs(k DeltaKey) []any {
	return append(keyArgs(k.AppKey), k.BaseSHA256, k.TargetSHA256, k.KeyID, k.Format)
}

const deltaBuildColumns = `runtime, app_id, platform, app_version, base_sha256, target_sha256, key_id, format,
	base_checksum, target_checksum, state, sha256, packed_size, unpacked_size, min_savings, reason, created_at, updated_at`

// deltaBuildUpsert is the statement of PutDeltaBuild in both backends,
// which differ only in their placeholders.
const deltaBuildUpsert = `INSERT INTO delta_builds (` + deltaBuildColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (runtime, app_id, platform, app_version, base_sha256, target_sha256, key_id, format) DO UPDATE SET
		base_checksum = excluded.base_checksum, target_checksum = excluded.target_checksum,
		state = excluded.state, sha256 = excluded.sha256, packed_size = excluded.packed_size,
		unpacked_size = excluded.unpacked_size, min_savings = excluded.min_savings,
		reason = excluded.reason, updated_at = excluded.updated_at
	WHERE delta_builds.state <> 'built' OR excluded.state <> 'failed'`

// deltaOrphanDelete is the statement of RemoveOrphanDeltaBuilds in both
// backends.
const deltaOrphanDelete = `DELETE FROM delta_builds WHERE
	NOT EXISTS (SELECT 1 FROM deployments d WHERE d.sha256 = delta_builds.base_sha256 AND d.runtime = delta_builds.runtime
		AND d.app_id = delta_builds.app_id AND d.platform = delta_builds.platform AND d.app_version = delta_builds.app_version)
	OR NOT EXISTS (SELECT 1 FROM deployments d WHERE d.sha256 = delta_builds.target_sha256 AND d.runtime = delta_builds.runtime
		AND d.app_id = delta_builds.app_id AND d.platform = delta_builds.platform AND d.app_version = delta_builds.app_version)`

// DeltaBuild returns the delta index entry of k.
func (s *SQLite) DeltaBuild(ctx context.Context, k DeltaKey) (DeltaBuild, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+deltaBuildColumns+` FROM delta_builds WHERE `+deltaKeyCondition, deltaKeyArgs(k)...)
	var b DeltaBuild
	var base, target int64
	var createdAt, updatedAt string
	err := row.Scan(&b.Runtime, &b.AppID, &b.Platform, &b.AppVersion, &b.BaseSHA256, &b.TargetSHA256, &b.KeyID, &b.Format,
		&base, &target, &b.State, &b.SHA256, &b.PackedSize, &b.UnpackedSize, &b.MinSavings, &b.Reason, &createdAt, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err == nil {
		b.BaseChecksum, b.TargetChecksum = uint32(base), uint32(target)
		b.CreatedAt, err = time.Parse(time.RFC3339Nano, createdAt)
	}
	if err == nil {
		b.UpdatedAt, err = time.Parse(time.RFC3339Nano, updatedAt)
	}
	if err != nil {
		return DeltaBuild{}, fmt.Errorf("find delta %s: %w", k, err)
	}
	return b, nil
}

// PutDeltaBuild inserts or replaces the delta index entry of b.DeltaKey.
func (s *SQLite) PutDeltaBuild(ctx context.Context, b *DeltaBuild) error {
	now := time.Now().UTC()
	stamp := now.Format(time.RFC3339Nano)
	args := append(deltaKeyArgs(b.DeltaKey), int64(b.BaseChecksum), int64(b.TargetChecksum), string(b.State), b.SHA256,
		b.PackedSize, b.UnpackedSize, b.MinSavings, b.Reason, stamp, stamp)
	if _, err := s.db.ExecContext(ctx, deltaBuildUpsert, args...); err != nil {
		return fmt.Errorf("store delta %s: %w", b.DeltaKey, err)
	}
	stored, err := s.DeltaBuild(ctx, b.DeltaKey)
	if err != nil {
		return err
	}
	b.CreatedAt, b.UpdatedAt = stored.CreatedAt, stored.UpdatedAt
	return nil
}

// DeleteDeltaBuild removes the delta index entry of k.
func (s *SQLite) DeleteDeltaBuild(ctx context.Context, k DeltaKey) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM delta_builds WHERE `+deltaKeyCondition, deltaKeyArgs(k)...); err != nil {
		return fmt.Errorf("delete delta %s: %w", k, err)
	}
	return nil
}

// RemoveOrphanDeltaBuilds removes the delta index entries of deleted
// deployments.
func (s *SQLite) RemoveOrphanDeltaBuilds(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, deltaOrphanDelete)
	if err != nil {
		return 0, fmt.Errorf("remove deltas of deleted deployments: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("remove deltas of deleted deployments: %w", err)
	}
	return n, nil
}
