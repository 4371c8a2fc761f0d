package iam_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
)

// A build that computes the holders' grants on several processors holds
// exactly the index that a build on one processor holds.
func TestParallelBuildEqualsSequentialBuild(t *testing.T) {
	ctx := context.Background()
	w := gen.Generate(gen.Config{Seed: 5, Organizations: 2, Principals: 6000, ProjectsPerOrg: 20,
		Groups: 8, PoliciesPerPrincipal: 1, MaxRulesPerPolicy: 8, CustomSets: 6})
	store := iam.NewMemoryStore()
	if err := w.Load(ctx, store); err != nil {
		t.Fatal(err)
	}
	build := func(procs int) string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		ev, err := iam.NewEvaluator(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		defer ev.Close()
		return iam.IndexDump(ev)
	}
	one, many := build(1), build(4)
	if one != many {
		t.Fatalf("the index built on 4 processors differs from the one built on 1:\n%s", lineDiff(many, one))
	}
}
