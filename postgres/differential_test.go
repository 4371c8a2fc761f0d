package postgres

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iamkit/iam"
)

var longRun = flag.Bool("iam.long", false, "run the long random sequences")

// dump renders everything a store holds, in order.
func dump(t testing.TB, s iam.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	orgs, err := s.ListOrganizations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		fmt.Fprintf(&b, "%#v\n", o)
		for _, list := range []func() (any, error){
			func() (any, error) { return s.ListProjects(ctx, o.ID) },
			func() (any, error) { return s.ListUsers(ctx, o.ID) },
			func() (any, error) { return s.ListApplications(ctx, o.ID) },
			func() (any, error) { return s.ListGroups(ctx, o.ID) },
			func() (any, error) { return s.ListPolicies(ctx, o.ID) },
			func() (any, error) { return s.ListPermissionSets(ctx, o.ID) },
			func() (any, error) { return s.ListAPIKeys(ctx, o.ID) },
		} {
			v, err := list()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "  %#v\n", v)
		}
	}
	return b.String()
}

type replica struct {
	store *Store
	ev    *iam.Evaluator
}

func newReplica(t testing.TB, db string, opts ...iam.EvaluatorOption) replica {
	t.Helper()
	s := openStore(t, newPool(t, db, 3))
	ev, err := iam.NewEvaluator(context.Background(), s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Close() })
	return replica{store: s, ev: ev}
}

// A random sequence of writes spread over three replicas of one database,
// and the same sequence on a MemoryStore: every write returns the same
// (value or error, message included), the database ends up holding what
// the MemoryStore holds, its change log equals the MemoryStore's, and
// every replica's Evaluator, once at the revision, answers every check
// as the MemoryStore's Evaluator does.
func TestRandomWritesOnReplicasMatchAMemoryStore(t *testing.T) {
	t.Parallel()
	seeds, steps := 2, 300
	if testing.Short() {
		seeds, steps = 1, 150
	}
	if *longRun {
		seeds, steps = 10, 1000
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			randomWritesMatch(t, uint64(seed), steps)
		})
	}
}

func randomWritesMatch(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	g := newRWGen(seed)
	clock := iam.WithClock(func() time.Time { return g.now })
	db := newDatabase(t)
	mem := iam.NewMemoryStore()
	g.exists = existsIn(mem)
	memEv, err := iam.NewEvaluator(ctx, mem, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer memEv.Close()
	replicas := []replica{newReplica(t, db, clock), newReplica(t, db, clock), newReplica(t, db, clock)}
	reqs := rwRequests()
	var history []string
	for _, op := range rwSetup() {
		if want, got := op.run(ctx, mem), op.run(ctx, replicas[0].store); got != want {
			t.Fatalf("%s: on postgres %s, on memory %s", op.desc, got, want)
		}
	}
	failed := 0
	for step := range steps {
		op := g.next()
		r := replicas[g.rng.IntN(len(replicas))]
		history = append(history, op.desc)
		want := op.run(ctx, mem)
		got := op.run(ctx, r.store)
		if got != want {
			t.Fatalf("seed %d step %d: %s\n on postgres: %s\n on memory:   %s\nsteps:\n  %s", seed, step, op.desc, got, want, strings.Join(history, "\n  "))
		}
		if strings.HasPrefix(want, "error: ") {
			failed++
		}
		if step%50 == 49 || step == steps-1 {
			compareReplicas(t, mem, memEv, replicas, reqs)
		}
	}
	rev, err := mem.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %d writes, %d refused, %d revisions", seed, steps, failed, rev)
}

// compareReplicas checks the database and every replica against the
// MemoryStore and its Evaluator.
func compareReplicas(t *testing.T, mem *iam.MemoryStore, memEv *iam.Evaluator, replicas []replica, reqs []iam.Request) {
	t.Helper()
	ctx := context.Background()
	want, err := mem.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := replicas[0].store.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("the database is at revision %d, the MemoryStore at %d", got, want)
	}
	if d, m := dump(t, replicas[0].store), dump(t, mem); d != m {
		t.Fatalf("the database holds\n%s\nthe MemoryStore\n%s", d, m)
	}
	pgChanges, err := replicas[0].store.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	memChanges, err := mem.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p, m := fmt.Sprintf("%#v", pgChanges), fmt.Sprintf("%#v", memChanges); p != m {
		t.Fatalf("the change log holds\n%s\nthe MemoryStore's\n%s", p, m)
	}
	for i, r := range replicas {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.ev.WaitRevision(wctx, want)
		cancel()
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		for _, req := range reqs {
			gd, gerr := r.ev.Check(ctx, req)
			md, merr := memEv.Check(ctx, req)
			if outcome(gd, gerr) != outcome(md, merr) {
				t.Fatalf("replica %d: Check(%+v) = %s, the MemoryStore's Evaluator: %s", i, req, outcome(gd, gerr), outcome(md, merr))
			}
		}
	}
}
