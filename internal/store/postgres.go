package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresMigrations are applied in order, and the schema_migrations table
// records the number of each one applied. Append new steps, never edit
// applied ones. Text columns use the "C" collation so that ORDER BY sorts
// in byte order, as SQLite does.
var postgresMigrations = []string{
	1: `
CREATE TABLE deployments (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	runtime          TEXT COLLATE "C" NOT NULL,
	app_id           TEXT COLLATE "C" NOT NULL,
	platform         TEXT COLLATE "C" NOT NULL,
	app_version      TEXT COLLATE "C" NOT NULL,
	plugin_version   TEXT        NOT NULL,
	platform_version TEXT        NOT NULL,
	checksum         BIGINT      NOT NULL CHECK (checksum BETWEEN 0 AND 4294967295),
	size             BIGINT      NOT NULL,
	files            INTEGER     NOT NULL,
	unpacked_size    BIGINT      NOT NULL,
	packed_size      BIGINT      NOT NULL,
	sha256           TEXT        NOT NULL,
	signed           BOOLEAN     NOT NULL,
	deployed_at      TIMESTAMPTZ NOT NULL,
	deployed_by      TEXT        NOT NULL,
	active           BOOLEAN     NOT NULL
);
CREATE INDEX deployments_by_app ON deployments (runtime, app_id, platform, app_version, id);
CREATE UNIQUE INDEX deployments_one_active ON deployments (runtime, app_id, platform, app_version) WHERE active;
CREATE INDEX deployments_by_sha256 ON deployments (sha256);
`,
	2: `
CREATE TABLE delta_builds (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	runtime         TEXT COLLATE "C" NOT NULL,
	app_id          TEXT COLLATE "C" NOT NULL,
	platform        TEXT COLLATE "C" NOT NULL,
	app_version     TEXT COLLATE "C" NOT NULL,
	base_sha256     TEXT        NOT NULL,
	target_sha256   TEXT        NOT NULL,
	key_id          TEXT        NOT NULL,
	format          TEXT        NOT NULL,
	base_checksum   BIGINT      NOT NULL CHECK (base_checksum BETWEEN 0 AND 4294967295),
	target_checksum BIGINT      NOT NULL CHECK (target_checksum BETWEEN 0 AND 4294967295),
	state           TEXT        NOT NULL CHECK (state IN ('built', 'skipped', 'failed')),
	sha256          TEXT        NOT NULL,
	packed_size     BIGINT      NOT NULL,
	unpacked_size   BIGINT      NOT NULL,
	min_savings     INTEGER     NOT NULL,
	reason          TEXT        NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX delta_builds_by_key ON delta_builds
	(runtime, app_id, platform, app_version, base_sha256, target_sha256, key_id, format);
CREATE INDEX delta_builds_by_sha256 ON delta_builds (sha256);
`,
}

// Advisory lock keys. migrationLockKey serializes the schema migrations of
// server instances that start at once. appKeyLockSpace is the first half
// of the two-key lock that writers of one AppKey take.
const (
	migrationLockKey = 0x6d667064_65760001 // "mfpdev" and 1
	appKeyLockSpace  = 0x6d667064          // "mfpd"
)

// Postgres is a Metadata backend in a PostgreSQL database. Several server
// instances may share one database: writers of one app version take a
// transaction-scoped advisory lock, so concurrent uploads keep exactly one
// active deployment and a complete history.
type Postgres struct {
	pool    *pgxpool.Pool
	desc    string
	changes changeFeed
}

// OpenPostgres connects to the database at dsn (a postgres:// URL or a
// key=value connection string), checks the connection and applies pending
// schema migrations under an advisory lock.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx error messages may repeat the connection string, password
		// included, so only the redacted form is shown.
		return nil, fmt.Errorf("open database %s: invalid connection string: use postgres://USER@HOST:PORT/DATABASE", RedactURL(dsn))
	}
	desc := fmt.Sprintf("postgres %s@%s:%d/%s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", desc, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w: check that the server runs and the credentials in --database are valid", desc, err)
	}
	p := &Postgres{pool: pool, desc: desc}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", desc, err)
	}
	return p, nil
}

// RedactURL returns rawURL with any password replaced by "xxxxx", for
// logs and errors. A string that does not parse as a URL is replaced
// whole.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return "(connection string hidden)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// String describes the database without the password, for logs.
func (p *Postgres) String() string { return p.desc }

