package iam_test

// Isolation under concurrency, each test named after the anomaly it rules
// out (in the manner of go-memdb's): several writers, many readers, run
// under -race in CI. A check never sees half of a multi-entity write,
// never goes back in time, and sees every write that returned before it
// began. Each test runs for a bounded time (isoDuration) and stops early
// at its iteration caps.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// isoDuration bounds each isolation test's writers.
func isoDuration() time.Duration {
	if testing.Short() {
		return 150 * time.Millisecond
	}
	return 600 * time.Millisecond
}

const isoReaders = 6

// isoOutcome is a check's answer without its revision: what must be the
// same in two states of the world that hold the same grants.
type isoOutcome struct {
	Allowed bool
	Reason  iam.Reason
	Err     string
}

func isoOutcomes(results []iam.Result) []isoOutcome {
	out := make([]isoOutcome, len(results))
	for i, r := range results {
		out[i] = isoOutcome{Allowed: r.Decision.Allowed, Reason: r.Decision.Reason}
		if r.Err != nil {
			out[i].Err = errClassName(r.Err)
		}
	}
	return out
}

// errClassName names an error by the sentinels it matches.
func errClassName(err error) string {
	for _, s := range []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other: " + err.Error()
}

// isoSameRevision fails unless every decision of a batch reflects one
// revision, and returns it (0 when every result is an error).
func isoSameRevision(results []iam.Result) (uint64, error) {
	var rev uint64
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		switch {
		case rev == 0:
			rev = r.Decision.Revision
		case r.Decision.Revision != rev:
			return 0, fmt.Errorf("one batch answered at revisions %d and %d", rev, r.Decision.Revision)
		}
	}
	return rev, nil
}

