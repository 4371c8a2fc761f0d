package testkit

import (
	"context"
	"os"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/gen"
)

// GenWorld reads the whole store through its public List methods (as
// Dump does), as a gen.World: every organization's entities one after the
// other, custom permission sets only.
func GenWorld(t T, s iam.Store) *gen.World {
	t.Helper()
	d := Dump(t, s)
	w := &gen.World{Organizations: d.Organizations}
	for _, o := range d.Organizations {
		od := d.Orgs[o.ID]
		w.Projects = append(w.Projects, od.Projects...)
		w.PermissionSets = append(w.PermissionSets, od.PermissionSets...)
		w.Users = append(w.Users, od.Users...)
		w.Applications = append(w.Applications, od.Applications...)
		w.Groups = append(w.Groups, od.Groups...)
		w.Policies = append(w.Policies, od.Policies...)
		w.APIKeys = append(w.APIKeys, od.APIKeys...)
	}
	return w
}

// FixedNow is the instant of FixedClock.
var FixedNow = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)

// FixedClock is the clock of the Evaluators that the fuzz targets and the
// invariants build on the testdata files: API key expiry and conditions
// see the same instant whatever the wall clock says.
func FixedClock() time.Time { return FixedNow }

// ReadFile reads a file, and stops the test when it cannot.
func ReadFile(t T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	ok(t, err, "reading "+path)
	return data
}

// MustLoad loads the world or policy file at path into store.
func MustLoad(t T, store iam.Store, path string, opts ...iam.LoadOption) {
	t.Helper()
	ok(t, iam.Load(context.Background(), store, path, ReadFile(t, path), opts...), "loading "+path)
}

// Answer is one Check's outcome, comparable across Evaluators.
type Answer struct {
	Allowed  bool
	Reason   iam.Reason
	Revision uint64
	Err      string // the error's text, "" when none
}

// Answers checks every request of reqs with ev.
func Answers(ctx context.Context, ev *iam.Evaluator, reqs []iam.Request) []Answer {
	out := make([]Answer, len(reqs))
	for i, req := range reqs {
		dec, err := ev.Check(ctx, req)
		out[i] = Answer{Allowed: dec.Allowed, Reason: dec.Reason, Revision: dec.Revision}
		if err != nil {
			out[i].Err = err.Error()
		}
	}
	return out
}