// migrate applies pending migrations in one transaction while holding a
// session advisory lock, so instances starting at once apply each
// migration exactly once.
func (p *Postgres) migrate(ctx context.Context) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockKey)); err != nil {
		return fmt.Errorf("lock schema migrations: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLockKey))

	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())

	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current >= len(postgresMigrations) {
		return fmt.Errorf("schema version %d is newer than this mfpdev supports (%d): upgrade mfpdev", current, len(postgresMigrations)-1)
	}

	for v := current + 1; v < len(postgresMigrations); v++ {
		if _, err := tx.Exec(ctx, postgresMigrations[v]); err != nil {
			return fmt.Errorf("apply schema migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, v); err != nil {
			return fmt.Errorf("record schema migration %d: %w", v, err)
		}
	}
	return tx.Commit(ctx)
}

// Close closes every connection of the pool.
func (p *Postgres) Close() error {
	p.stopListening()
	p.pool.Close()
	return nil
}

const pgKeyCondition = `runtime = $1 AND app_id = $2 AND platform = $3 AND app_version = $4`

// lockAppKey takes the transaction-scoped advisory lock of key, so that
// writers of one app version run one after the other.
func lockAppKey(ctx context.Context, tx pgx.Tx, key AppKey) error {
	h := fnv.New32a()
	for _, part := range []string{key.Runtime, key.AppID, key.Platform, key.AppVersion} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(appKeyLockSpace), int32(h.Sum32()))
	return err
}

// Insert marks the current active deployment of d.AppKey inactive and
// inserts d as active, in one transaction. PostgreSQL stores time in
// microseconds, so Insert truncates d.DeployedAt to that precision.
func (p *Postgres) Insert(ctx context.Context, d *Deployment) error {
	deployedAt := d.DeployedAt.UTC().Truncate(time.Microsecond)
	var id int64
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := lockAppKey(ctx, tx, d.AppKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deployments SET active = false WHERE active AND `+pgKeyCondition, pgKeyArgs(d.AppKey)...); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO deployments (runtime, app_id, platform, app_version, plugin_version,
			platform_version, checksum, size, files, unpacked_size, packed_size, sha256, signed, deployed_at, deployed_by, active)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, true) RETURNING id`,
			d.Runtime, d.AppID, d.Platform, d.AppVersion, d.PluginVersion, d.PlatformVersion,
			int64(d.Checksum), d.Size, d.Files, d.UnpackedSize, d.PackedSize, d.SHA256, d.Signed,
			deployedAt, d.DeployedBy).Scan(&id); err != nil {
			return err
		}
		return notifyChange(ctx, tx, &d.AppKey)
	})
	if err != nil {
		return fmt.Errorf("insert deployment %s: %w", d.AppKey, err)
	}

	d.ID = id
	d.Active = true
	d.DeployedAt = deployedAt
	return nil
}

func pgKeyArgs(k AppKey) []any { return []any{k.Runtime, k.AppID, k.Platform, k.AppVersion} }

// Active returns the active deployment of key.
func (p *Postgres) Active(ctx context.Context, key AppKey) (Deployment, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE active AND `+pgKeyCondition, pgKeyArgs(key)...)
	d, err := collectOne(rows, err)
	if err != nil {
		return Deployment{}, fmt.Errorf("find active deployment %s: %w", key, err)
	}
	return d, nil
}

// History returns every deployment of key, newest first.
func (p *Postgres) History(ctx context.Context, key AppKey) ([]Deployment, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE `+pgKeyCondition+` ORDER BY id DESC`, pgKeyArgs(key)...)
	if err != nil {
		return nil, fmt.Errorf("list deployments %s: %w", key, err)
	}
	list, err := pgx.CollectRows(rows, scanPostgresDeployment)
	if err != nil {
		return nil, fmt.Errorf("list deployments %s: %w", key, err)
	}
	return list, nil
}

// FindByChecksum returns the newest deployment of key with checksum.
func (p *Postgres) FindByChecksum(ctx context.Context, key AppKey, checksum uint32) (Deployment, error) {
	args := append(pgKeyArgs(key), int64(checksum))
	rows, err := p.pool.Query(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE `+pgKeyCondition+
		` AND checksum = $5 ORDER BY id DESC LIMIT 1`, args...)
	d, err := collectOne(rows, err)
	if err != nil {
		return Deployment{}, fmt.Errorf("find deployment %s with checksum %d: %w", key, checksum, err)
	}
	return d, nil
}

// Deactivate marks the active deployment of key inactive. It takes the
// same lock as Insert, so it never misses a deployment committed while it
// waited.
func (p *Postgres) Deactivate(ctx context.Context, key AppKey) error {
	var n int64
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if err := lockAppKey(ctx, tx, key); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE deployments SET active = false WHERE active AND `+pgKeyCondition, pgKeyArgs(key)...)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return notifyChange(ctx, tx, &key)
	})
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("deactivate %s: no active deployment: %w", key, ErrNotFound)
	}
	return nil
}