// isoRun runs writer until the deadline or its own end, and readers
// (each called in a loop with its index) until the writers are done. The
// first error of any goroutine fails the test.
func isoRun(t *testing.T, writers []func(stop <-chan struct{}) error, reader func(i int) error) {
	t.Helper()
	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		stop    = make(chan struct{})
		errOnce sync.Once
		first   error
		reads   atomic.Int64
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
	}
	timer := time.AfterFunc(isoDuration(), func() { close(stop) })
	defer timer.Stop()
	var wwg sync.WaitGroup
	for _, w := range writers {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			if err := w(stop); err != nil {
				fail(err)
			}
		}()
	}
	for i := range isoReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := reader(i); err != nil {
					fail(err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	wwg.Wait()
	close(done)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
	t.Logf("%d reads", reads.Load())
	require.Positive(t, reads.Load())
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// Two versions of organization "iso": the same principals with other
// grants, and B drops project P2 for P3, so that a state mixing them shows
// in the answers.
const isoWorldA = `{
  "organization": {"id": "iso", "name": "Iso"},
  "projects": [{"id": "P1", "name": "one"}, {"id": "P2", "name": "two"}],
  "users": [{"id": "iso-owner", "email": "owner@iso.test", "type": "owner"},
            {"id": "u1", "email": "u1@iso.test"}, {"id": "u2", "email": "u2@iso.test"}],
  "applications": [{"id": "ci", "name": "ci"}],
  "groups": [{"id": "team", "name": "team", "users": ["u1"], "applications": ["ci"]}],
  "policies": [
    {"id": "pol-u1", "user": "u1", "rules": [{"projects": ["P1"], "permission_sets": ["InstancesFullAccess"]}]},
    {"id": "pol-team", "group": "team", "rules": [{"projects": ["P2"], "permission_sets": ["ObjectStorageReadOnly"]}]},
    {"id": "pol-ci", "application": "ci", "rules": [{"organization": true, "permission_sets": ["BillingReadOnly"]}]}
  ]
}`

const isoWorldB = `{
  "organization": {"id": "iso", "name": "Iso B"},
  "projects": [{"id": "P1", "name": "one"}, {"id": "P3", "name": "three"}],
  "users": [{"id": "iso-owner", "email": "owner@iso.test", "type": "owner"},
            {"id": "u1", "email": "u1@iso.test"}, {"id": "u2", "email": "u2@iso.test", "locked": true}],
  "applications": [{"id": "ci", "name": "ci"}],
  "groups": [{"id": "team", "name": "team", "users": ["u1", "u2"]}],
  "policies": [
    {"id": "pol-u1", "user": "u1", "rules": [{"projects": ["P3"], "permission_sets": ["InstancesFullAccess"]}]},
    {"id": "pol-team", "group": "team", "rules": [{"organization": true, "permission_sets": ["ObjectStorageReadOnly"]}]},
    {"id": "pol-ci", "application": "ci", "rules": [{"projects": ["P1"], "permission_sets": ["InstancesReadOnly"]}]}
  ]
}`

// isoBatch asks every principal of iso everything at every target.
func isoBatch() []iam.Request {
	var reqs []iam.Request
	principals := []iam.Principal{iam.UserPrincipal("iso-owner"), iam.UserPrincipal("u1"), iam.UserPrincipal("u2"),
		iam.ApplicationPrincipal("ci"), iam.GroupPrincipal("team")}
	targets := []iam.Request{{ProjectID: "P1"}, {ProjectID: "P2"}, {ProjectID: "P3"}, {ProjectID: "iso"}, {OrganizationID: "iso"}}
	for _, p := range principals {
		for _, tgt := range targets {
			for _, perm := range []string{"InstancesFullAccess", "InstancesReadOnly", "ObjectStorageReadOnly", "BillingReadOnly", "instance:server:create"} {
				req := tgt
				req.Principal, req.Permission = p, perm
				reqs = append(reqs, req)
			}
		}
	}
	return reqs
}

// isoAnswers loads file alone into a fresh store and answers the batch.
func isoAnswers(t *testing.T, file string) []isoOutcome {
	t.Helper()
	ctx := context.Background()
	store := iam.NewMemoryStore()
	require.NoError(t, iam.Load(ctx, store, "iso.json", []byte(file)))
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	return isoOutcomes(ev.CheckBatch(ctx, isoBatch()))
}

// A file load replaces a whole organization in one write: a batch of
// checks at one revision sees all of file A or all of file B, never a mix,
// never the organization missing or half built, while writers reload
// them in turn.
func TestIsolationNoTornFileLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wantA, wantB := isoAnswers(t, isoWorldA), isoAnswers(t, isoWorldB)
	require.NotEqual(t, wantA, wantB)

	store := iam.NewMemoryStore()
	require.NoError(t, iam.Load(ctx, store, "a.json", []byte(isoWorldA)))
	// Another organization, written alongside, must not disturb iso.
	w := &world{t: t, ctx: ctx, store: store}
	w.addOrg("bystander", "bystander-owner")
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()

	load := func(file string) func(stop <-chan struct{}) error {
		return func(stop <-chan struct{}) error {
			for i := 0; i < 400 && !stopped(stop); i++ {
				if err := iam.Load(ctx, store, "iso.json", []byte(file), iam.ReplaceExisting()); err != nil {
					return err
				}
			}
			return nil
		}
	}
	churn := func(stop <-chan struct{}) error {
		for i := 0; i < 400 && !stopped(stop); i++ {
			id := fmt.Sprintf("by-%d", i)
			if _, err := store.CreateProject(ctx, iam.Project{ID: id, OrganizationID: "bystander", Name: id}); err != nil {
				return err
			}
		}
		return nil
	}
	var seenA, seenB atomic.Int64
	batch := isoBatch()
	isoRun(t, []func(<-chan struct{}) error{load(isoWorldA), load(isoWorldB), churn}, func(int) error {
		results := ev.CheckBatch(ctx, batch)
		if _, err := isoSameRevision(results); err != nil {
			return err
		}
		got := isoOutcomes(results)
		switch {
		case equalOutcomes(got, wantA):
			seenA.Add(1)
		case equalOutcomes(got, wantB):
			seenB.Add(1)
		default:
			return fmt.Errorf("a torn load: the batch matches neither file; %s; %s", firstDiff("A", batch, got, wantA), firstDiff("B", batch, got, wantB))
		}
		return nil
	})
	t.Logf("batches matching A: %d, B: %d", seenA.Load(), seenB.Load())
}

// firstDiff describes the first answer of got that file name answers
// otherwise.
func firstDiff(name string, batch []iam.Request, got, want []isoOutcome) string {
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("%+v answered %+v where file %s says %+v", batch[i], got[i], name, want[i])
		}
	}
	return "no difference with file " + name
}

