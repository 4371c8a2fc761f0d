package iam_test

// Evaluators built and closed while the store is written. The store's
// side of read-your-writes (every Evaluator answers from a write once it
// returns, concurrent readers and writers) is the Store conformance suite's
// (iamtest.TestStore, run by TestMemoryStoreConformance).

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// Evaluators built while writers write end up where one built afterwards
// does: no change is lost or applied twice between the build and the
// subscription.
func TestConcurrentEvaluatorBuild(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const users = 8
	for i := range users {
		w.user(w.org, fmt.Sprintf("u-%d", i))
	}
	w.project(w.org, "p1")

	var writers sync.WaitGroup
	for i := range users {
		writers.Go(func() {
			u := iam.UserPrincipal(fmt.Sprintf("u-%d", i))
			for j := range 40 {
				id := fmt.Sprintf("pol-%d-%d", i, j)
				_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: id, OrganizationID: w.org, Principal: u, Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerRead")}})
				require.NoError(t, err)
				if j%3 != 0 {
					require.NoError(t, w.store.DeletePolicy(w.ctx, id))
				}
				if j%5 == 0 {
					pid := fmt.Sprintf("proj-%d-%d", i, j)
					_, err := w.store.CreateProject(w.ctx, iam.Project{ID: pid, OrganizationID: w.org, Name: pid})
					require.NoError(t, err)
					_, err = w.store.CreatePolicy(w.ctx, iam.Policy{ID: "p" + pid, OrganizationID: w.org, Principal: u, Rules: []iam.Rule{onProjects(ids(pid), "InstancesServerCreate")}})
					require.NoError(t, err)
				}
			}
		})
	}
	var built []*iam.Evaluator
	var mu sync.Mutex
	var builders sync.WaitGroup
	for range 4 {
		builders.Go(func() {
			ev, err := iam.NewEvaluator(w.ctx, w.store)
			require.NoError(t, err)
			mu.Lock()
			built = append(built, ev)
			mu.Unlock()
		})
	}
	builders.Wait()
	writers.Wait()
	defer func() {
		for _, ev := range built {
			require.NoError(t, ev.Close())
		}
	}()

	fresh, err := iam.NewEvaluator(w.ctx, w.store)
	require.NoError(t, err)
	defer func() { require.NoError(t, fresh.Close()) }()
	rev, err := w.store.Revision(w.ctx)
	require.NoError(t, err)
	require.Equal(t, rev, fresh.Revision())
	projects, err := w.store.ListProjects(w.ctx, w.org)
	require.NoError(t, err)
	for _, ev := range append(built, w.ev) {
		require.Equal(t, rev, ev.Revision())
		for i := range users {
			u := iam.UserPrincipal(fmt.Sprintf("u-%d", i))
			for _, p := range projects {
				for _, perm := range []string{"InstancesServerRead", "InstancesServerCreate"} {
					want, err := fresh.Check(w.ctx, inProject(u, p.ID, perm))
					require.NoError(t, err)
					got, err := ev.Check(w.ctx, inProject(u, p.ID, perm))
					require.NoError(t, err)
					require.Equal(t, want, got, "%v in %s: %s", u, p.ID, perm)
				}
			}
		}
	}
}

// Close stops following the store: the Evaluator keeps answering from the
// last state it saw. A cancelled context fails the build.
func TestEvaluatorCloseAndBuildContext(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	u := iam.UserPrincipal(w.user(w.org, "u"))
	ev, err := iam.NewEvaluator(w.ctx, w.store)
	require.NoError(t, err)
	require.NoError(t, ev.Close())
	rev := ev.Revision()
	w.policy(w.org, "pol", u, onProjects(ids("p1"), "InstancesServerCreate"))
	d, err := ev.Check(w.ctx, inProject(u, "p1", "InstancesServerCreate"))
	require.NoError(t, err)
	require.False(t, d.Allowed)
	require.Equal(t, rev, d.Revision)
	w.expect(t, inProject(u, "p1", "InstancesServerCreate"), granted) // the open one follows

	ctx, cancel := context.WithCancel(w.ctx)
	cancel()
	_, err = iam.NewEvaluator(ctx, w.store)
	require.ErrorIs(t, err, context.Canceled)
	// The failed build left no subscription behind that breaks writes.
	w.project(w.org, "p2")
}
