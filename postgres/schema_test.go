package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// Replicas that start at once on an empty database all succeed, and the
// schema is applied exactly once; opening again changes nothing.
func TestMigrationsAreAppliedOnceWhenReplicasStartAtOnce(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	ctx := context.Background()
	const replicas = 6
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		pool := newPool(t, db, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Migrate(ctx, pool)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	pool := newPool(t, db, 1)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	var versions, rows int
	if err := pool.QueryRow(ctx, "SELECT count(*), coalesce(max(version), 0) FROM iam_schema").Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != SchemaVersion() || versions != SchemaVersion() {
		t.Fatalf("iam_schema holds %d rows up to version %d, want %d", rows, versions, SchemaVersion())
	}
	var revisionRows int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM iam_revision").Scan(&revisionRows); err != nil {
		t.Fatal(err)
	}
	if revisionRows != 1 {
		t.Fatalf("iam_revision holds %d rows, want 1", revisionRows)
	}
}

// A database migrated by a newer version of the package is refused, never
// written with an older idea of its schema.
func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	ctx := context.Background()
	pool := newPool(t, db, 1)
	if err := Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO iam_schema (version, name) VALUES ($1, 'from the future')", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	err := Migrate(ctx, pool)
	if err == nil || !strings.Contains(err.Error(), "newer than this package") {
		t.Fatalf("Migrate on a newer schema: %v, want a refusal", err)
	}
}