func equalOutcomes(a, b []isoOutcome) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Deleting a group together with its policies (one atomic write), or
// alone (its policies then lose their principal in the same write), takes
// every grant the group gave away at once: a batch never sees some of the
// group's grants and not the others.
func TestIsolationNoTornGroupDelete(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.ctx
	w.project(w.org, "p")
	w.user(w.org, "m1")
	w.user(w.org, "m2")
	w.app(w.org, "a", false)
	group := iam.Group{ID: "g", OrganizationID: w.org, Name: "g", UserIDs: ids("m1", "m2"), ApplicationIDs: ids("a")}
	policies := []iam.Policy{
		{ID: "pg1", OrganizationID: w.org, Principal: iam.GroupPrincipal("g"), Rules: []iam.Rule{onProjects(ids("p"), "InstancesFullAccess")}},
		{ID: "pg2", OrganizationID: w.org, Principal: iam.GroupPrincipal("g"), Rules: []iam.Rule{onOrg(w.org, "BillingReadOnly")}},
		{ID: "pg3", OrganizationID: w.org, Principal: iam.GroupPrincipal("g"), Rules: []iam.Rule{onOrg(w.org, "ContainersReadOnly")}},
	}
	create := func() error {
		return w.store.Atomic(ctx, func(tx iam.Tx) error {
			if _, err := tx.CreateGroup(ctx, group); err != nil {
				return err
			}
			for _, p := range policies {
				if _, err := tx.CreatePolicy(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(t, create())
	w.policy(w.org, "control", iam.UserPrincipal("m1"), onProjects(ids("p"), "ObjectStorageReadOnly"))

	var batch []iam.Request
	for _, p := range []iam.Principal{iam.UserPrincipal("m1"), iam.UserPrincipal("m2"), iam.ApplicationPrincipal("a"), iam.GroupPrincipal("g")} {
		batch = append(batch, inProject(p, "p", "InstancesFullAccess"), atOrg(p, w.org, "BillingReadOnly"), inProject(p, "p", "ContainersReadOnly"))
	}
	control := inProject(iam.UserPrincipal("m1"), "p", "ObjectStorageReadOnly")
	batch = append(batch, control)

	writer := func(stop <-chan struct{}) error {
		for i := 0; i < 300 && !stopped(stop); i++ {
			var err error
			if i%2 == 0 {
				err = w.store.Atomic(ctx, func(tx iam.Tx) error {
					for _, p := range policies {
						if err := tx.DeletePolicy(ctx, p.ID); err != nil {
							return err
						}
					}
					return tx.DeleteGroup(ctx, "g")
				})
			} else {
				// The group alone: its policies stay, without a principal.
				if err = w.store.DeleteGroup(ctx, "g"); err == nil {
					err = w.store.Atomic(ctx, func(tx iam.Tx) error {
						for _, p := range policies {
							if err := tx.DeletePolicy(ctx, p.ID); err != nil {
								return err
							}
						}
						return nil
					})
				}
			}
			if err != nil {
				return err
			}
			if err := create(); err != nil {
				return err
			}
		}
		return nil
	}
	isoRun(t, []func(<-chan struct{}) error{writer}, func(int) error {
		results := w.ev.CheckBatch(ctx, batch)
		if _, err := isoSameRevision(results); err != nil {
			return err
		}
		last := results[len(results)-1]
		if last.Err != nil || !last.Decision.Allowed {
			return fmt.Errorf("the control grant, untouched by the writer, is gone: %+v %v", last.Decision, last.Err)
		}
		present := results[0].Err == nil && results[0].Decision.Allowed
		for i, r := range results[:len(results)-1] {
			isGroup := batch[i].Principal.Type == iam.PrincipalGroup
			switch {
			case present && (r.Err != nil || !r.Decision.Allowed):
				return fmt.Errorf("a torn group delete: %+v is denied (%+v, %v) while %+v is allowed", batch[i], r.Decision, r.Err, batch[0])
			case !present && isGroup && !errors.Is(r.Err, iam.ErrNotFound):
				return fmt.Errorf("a torn group delete: the group answers %+v, %v to %+v while its grant to %v is gone", r.Decision, r.Err, batch[i], batch[0].Principal)
			case !present && !isGroup && (r.Err != nil || r.Decision.Allowed):
				return fmt.Errorf("a torn group delete: %+v is %+v, %v while %+v is denied", batch[i], r.Decision, r.Err, batch[0])
			}
		}
		return nil
	})
}

// A reader never goes back in time: the revision of its answers never
// decreases, and once it has seen a project exist (projects are only ever
// added here) it never sees it missing again.
func TestIsolationNoTimeTravel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.ctx
	w.user(w.org, "u")
	owner := iam.UserPrincipal(w.owner)
	var created atomic.Int64
	grower := func(stop <-chan struct{}) error {
		for i := 1; i <= 500 && !stopped(stop); i++ {
			id := fmt.Sprintf("tt-%d", i)
			if _, err := w.store.CreateProject(ctx, iam.Project{ID: id, OrganizationID: w.org, Name: id}); err != nil {
				return err
			}
			created.Store(int64(i))
		}
		return nil
	}
	churn := func(stop <-chan struct{}) error {
		for i := 0; i < 500 && !stopped(stop); i++ {
			id := fmt.Sprintf("churn-%d", i%3)
			if i%2 == 0 {
				_, err := w.store.CreatePolicy(ctx, iam.Policy{ID: id, OrganizationID: w.org, Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{onOrg(w.org, "InstancesReadOnly")}})
				if err != nil && !errors.Is(err, iam.ErrConflict) {
					return err
				}
			} else if err := w.store.DeletePolicy(ctx, fmt.Sprintf("churn-%d", (i-1)%3)); err != nil && !errors.Is(err, iam.ErrNotFound) {
				return err
			}
		}
		return nil
	}
	second, err := iam.NewEvaluator(ctx, w.store)
	require.NoError(t, err)
	defer second.Close()

	type readerState struct {
		lastRev, lastEvRev uint64
		seen               int // the highest tt-N seen to exist
	}
	states := make([]readerState, isoReaders)
	isoRun(t, []func(<-chan struct{}) error{grower, churn, churn}, func(i int) error {
		ev := w.ev
		if i%2 == 1 {
			ev = second
		}
		st := &states[i]
		evRev := ev.Revision()
		if evRev < st.lastEvRev {
			return fmt.Errorf("reader %d: Evaluator.Revision went back from %d to %d", i, st.lastEvRev, evRev)
		}
		st.lastEvRev = evRev
		ask := []iam.Request{inProject(owner, fmt.Sprintf("tt-%d", max(st.seen, 1)), "InstancesFullAccess"),
			inProject(owner, fmt.Sprintf("tt-%d", st.seen+1), "InstancesFullAccess"),
			atOrg(iam.UserPrincipal("u"), w.org, "InstancesReadOnly")}
		for j, req := range ask {
			dec, err := ev.Check(ctx, req)
			if err == nil {
				if dec.Revision < st.lastRev {
					return fmt.Errorf("reader %d: a decision at revision %d after one at %d", i, dec.Revision, st.lastRev)
				}
				st.lastRev = dec.Revision
			}
			switch {
			case j == 0 && st.seen > 0 && err != nil:
				return fmt.Errorf("reader %d: project tt-%d, seen before, is gone: %v", i, st.seen, err)
			case j == 1 && err == nil:
				st.seen++
			case j == 1 && !errors.Is(err, iam.ErrNotFound):
				return err
			}
		}
		results := ev.CheckBatch(ctx, ask)
		rev, err := isoSameRevision(results)
		if err != nil {
			return err
		}
		if rev < st.lastRev {
			return fmt.Errorf("reader %d: a batch at revision %d after a decision at %d", i, rev, st.lastRev)
		}
		st.lastRev = rev
		return nil
	})
	require.Positive(t, created.Load())
}

// Read-your-writes: once a write returns, the next check on every
// Evaluator following the store sees it, at a revision at least the
// store's, while other writers and many readers run.
func TestIsolationReadYourWrites(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.ctx
	const writers = 4
	for i := range writers {
		w.project(w.org, fmt.Sprintf("ryw-p%d", i))
		w.user(w.org, fmt.Sprintf("ryw-u%d", i))
	}
	second, err := iam.NewEvaluator(ctx, w.store)
	require.NoError(t, err)
	defer second.Close()
	evs := []*iam.Evaluator{w.ev, second}

	// expect checks req on every Evaluator right after a write.
	expect := func(req iam.Request, allowed bool, reason iam.Reason, what string) error {
		rev, err := w.store.Revision(ctx)
		if err != nil {
			return err
		}
		for n, ev := range evs {
			dec, err := ev.Check(ctx, req)
			if err != nil {
				return fmt.Errorf("%s: evaluator %d: %w", what, n, err)
			}
			if dec.Allowed != allowed || dec.Reason != reason {
				return fmt.Errorf("%s: evaluator %d answers %+v to %+v, want allowed=%v (%v)", what, n, dec, req, allowed, reason)
			}
			if dec.Revision < rev {
				return fmt.Errorf("%s: evaluator %d answers at revision %d after the store reached %d", what, n, dec.Revision, rev)
			}
		}
		return nil
	}
	var ws []func(<-chan struct{}) error
	for i := range writers {
		ws = append(ws, func(stop <-chan struct{}) error {
			uid, pid, polID := fmt.Sprintf("ryw-u%d", i), fmt.Sprintf("ryw-p%d", i), fmt.Sprintf("ryw-pol%d", i)
			u := iam.UserPrincipal(uid)
			req := inProject(u, pid, "InstancesFullAccess")
			for n := 0; n < 150 && !stopped(stop); n++ {
				if _, err := w.store.CreatePolicy(ctx, iam.Policy{ID: polID, OrganizationID: w.org, Principal: u, Rules: []iam.Rule{onProjects(ids(pid), "InstancesFullAccess")}}); err != nil {
					return err
				}
				if err := expect(req, true, iam.ReasonGranted, "after CreatePolicy"); err != nil {
					return err
				}
				if _, err := w.store.UpdateUser(ctx, iam.User{ID: uid, OrganizationID: w.org, Email: uid + "@acme.test", Locked: true}); err != nil {
					return err
				}
				if err := expect(req, false, iam.ReasonLocked, "after locking"); err != nil {
					return err
				}
				if _, err := w.store.UpdateUser(ctx, iam.User{ID: uid, OrganizationID: w.org, Email: uid + "@acme.test"}); err != nil {
					return err
				}
				if err := expect(req, true, iam.ReasonGranted, "after unlocking"); err != nil {
					return err
				}
				key, err := w.store.CreateAPIKey(ctx, iam.APIKey{OrganizationID: w.org, Bearer: u})
				if err != nil {
					return err
				}
				for _, ev := range evs {
					if b, err := ev.Authenticate(ctx, key.AccessKey, key.Secret); err != nil || b != u {
						return fmt.Errorf("a key just created does not authenticate: %v, %v", b, err)
					}
				}
				if err := w.store.DeleteAPIKey(ctx, key.AccessKey); err != nil {
					return err
				}
				for _, ev := range evs {
					if _, err := ev.Authenticate(ctx, key.AccessKey, key.Secret); !errors.Is(err, iam.ErrUnauthenticated) {
						return fmt.Errorf("a key just deleted authenticates: %v", err)
					}
				}
				if err := w.store.DeletePolicy(ctx, polID); err != nil {
					return err
				}
				if err := expect(req, false, iam.ReasonNotGranted, "after DeletePolicy"); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var batch []iam.Request
	for i := range writers {
		batch = append(batch, inProject(iam.UserPrincipal(fmt.Sprintf("ryw-u%d", i)), fmt.Sprintf("ryw-p%d", i), "InstancesFullAccess"))
	}
	isoRun(t, ws, func(i int) error {
		results := evs[i%2].CheckBatch(ctx, batch)
		_, err := isoSameRevision(results)
		return err
	})
}
