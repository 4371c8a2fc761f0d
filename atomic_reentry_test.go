package iam_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// withinOrDeadlock runs f and fails the test, instead of hanging it, when f does not
// return in time (a deadlock). The stores of these tests have no
// Evaluator, whose cleanup would wait for the lock a deadlock keeps.
func withinOrDeadlock(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("no answer after %v: deadlock", d)
	}
}

// reentryStore holds organization acme, its owner acme-owner and project p,
// and nothing follows it.
func reentryStore(t *testing.T) *iam.MemoryStore {
	t.Helper()
	ctx := context.Background()
	s := iam.NewMemoryStore()
	_, err := s.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
	require.NoError(t, err)
	_, err = s.CreateUser(ctx, iam.User{ID: "acme-owner", OrganizationID: "acme", Email: "owner@acme.test", Type: iam.UserOwner})
	require.NoError(t, err)
	_, err = s.CreateProject(ctx, iam.Project{ID: "p", OrganizationID: "acme", Name: "p"})
	require.NoError(t, err)
	return s
}

// A call on the store itself from inside its own Atomic function (the
// store where the Tx was meant) is an error that says to use the Tx,
// never a silent deadlock; the transaction then rolls back as for any
// error.
func TestStoreCallInsideItsOwnAtomicFailsInsteadOfDeadlocking(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name string
		call func(ctx context.Context, s *iam.MemoryStore) error
	}{
		{"GetUser", func(ctx context.Context, s *iam.MemoryStore) error {
			_, err := s.GetUser(ctx, "acme-owner")
			return err
		}},
		{"ListProjects", func(ctx context.Context, s *iam.MemoryStore) error { _, err := s.ListProjects(ctx, "acme"); return err }},
		{"Revision", func(ctx context.Context, s *iam.MemoryStore) error { _, err := s.Revision(ctx); return err }},
		{"CreateUser", func(ctx context.Context, s *iam.MemoryStore) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "inner", OrganizationID: "acme", Email: "inner@acme.test"})
			return err
		}},
		{"DeleteProject", func(ctx context.Context, s *iam.MemoryStore) error { return s.DeleteProject(ctx, "p") }},
		{"Atomic", func(ctx context.Context, s *iam.MemoryStore) error {
			return s.Atomic(ctx, func(tx iam.Tx) error { return nil })
		}},
		{"NewEvaluator", func(ctx context.Context, s *iam.MemoryStore) error {
			ev, err := iam.NewEvaluator(ctx, s)
			if err == nil {
				ev.Close()
			}
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := reentryStore(t)
			before := dumpStore(t, s)
			var inner, outer error
			withinOrDeadlock(t, 5*time.Second, func() {
				outer = s.Atomic(ctx, func(tx iam.Tx) error {
					if _, err := tx.CreateUser(ctx, iam.User{ID: "outer", OrganizationID: "acme", Email: "outer@acme.test"}); err != nil {
						return err
					}
					inner = c.call(ctx, s)
					return inner
				})
			})
			require.Error(t, inner)
			assert.ErrorIs(t, inner, iam.ErrInvalid)
			assert.True(t, strings.HasPrefix(inner.Error(), "iam: "), inner.Error())
			assert.Contains(t, inner.Error(), "inside its own Atomic")
			assert.Contains(t, inner.Error(), "Tx")
			assert.ErrorIs(t, outer, iam.ErrInvalid)
			requireUnchanged(t, s, before)

			// The store is still usable afterwards.
			withinOrDeadlock(t, 5*time.Second, func() {
				_, err := s.CreateUser(ctx, iam.User{ID: "after", OrganizationID: "acme", Email: "after@acme.test"})
				assert.NoError(t, err)
			})
		})
	}
}

// A subscriber is called inside the write too: a store call from it is an
// error, not a deadlock, and the write itself lands.
func TestStoreCallFromASubscriberFailsInsteadOfDeadlocking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := reentryStore(t)
	var got error
	cancel := s.Subscribe(func(ch iam.Change) {
		_, got = s.GetOrganization(ctx, "acme")
	})
	withinOrDeadlock(t, 5*time.Second, func() {
		_, err := s.CreateUser(ctx, iam.User{ID: "u", OrganizationID: "acme", Email: "u@acme.test"})
		assert.NoError(t, err)
	})
	require.ErrorIs(t, got, iam.ErrInvalid)
	_, err := s.GetUser(ctx, "u")
	require.NoError(t, err)
	cancel()
}

// A subscriber may cancel its own subscription, or subscribe another
// function, from inside the delivery: the store's lock is its writer's.
func TestSubscriberMayCancelItselfDuringDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := reentryStore(t)
	var calls, later int
	var cancel func()
	cancel = s.Subscribe(func(ch iam.Change) {
		calls++
		cancel()
		s.Subscribe(func(iam.Change) { later++ })
	})
	for i := range 3 {
		withinOrDeadlock(t, 5*time.Second, func() {
			_, err := s.CreateApplication(ctx, iam.Application{OrganizationID: "acme", Name: fmt.Sprintf("app-%d", i)})
			assert.NoError(t, err)
		})
	}
	require.Equal(t, 1, calls, "cancelled after its first call")
	require.Equal(t, 2, later, "subscribed during the first delivery, called for the next changes")
}

// Other goroutines are not mistaken for the writer: their reads and
// writes wait for the transaction and then see it whole.
func TestOtherGoroutinesWaitForAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := reentryStore(t)
	inside, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := s.Atomic(ctx, func(tx iam.Tx) error {
			if _, err := tx.CreateUser(ctx, iam.User{ID: "slow", OrganizationID: "acme", Email: "slow@acme.test"}); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
		assert.NoError(t, err)
	}()
	<-inside
	var readErr, writeErr error
	var read iam.User
	var rw sync.WaitGroup
	rw.Add(2)
	go func() { defer rw.Done(); read, readErr = s.GetUser(ctx, "slow") }()
	go func() {
		defer rw.Done()
		_, writeErr = s.CreateUser(ctx, iam.User{ID: "next", OrganizationID: "acme", Email: "next@acme.test"})
	}()
	// Give them time to reach the lock; the outcome does not depend on it.
	time.Sleep(20 * time.Millisecond)
	close(release)
	withinOrDeadlock(t, 5*time.Second, rw.Wait)
	wg.Wait()
	require.NoError(t, readErr)
	require.Equal(t, "slow", read.ID)
	require.NoError(t, writeErr)
}
