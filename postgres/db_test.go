package postgres

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/iamkit/iam"
)

// The tests run against a real PostgreSQL server named by
// IAMKIT_POSTGRES_URL, each in a database of its own, created for it and
// dropped after it. scripts/with-postgres.sh starts a throwaway server
// and sets the variable (and IAMKIT_POSTGRES_RESTART, a command that
// restarts that server, for the restart test).
const skipMessage = "IAMKIT_POSTGRES_URL is not set: run these tests against a PostgreSQL server with " +
	"`../scripts/with-postgres.sh go test ./...` (it starts a throwaway one), " +
	"or set IAMKIT_POSTGRES_URL=postgres://user@host:port/db to a server where the user may create databases"

var databases atomic.Int64

// serverURL returns the test server's URL, or skips the test.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("IAMKIT_POSTGRES_URL")
	if u == "" {
		t.Skip(skipMessage)
	}
	return u
}

// newDatabase creates an empty database for the test, dropped when the
// test ends, and returns its URL.
func newDatabase(t testing.TB) string {
	t.Helper()
	server := serverURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("iamkit_test_%d_%d", os.Getpid(), databases.Add(1))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("connecting to the test server: %v", err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("IAMKIT_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// newPool connects a pool of at most maxConns connections to the database
// at dbURL, closed when the test ends.
func newPool(t testing.TB, dbURL string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// openStore opens a Store on pool (a replica), closed when the test ends.
func openStore(t testing.TB, pool *pgxpool.Pool, opts ...Option) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, pool, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// rawWrite commits events as one revision, as a write does, without the
// write rules: the feed's tests need writes, not their validation.
func rawWrite(ctx context.Context, s *Store, events ...iam.Event) (uint64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	ch, err := s.commit(ctx, func(v *view, rev uint64) ([]iam.Event, error) {
		for _, ev := range events {
			if err := v.Apply(ctx, ev); err != nil {
				return nil, err
			}
		}
		return events, nil
	})
	if err != nil {
		return 0, err
	}
	defer s.deliverMu.Unlock()
	return ch.Revision, s.deliverOwn(ctx, *ch)
}
