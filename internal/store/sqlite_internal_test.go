package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestSQLiteUsesWALAndRecordsMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}

	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var version int
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations)-1 {
		t.Errorf("schema version = %d, want %d", version, len(migrations)-1)
	}
	s.Close()

	// Reopening applies nothing twice.
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(migrations)-1 {
		t.Errorf("schema_migrations has %d rows after reopening, want %d", rows, len(migrations)-1)
	}
}

func TestSQLiteRejectsNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'x')"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	if _, err := OpenSQLite(ctx, path); err == nil {
		t.Error("OpenSQLite accepted a schema newer than it supports")
	}
}
