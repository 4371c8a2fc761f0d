package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations holds the schema's versions, applied in order: file
// NNNN_name.sql brings the schema to version NNNN. A version, once
// released, never changes: a change to the schema is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock that Migrate holds while
// it reads and applies the versions, so that replicas that start at once
// apply each version exactly once (the others wait, then find it applied).
const migrationLock int64 = 0x69616d6b69740001 // "iamkit" and 1

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded versions, in order.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(out)+1 {
			return nil, fmt.Errorf("iam: postgres: migration file %q: want version %04d next", name, len(out)+1)
		}
		b, err := migrations.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	return out, nil
}

// SchemaVersion is the version of the database schema this package writes
// and reads.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// Migrate brings the database schema to this package's version, in one
// transaction: under an advisory lock, so that replicas starting at once
// are safe (one applies, the others wait and find it done), and all or
// nothing. It refuses a database whose schema is newer than this package
// knows. Open calls it; call it yourself to migrate ahead of a rollout.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("iam: postgres: migrating the schema: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit, a no-op
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("iam: postgres: migrating the schema: taking the migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS iam_schema (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("iam: postgres: migrating the schema: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM iam_schema").Scan(&current); err != nil {
		return fmt.Errorf("iam: postgres: migrating the schema: reading its version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("iam: postgres: the database schema is at version %d, newer than this package's %d: upgrade the package before opening this database", current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("iam: postgres: applying schema version %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO iam_schema (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("iam: postgres: recording schema version %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("iam: postgres: migrating the schema: %w", err)
	}
	return nil
}