// Delete removes the deployment row id.
func (p *Postgres) Delete(ctx context.Context, id int64) error {
	var deleted int64
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM deployments WHERE id = $1`, id)
		if err != nil {
			return err
		}
		deleted = tag.RowsAffected()
		return notifyChange(ctx, tx, nil)
	})
	if err != nil {
		return fmt.Errorf("delete deployment %d: %w", id, err)
	}
	if deleted == 0 {
		return fmt.Errorf("delete deployment %d: %w", id, ErrNotFound)
	}
	return nil
}

// Apps lists the apps with an active deployment in runtime.
func (p *Postgres) Apps(ctx context.Context, runtime string) ([]App, error) {
	rows, err := p.pool.Query(ctx, `SELECT app_id, platform, app_version FROM deployments
		WHERE runtime = $1 AND active ORDER BY app_id, platform, app_version`, runtime)
	if err != nil {
		return nil, fmt.Errorf("list apps of runtime %s: %w", runtime, err)
	}
	defer rows.Close()

	return collectApps(rows, runtime)
}

// BlobKeys returns the distinct sha256 values of all deployments and
// built deltas.
func (p *Postgres) BlobKeys(ctx context.Context) (map[string]bool, error) {
	rows, err := p.pool.Query(ctx, `SELECT sha256 FROM deployments
		UNION SELECT sha256 FROM delta_builds WHERE state = 'built'`)
	if err != nil {
		return nil, fmt.Errorf("list referenced blobs: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list referenced blobs: %w", err)
	}
	keys := make(map[string]bool, len(list))
	for _, k := range list {
		keys[k] = true
	}
	return keys, nil
}

func collectOne(rows pgx.Rows, err error) (Deployment, error) {
	if err != nil {
		return Deployment{}, err
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanPostgresDeployment)
	if errors.Is(err, pgx.ErrNoRows) {
		return Deployment{}, ErrNotFound
	}
	return d, err
}

func scanPostgresDeployment(row pgx.CollectableRow) (Deployment, error) {
	var d Deployment
	var checksum int64
	err := row.Scan(&d.ID, &d.Runtime, &d.AppID, &d.Platform, &d.AppVersion, &d.PluginVersion, &d.PlatformVersion,
		&checksum, &d.Size, &d.Files, &d.UnpackedSize, &d.PackedSize, &d.SHA256, &d.Signed, &d.DeployedAt, &d.DeployedBy, &d.Active)
	if err != nil {
		return Deployment{}, err
	}
	d.Checksum = uint32(checksum)
	d.DeployedAt = d.DeployedAt.UTC()
	return d, nil
}

// numberPlaceholders turns the "?" placeholders of q into PostgreSQL's
// $1, $2 and so on. The statements it is used on hold no other "?".
func numberPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var (
	pgDeltaBuildSelect = numberPlaceholders(`SELECT ` + deltaBuildColumns + ` FROM delta_builds WHERE ` + deltaKeyCondition)
	pgDeltaBuildUpsert = numberPlaceholders(deltaBuildUpsert)
	pgDeltaBuildDelete = numberPlaceholders(`DELETE FROM delta_builds WHERE ` + deltaKeyCondition)
)

// DeltaBuild returns the delta index entry of k.
func (p *Postgres) DeltaBuild(ctx context.Context, k DeltaKey) (DeltaBuild, error) {
	var b DeltaBuild
	var base, target int64
	err := p.pool.QueryRow(ctx, pgDeltaBuildSelect, deltaKeyArgs(k)...).Scan(&b.Runtime, &b.AppID, &b.Platform, &b.AppVersion,
		&b.BaseSHA256, &b.TargetSHA256, &b.KeyID, &b.Format, &base, &target, &b.State, &b.SHA256,
		&b.PackedSize, &b.UnpackedSize, &b.MinSavings, &b.Reason, &b.CreatedAt, &b.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return DeltaBuild{}, fmt.Errorf("find delta %s: %w", k, err)
	}
	b.BaseChecksum, b.TargetChecksum = uint32(base), uint32(target)
	b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return b, nil
}

// PutDeltaBuild inserts or replaces the delta index entry of b.DeltaKey.
// Two instances storing the same key at once both succeed: the unique
// index turns the second insert into an update.
func (p *Postgres) PutDeltaBuild(ctx context.Context, b *DeltaBuild) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	args := append(deltaKeyArgs(b.DeltaKey), int64(b.BaseChecksum), int64(b.TargetChecksum), string(b.State), b.SHA256,
		b.PackedSize, b.UnpackedSize, b.MinSavings, b.Reason, now, now)
	if _, err := p.pool.Exec(ctx, pgDeltaBuildUpsert, args...); err != nil {
		return fmt.Errorf("store delta %s: %w", b.DeltaKey, err)
	}
	stored, err := p.DeltaBuild(ctx, b.DeltaKey)
	if err != nil {
		return err
	}
	b.CreatedAt, b.UpdatedAt = stored.CreatedAt, stored.UpdatedAt
	return nil
}

// DeleteDeltaBuild removes the delta index entry of k.
func (p *Postgres) DeleteDeltaBuild(ctx context.Context, k DeltaKey) error {
	if _, err := p.pool.Exec(ctx, pgDeltaBuildDelete, deltaKeyArgs(k)...); err != nil {
		return fmt.Errorf("delete delta %s: %w", k, err)
	}
	return nil
}

// RemoveOrphanDeltaBuilds removes the delta index entries of deleted
// deployments.
func (p *Postgres) RemoveOrphanDeltaBuilds(ctx context.Context) (int64, error) {
	tag, err := p.pool.Exec(ctx, deltaOrphanDelete)
	if err != nil {
		return 0, fmt.Errorf("remove deltas of deleted deployments: %w", err)
	}
	return tag.RowsAffected(), nil
}

// IsPostgresURL reports whether s names a PostgreSQL database.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
