package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
)

// The benchmarks need a server too (IAMKIT_POSTGRES_URL); their results
// are in BENCHMARKS.md:
//
//	../scripts/with-postgres.sh go test -run '^$' -bench . -benchtime 2000x

// BenchmarkWriteSingle: one policy write per operation (a transaction of
// its own), each delivered to an Evaluator on the writing replica.
func BenchmarkWriteSingle(b *testing.B) {
	db := newDatabase(b)
	r := newReplica(b, db)
	seedWorld(b, r.store)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := r.store.CreatePolicy(ctx, iam.Policy{ID: fmt.Sprint("pol", i), OrganizationID: "acme", Principal: iam.UserPrincipal("ana"),
			Rules: []iam.Rule{{Scope: iam.ProjectsScope("p"), PermissionSets: []string{"InstancesFullAccess"}}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkWriteBatched: 100 policy writes in one Atomic per operation.
func BenchmarkWriteBatched(b *testing.B) {
	const batch = 100
	db := newDatabase(b)
	r := newReplica(b, db)
	seedWorld(b, r.store)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		err := r.store.Atomic(ctx, func(tx iam.Tx) error {
			for j := range batch {
				if _, err := tx.CreatePolicy(ctx, iam.Policy{ID: fmt.Sprintf("pol%d-%d", i, j), OrganizationID: "acme", Principal: iam.UserPrincipal("ana"),
					Rules: []iam.Rule{{Scope: iam.ProjectsScope("p"), PermissionSets: []string{"InstancesFullAccess"}}}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkPropagation: one write at a time on one replica, and the time
// until the Evaluator of another replica answers from it (WaitRevision):
// p50 and p99 over the b.N writes, measured from the write's return (the
// propagation itself) and from its start (the write included).
func BenchmarkPropagation(b *testing.B) {
	db := newDatabase(b)
	writer := newReplica(b, db)
	reader := newReplica(b, db)
	seedWorld(b, writer.store)
	ctx := context.Background()
	after := make([]time.Duration, 0, b.N)
	whole := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := writer.store.CreatePolicy(ctx, iam.Policy{ID: fmt.Sprint("pol", i), OrganizationID: "acme", Principal: iam.UserPrincipal("ana"),
			Rules: []iam.Rule{{Scope: iam.ProjectsScope("p"), PermissionSets: []string{"InstancesFullAccess"}}}}); err != nil {
			b.Fatal(err)
		}
		returned := time.Now()
		if err := reader.ev.WaitRevision(ctx, writer.ev.Revision()); err != nil {
			b.Fatal(err)
		}
		seen := time.Now()
		after = append(after, seen.Sub(returned))
		whole = append(whole, seen.Sub(start))
	}
	b.StopTimer()
	report := func(lat []time.Duration, unit string) {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-"+unit)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-"+unit)
	}
	report(after, "ms")
	report(whole, "ms-with-write")
}

// BenchmarkFreshReplica: the time for a new replica to open the store and
// build its Evaluator from a database of 100k principals (the root
// package's benchmark world: 10 organizations, groups, about 100k
// policies). Loading the database is not timed.
func BenchmarkFreshReplica(b *testing.B) {
	principals := 100_000
	if testing.Short() {
		principals = 10_000
	}
	w := gen.Generate(gen.Config{Seed: 1, Organizations: 10, Principals: principals, ProjectsPerOrg: 20, Groups: 20,
		PoliciesPerPrincipal: 1, MaxRulesPerPolicy: 3, CustomSets: 5})
	db := newDatabase(b)
	loader := openStore(b, newPool(b, db, 2))
	ctx := context.Background()
	start := time.Now()
	if err := w.Load(ctx, loader); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d users, %d applications, %d groups, %d policies (%d grants) in %v",
		len(w.Users), len(w.Applications), len(w.Groups), len(w.Policies), w.Grants(), time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	for range b.N {
		pool := newPool(b, db, 2)
		s, err := Open(ctx, pool)
		if err != nil {
			b.Fatal(err)
		}
		ev, err := iam.NewEvaluator(ctx, s, iam.WithClock(func() time.Time { return gen.DefaultNow }))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		ev.Close()
		s.Close()
		pool.Close()
		b.StartTimer()
	}
}
