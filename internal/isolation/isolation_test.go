package isolation

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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/admin"
	"github.com/iamkit/iam/iamtest"
	"github.com/iamkit/iam/internal/testkit"
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
	w := &testkit.World{T: t, Ctx: ctx, Store: store}
	w.AddOrg("bystander", "bystander-owner")
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
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	ctx := w.Ctx
	w.Project(w.Org, "p")
	w.User(w.Org, "m1")
	w.User(w.Org, "m2")
	w.App(w.Org, "a", false)
	group := iam.Group{ID: "g", OrganizationID: w.Org, Name: "g", UserIDs: testkit.IDs("m1", "m2"), ApplicationIDs: testkit.IDs("a")}
	policies := []iam.Policy{
		{ID: "pg1", OrganizationID: w.Org, Principal: iam.GroupPrincipal("g"), Rules: []iam.Rule{testkit.OnProjects(testkit.IDs("p"), "InstancesFullAccess")}},
		{ID: "pg2", OrganizationID: w.Org, Principal: iam.GroupPrincipal("g"), Rules: []iam.Rule{testkit.OnOrg(w.Org, "BillingReadOnly")}},
		{ID: "pg3", OrganizationID: w.Org, Principal: iam.GroupPrincipal("g"), Rules: []iam.Rule{testkit.OnOrg(w.Org, "ContainersReadOnly")}},
	}
	create := func() error {
		return w.Store.Atomic(ctx, func(tx iam.Tx) error {
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
	w.Policy(w.Org, "control", iam.UserPrincipal("m1"), testkit.OnProjects(testkit.IDs("p"), "ObjectStorageReadOnly"))

	var batch []iam.Request
	for _, p := range []iam.Principal{iam.UserPrincipal("m1"), iam.UserPrincipal("m2"), iam.ApplicationPrincipal("a"), iam.GroupPrincipal("g")} {
		batch = append(batch, testkit.InProject(p, "p", "InstancesFullAccess"), testkit.AtOrg(p, w.Org, "BillingReadOnly"), testkit.InProject(p, "p", "ContainersReadOnly"))
	}
	control := testkit.InProject(iam.UserPrincipal("m1"), "p", "ObjectStorageReadOnly")
	batch = append(batch, control)

	writer := func(stop <-chan struct{}) error {
		for i := 0; i < 300 && !stopped(stop); i++ {
			var err error
			if i%2 == 0 {
				err = w.Store.Atomic(ctx, func(tx iam.Tx) error {
					for _, p := range policies {
						if err := tx.DeletePolicy(ctx, p.ID); err != nil {
							return err
						}
					}
					return tx.DeleteGroup(ctx, "g")
				})
			} else {
				// The group alone: its policies stay, without a principal.
				if err = w.Store.DeleteGroup(ctx, "g"); err == nil {
					err = w.Store.Atomic(ctx, func(tx iam.Tx) error {
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
		results := w.Ev.CheckBatch(ctx, batch)
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
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	ctx := w.Ctx
	w.User(w.Org, "u")
	owner := iam.UserPrincipal(w.Owner)
	var created atomic.Int64
	grower := func(stop <-chan struct{}) error {
		for i := 1; i <= 500 && !stopped(stop); i++ {
			id := fmt.Sprintf("tt-%d", i)
			if _, err := w.Store.CreateProject(ctx, iam.Project{ID: id, OrganizationID: w.Org, Name: id}); err != nil {
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
				_, err := w.Store.CreatePolicy(ctx, iam.Policy{ID: id, OrganizationID: w.Org, Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{testkit.OnOrg(w.Org, "InstancesReadOnly")}})
				if err != nil && !errors.Is(err, iam.ErrConflict) {
					return err
				}
			} else if err := w.Store.DeletePolicy(ctx, fmt.Sprintf("churn-%d", (i-1)%3)); err != nil && !errors.Is(err, iam.ErrNotFound) {
				return err
			}
		}
		return nil
	}
	second, err := iam.NewEvaluator(ctx, w.Store)
	require.NoError(t, err)
	defer second.Close()

	type readerState struct {
		lastRev, lastEvRev uint64
		seen               int // the highest tt-N seen to exist
	}
	states := make([]readerState, isoReaders)
	isoRun(t, []func(<-chan struct{}) error{grower, churn, churn}, func(i int) error {
		ev := w.Ev
		if i%2 == 1 {
			ev = second
		}
		st := &states[i]
		evRev := ev.Revision()
		if evRev < st.lastEvRev {
			return fmt.Errorf("reader %d: Evaluator.Revision went back from %d to %d", i, st.lastEvRev, evRev)
		}
		st.lastEvRev = evRev
		ask := []iam.Request{testkit.InProject(owner, fmt.Sprintf("tt-%d", max(st.seen, 1)), "InstancesFullAccess"),
			testkit.InProject(owner, fmt.Sprintf("tt-%d", st.seen+1), "InstancesFullAccess"),
			testkit.AtOrg(iam.UserPrincipal("u"), w.Org, "InstancesReadOnly")}
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
	w := testkit.NewWorld(t, iamtest.NewClock(testkit.ClockStart))
	ctx := w.Ctx
	const writers = 4
	for i := range writers {
		w.Project(w.Org, fmt.Sprintf("ryw-p%d", i))
		w.User(w.Org, fmt.Sprintf("ryw-u%d", i))
	}
	second, err := iam.NewEvaluator(ctx, w.Store)
	require.NoError(t, err)
	defer second.Close()
	evs := []*iam.Evaluator{w.Ev, second}

	// expect checks req on every Evaluator right after a write.
	expect := func(req iam.Request, allowed bool, reason iam.Reason, what string) error {
		rev, err := w.Store.Revision(ctx)
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
			req := testkit.InProject(u, pid, "InstancesFullAccess")
			for n := 0; n < 150 && !stopped(stop); n++ {
				if _, err := w.Store.CreatePolicy(ctx, iam.Policy{ID: polID, OrganizationID: w.Org, Principal: u, Rules: []iam.Rule{testkit.OnProjects(testkit.IDs(pid), "InstancesFullAccess")}}); err != nil {
					return err
				}
				if err := expect(req, true, iam.ReasonGranted, "after CreatePolicy"); err != nil {
					return err
				}
				if _, err := w.Store.UpdateUser(ctx, iam.User{ID: uid, OrganizationID: w.Org, Email: uid + "@acme.test", Locked: true}); err != nil {
					return err
				}
				if err := expect(req, false, iam.ReasonLocked, "after locking"); err != nil {
					return err
				}
				if _, err := w.Store.UpdateUser(ctx, iam.User{ID: uid, OrganizationID: w.Org, Email: uid + "@acme.test"}); err != nil {
					return err
				}
				if err := expect(req, true, iam.ReasonGranted, "after unlocking"); err != nil {
					return err
				}
				key, err := w.Store.CreateAPIKey(ctx, iam.APIKey{OrganizationID: w.Org, Bearer: u})
				if err != nil {
					return err
				}
				for _, ev := range evs {
					if b, err := ev.Authenticate(ctx, key.AccessKey, key.Secret); err != nil || b != u {
						return fmt.Errorf("a key just created does not authenticate: %v, %v", b, err)
					}
				}
				if err := w.Store.DeleteAPIKey(ctx, key.AccessKey); err != nil {
					return err
				}
				for _, ev := range evs {
					if _, err := ev.Authenticate(ctx, key.AccessKey, key.Secret); !errors.Is(err, iam.ErrUnauthenticated) {
						return fmt.Errorf("a key just deleted authenticates: %v", err)
					}
				}
				if err := w.Store.DeletePolicy(ctx, polID); err != nil {
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
		batch = append(batch, testkit.InProject(iam.UserPrincipal(fmt.Sprintf("ryw-u%d", i)), fmt.Sprintf("ryw-p%d", i), "InstancesFullAccess"))
	}
	isoRun(t, ws, func(i int) error {
		results := evs[i%2].CheckBatch(ctx, batch)
		_, err := isoSameRevision(results)
		return err
	})
}

// ----- tenants never learn about each other -----
//
// Whatever acts for a caller answers an ID of another organization exactly
// as an ID that nothing holds: same sentinels, same message, same
// *ValidationError fields, once the one ID string is swapped for the other.

// Organization acme holds one entity of every kind under these IDs; gus,
// the owner of globex, refers to them through Admin. tenantUnused turns
// each into an ID that nothing holds.
const (
	tenantA       = "acme"
	tenantB       = "globex"
	tenantProject = "acme-proj-x1"
	tenantUser    = "acme-user-x1"
	tenantApp     = "acme-app-x1"
	tenantGroup   = "acme-group-x1"
	tenantPolicy  = "acme-policy-x1"
	tenantKey     = "ACMEKEYX1"
	tenantSet     = "AcmeSecretSet"
)

func tenantUnused(id string) string {
	return strings.NewReplacer("acme", "zulu", "ACME", "ZULU", "Acme", "Zulu").Replace(id)
}

// newTenantsWorld builds acme (owner acme-boss, and one entity of every
// kind) and globex (owner gus, project gx-web, application gx-ci with key
// GXKEY1, group gx-team, policy gx-pol).
func newTenantsWorld(t *testing.T) (*iam.MemoryStore, *iam.Evaluator, *admin.Admin) {
	t.Helper()
	ctx := t.Context()
	store := iam.NewMemoryStore()
	must := func(_ any, err error) {
		t.Helper()
		require.NoError(t, err)
	}
	for _, org := range []string{tenantA, tenantB} {
		must(store.CreateOrganization(ctx, iam.Organization{ID: org, Name: org}))
	}
	must(store.CreateUser(ctx, iam.User{ID: "acme-boss", OrganizationID: tenantA, Email: "boss@acme.test", Type: iam.UserOwner}))
	must(store.CreateProject(ctx, iam.Project{ID: tenantProject, OrganizationID: tenantA, Name: "secret"}))
	must(store.CreateUser(ctx, iam.User{ID: tenantUser, OrganizationID: tenantA, Email: "ana@acme.test"}))
	must(store.CreateApplication(ctx, iam.Application{ID: tenantApp, OrganizationID: tenantA, Name: "deploy"}))
	must(store.CreateGroup(ctx, iam.Group{ID: tenantGroup, OrganizationID: tenantA, Name: "ops", UserIDs: testkit.IDs(tenantUser)}))
	must(store.CreatePermissionSet(ctx, iam.PermissionSet{Name: tenantSet, OrganizationID: tenantA,
		ScopeType: iam.ScopeProjects, Permissions: testkit.IDs("instance:image:create")}))
	must(store.CreatePolicy(ctx, iam.Policy{ID: tenantPolicy, OrganizationID: tenantA, Principal: iam.GroupPrincipal(tenantGroup),
		Rules: []iam.Rule{testkit.OnProjects(testkit.IDs(tenantProject), tenantSet)}}))
	must(store.CreateAPIKey(ctx, iam.APIKey{AccessKey: tenantKey, OrganizationID: tenantA, Bearer: iam.ApplicationPrincipal(tenantApp), DefaultProjectID: tenantProject}))

	must(store.CreateUser(ctx, iam.User{ID: "gus", OrganizationID: tenantB, Email: "gus@globex.test", Type: iam.UserOwner}))
	must(store.CreateProject(ctx, iam.Project{ID: "gx-web", OrganizationID: tenantB, Name: "web"}))
	must(store.CreateApplication(ctx, iam.Application{ID: "gx-ci", OrganizationID: tenantB, Name: "ci"}))
	must(store.CreateGroup(ctx, iam.Group{ID: "gx-team", OrganizationID: tenantB, Name: "team"}))
	must(store.CreatePolicy(ctx, iam.Policy{ID: "gx-pol", OrganizationID: tenantB, Principal: iam.GroupPrincipal("gx-team"),
		Rules: []iam.Rule{testkit.OnProjects(testkit.IDs("gx-web"), "InstancesReadOnly")}}))
	must(store.CreateAPIKey(ctx, iam.APIKey{AccessKey: "GXKEY1", OrganizationID: tenantB, Bearer: iam.ApplicationPrincipal("gx-ci")}))

	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })
	return store, ev, admin.New(store, ev)
}

// tenantSentinels are every sentinel error of the package.
var tenantSentinels = []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrConflict, iam.ErrUnknownPermission,
	iam.ErrScopeMismatch, iam.ErrForbidden, iam.ErrExpired, iam.ErrUnauthenticated}

// requireSameAnswer asserts that got, the answer for id, is unknown, the
// answer for unusedID, with unusedID replaced by id.
func requireSameAnswer(t *testing.T, got, unknown error, id, unusedID string) {
	t.Helper()
	require.Error(t, unknown, "the call succeeded for %q, which nothing holds", unusedID)
	require.Error(t, got, "the call succeeded for %q, another organization's", id)
	swap := func(s string) string { return strings.ReplaceAll(s, unusedID, id) }
	require.Equal(t, swap(unknown.Error()), got.Error(), "another organization's ID is answered otherwise than an unknown one")
	for _, s := range tenantSentinels {
		require.Equal(t, errors.Is(unknown, s), errors.Is(got, s), "errors.Is(err, %v) differs", s)
	}
	var gv, uv *iam.ValidationError
	require.Equal(t, errors.As(unknown, &uv), errors.As(got, &gv), "errors.As(err, *ValidationError) differs")
	if uv != nil {
		want := *uv
		for _, f := range []*string{&want.Entity, &want.ID, &want.Field, &want.Value, &want.Reason, &want.Hint, &want.File, &want.Path} {
			*f = swap(*f)
		}
		require.Equal(t, want, *gv)
	}
}

func errOf[T any](_ T, err error) error { return err }

// tenantOp is one call through an Entities (an Admin view or the store),
// naming id.
type tenantOp func(ctx context.Context, e iam.Entities, id string) error

func TestAnotherOrganizationsIDsAnswerAsUnknown(t *testing.T) {
	t.Parallel()
	const b = tenantB
	readOnly := testkit.OnProjects(testkit.IDs("gx-web"), "InstancesReadOnly")
	set := func(org string) iam.PermissionSet {
		return iam.PermissionSet{Name: tenantSet, OrganizationID: org, ScopeType: iam.ScopeProjects, Permissions: testkit.IDs("instance:image:read")}
	}
	policyFor := func(p iam.Principal, rules ...iam.Rule) iam.Policy {
		if rules == nil {
			rules = []iam.Rule{readOnly}
		}
		return iam.Policy{ID: "gx-new-pol", OrganizationID: b, Principal: p, Rules: rules}
	}
	tests := []struct {
		name  string
		id    string // acme's
		op    tenantOp
		store bool // the store's own answer must not tell either
	}{
		// Another organization's entities, read, written and deleted.
		{name: "get a project", id: tenantProject, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetProject(ctx, id))
		}},
		{name: "get a default project", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetProject(ctx, id))
		}},
		{name: "update a project", id: tenantProject, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateProject(ctx, iam.Project{ID: id, OrganizationID: b, Name: "mine"}))
		}},
		{name: "delete a project", id: tenantProject, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeleteProject(ctx, id)
		}},
		{name: "get a user", id: tenantUser, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetUser(ctx, id))
		}},
		{name: "update a user", id: tenantUser, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateUser(ctx, iam.User{ID: id, OrganizationID: b, Email: "mine@globex.test"}))
		}},
		{name: "delete a user", id: tenantUser, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeleteUser(ctx, id)
		}},
		{name: "get an application", id: tenantApp, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetApplication(ctx, id))
		}},
		{name: "update an application", id: tenantApp, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateApplication(ctx, iam.Application{ID: id, OrganizationID: b, Name: "mine"}))
		}},
		{name: "delete an application", id: tenantApp, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeleteApplication(ctx, id)
		}},
		{name: "get a group", id: tenantGroup, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetGroup(ctx, id))
		}},
		{name: "update a group", id: tenantGroup, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateGroup(ctx, iam.Group{ID: id, OrganizationID: b, Name: "mine"}))
		}},
		{name: "delete a group", id: tenantGroup, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeleteGroup(ctx, id)
		}},
		{name: "get a policy", id: tenantPolicy, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetPolicy(ctx, id))
		}},
		{name: "update a policy", id: tenantPolicy, op: func(ctx context.Context, e iam.Entities, id string) error {
			p := policyFor(iam.GroupPrincipal("gx-team"))
			p.ID = id
			return errOf(e.UpdatePolicy(ctx, p))
		}},
		{name: "delete a policy", id: tenantPolicy, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeletePolicy(ctx, id)
		}},
		{name: "get an API key", id: tenantKey, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetAPIKey(ctx, id))
		}},
		{name: "update an API key", id: tenantKey, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateAPIKey(ctx, iam.APIKey{AccessKey: id, OrganizationID: b, Bearer: iam.ApplicationPrincipal("gx-ci")}))
		}},
		{name: "delete an API key", id: tenantKey, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeleteAPIKey(ctx, id)
		}},
		{name: "get a permission set by its name", id: tenantSet, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetPermissionSet(ctx, b, id))
		}},
		{name: "delete a permission set by its name", id: tenantSet, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeletePermissionSet(ctx, b, id)
		}},

		// Another organization's ID, named as the organization.
		{name: "get a permission set", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetPermissionSet(ctx, id, tenantSet))
		}},
		{name: "update a permission set", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdatePermissionSet(ctx, set(id)))
		}},
		{name: "delete a permission set", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeletePermissionSet(ctx, id, tenantSet)
		}},
		{name: "create a permission set", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			ps := set(id)
			ps.Name = "Mine"
			return errOf(e.CreatePermissionSet(ctx, ps))
		}},
		{name: "get the organization", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetOrganization(ctx, id))
		}},
		{name: "update the organization", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateOrganization(ctx, iam.Organization{ID: id, Name: "mine"}))
		}},
		{name: "delete the organization", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return e.DeleteOrganization(ctx, id)
		}},
		{name: "list projects", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.ListProjects(ctx, id))
		}},
		{name: "list users", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.ListUsers(ctx, id))
		}},
		{name: "list applications", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.ListApplications(ctx, id))
		}},
		{name: "list groups", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.ListGroups(ctx, id))
		}},
		{name: "list policies", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.ListPolicies(ctx, id))
		}},
		{name: "list permission sets", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.ListPermissionSets(ctx, id))
		}},
		{name: "list API keys", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.ListAPIKeys(ctx, id))
		}},
		{name: "create a project", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateProject(ctx, iam.Project{OrganizationID: id, Name: "mine"}))
		}},
		{name: "create a user", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateUser(ctx, iam.User{OrganizationID: id, Email: "mine@globex.test"}))
		}},
		{name: "create an application", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateApplication(ctx, iam.Application{OrganizationID: id, Name: "mine"}))
		}},
		{name: "create a group", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateGroup(ctx, iam.Group{OrganizationID: id, Name: "mine"}))
		}},
		{name: "create a policy", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, iam.Policy{OrganizationID: id}))
		}},
		{name: "create an API key", id: tenantA, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateAPIKey(ctx, iam.APIKey{OrganizationID: id, Bearer: iam.ApplicationPrincipal("gx-ci")}))
		}},

		// References from globex's entities to acme's.
		{name: "a policy's user", id: tenantUser, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.UserPrincipal(id))))
		}},
		{name: "a policy's application", id: tenantApp, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.ApplicationPrincipal(id))))
		}},
		{name: "a policy's group", id: tenantGroup, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.GroupPrincipal(id))))
		}},
		{name: "an updated policy's user", id: tenantUser, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			p := policyFor(iam.UserPrincipal(id))
			p.ID = "gx-pol"
			return errOf(e.UpdatePolicy(ctx, p))
		}},
		{name: "a rule's project", id: tenantProject, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.GroupPrincipal("gx-team"), testkit.OnProjects(testkit.IDs("gx-web", id), "InstancesReadOnly"))))
		}},
		{name: "a rule's default project", id: tenantA, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.GroupPrincipal("gx-team"), testkit.OnProjects(testkit.IDs(id), "InstancesReadOnly"))))
		}},
		{name: "a rule's organization", id: tenantA, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.GroupPrincipal("gx-team"), testkit.OnOrg(id, "BillingReadOnly"))))
		}},
		{name: "a group's user", id: tenantUser, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateGroup(ctx, iam.Group{ID: "gx-new-group", OrganizationID: b, Name: "new", UserIDs: testkit.IDs(id)}))
		}},
		{name: "a group's application", id: tenantApp, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateGroup(ctx, iam.Group{ID: "gx-new-group", OrganizationID: b, Name: "new", ApplicationIDs: testkit.IDs("gx-ci", id)}))
		}},
		{name: "an updated group's user", id: tenantUser, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateGroup(ctx, iam.Group{ID: "gx-team", OrganizationID: b, Name: "team", UserIDs: testkit.IDs("gus", id)}))
		}},
		{name: "an API key's application", id: tenantApp, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateAPIKey(ctx, iam.APIKey{AccessKey: "GXNEWKEY", OrganizationID: b, Bearer: iam.ApplicationPrincipal(id)}))
		}},
		{name: "an API key's user", id: tenantUser, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateAPIKey(ctx, iam.APIKey{AccessKey: "GXNEWKEY", OrganizationID: b, Bearer: iam.UserPrincipal(id)}))
		}},
		{name: "an API key's default project", id: tenantProject, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateAPIKey(ctx, iam.APIKey{AccessKey: "GXNEWKEY", OrganizationID: b, Bearer: iam.ApplicationPrincipal("gx-ci"), DefaultProjectID: id}))
		}},
		{name: "an updated API key's default project", id: tenantA, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateAPIKey(ctx, iam.APIKey{AccessKey: "GXKEY1", OrganizationID: b, Bearer: iam.ApplicationPrincipal("gx-ci"), DefaultProjectID: id}))
		}},

		{name: "a rule's permission set", id: tenantSet, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.GroupPrincipal("gx-team"), testkit.OnProjects(testkit.IDs("gx-web"), id))))
		}},
		{name: "a permission set's includes", id: tenantSet, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePermissionSet(ctx, iam.PermissionSet{Name: "Mine", OrganizationID: b, ScopeType: iam.ScopeProjects, Includes: testkit.IDs(id)}))
		}},
		{name: "a user moved to another organization", id: tenantA, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateUser(ctx, iam.User{ID: "gus", OrganizationID: id, Email: "gus@globex.test", Type: iam.UserOwner}))
		}},
		{name: "a project moved to another organization", id: tenantA, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.UpdateProject(ctx, iam.Project{ID: "gx-web", OrganizationID: id, Name: "web"}))
		}},

		// An ID of another organization's entity of another kind.
		{name: "a project as a group's user", id: tenantProject, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateGroup(ctx, iam.Group{ID: "gx-new-group", OrganizationID: b, Name: "new", UserIDs: testkit.IDs(id)}))
		}},
		{name: "an API key as a policy's application", id: tenantKey, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.ApplicationPrincipal(id))))
		}},
		{name: "a group as a rule's project", id: tenantGroup, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, policyFor(iam.GroupPrincipal("gx-team"), testkit.OnProjects(testkit.IDs(id), "InstancesReadOnly"))))
		}},
		{name: "a policy as an API key's default project", id: tenantPolicy, store: true, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateAPIKey(ctx, iam.APIKey{AccessKey: "GXNEWKEY", OrganizationID: b, Bearer: iam.ApplicationPrincipal("gx-ci"), DefaultProjectID: id}))
		}},
		{name: "a user read as an application", id: tenantUser, op: func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.GetApplication(ctx, id))
		}},
	}
	store, _, adm := newTenantsWorld(t)
	before := testkit.Dump(t, store)
	callers := []iam.Principal{iam.UserPrincipal("gus"), iam.APIKeyPrincipal("GXKEY1")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			unused := tenantUnused(tt.id)
			require.NotEqual(t, tt.id, unused)
			for _, caller := range callers {
				view := adm.As(caller)
				requireSameAnswer(t, tt.op(ctx, view, tt.id), tt.op(ctx, view, unused), tt.id, unused)
			}
			if tt.store {
				requireSameAnswer(t, tt.op(ctx, store, tt.id), tt.op(ctx, store, unused), tt.id, unused)
			}
		})
	}
	testkit.RequireUnchanged(t, store, before)
}

// An explicit ID that anything in the store already holds cannot be
// created again; Admin answers it with one ErrConflict, whoever holds the
// ID (the caller's own organization or another, whatever the kind), and the
// store's own answer for another organization's ID names neither that
// organization nor the kind that holds it.
func TestTakenIDsAnswerAlikeWhoeverHoldsThem(t *testing.T) {
	t.Parallel()
	const b = tenantB
	creates := []struct {
		kind string
		op   tenantOp
	}{
		{"project", func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateProject(ctx, iam.Project{ID: id, OrganizationID: b, Name: "fresh"}))
		}},
		{"user", func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateUser(ctx, iam.User{ID: id, OrganizationID: b, Email: "fresh@globex.test"}))
		}},
		{"application", func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateApplication(ctx, iam.Application{ID: id, OrganizationID: b, Name: "fresh"}))
		}},
		{"group", func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateGroup(ctx, iam.Group{ID: id, OrganizationID: b, Name: "fresh"}))
		}},
		{"policy", func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreatePolicy(ctx, iam.Policy{ID: id, OrganizationID: b}))
		}},
		{"API key", func(ctx context.Context, e iam.Entities, id string) error {
			return errOf(e.CreateAPIKey(ctx, iam.APIKey{AccessKey: id, OrganizationID: b, Bearer: iam.ApplicationPrincipal("gx-ci")}))
		}},
	}
	others := []string{tenantProject, tenantUser, tenantApp, tenantGroup, tenantPolicy, tenantKey, tenantA}
	own := []string{"gx-web", "gus", "gx-ci", "gx-team", "gx-pol", "GXKEY1", tenantB}
	store, _, adm := newTenantsWorld(t)
	before := testkit.Dump(t, store)
	gus := adm.As(iam.UserPrincipal("gus"))
	for _, c := range creates {
		t.Run(c.kind, func(t *testing.T) {
			ctx := t.Context()
			first := c.op(ctx, gus, tenantProject)
			require.ErrorIs(t, first, iam.ErrConflict)
			for _, id := range slices.Concat(others, own) {
				err := c.op(ctx, gus, id)
				require.Equal(t, strings.ReplaceAll(first.Error(), tenantProject, id), err.Error(), "the answer for %q tells who holds it", id)
				for _, s := range tenantSentinels {
					require.Equal(t, errors.Is(first, s), errors.Is(err, s), "errors.Is(err, %v) differs for %q", s, id)
				}
			}
			// The store's own answer, which a host may pass on, is one
			// answer for every kind of acme's, naming no organization.
			firstStored := c.op(ctx, store, tenantProject)
			require.ErrorIs(t, firstStored, iam.ErrConflict)
			require.NotContains(t, strings.ReplaceAll(firstStored.Error(), tenantProject, ""), tenantA)
			for _, id := range others {
				err := c.op(ctx, store, id)
				require.Equal(t, strings.ReplaceAll(firstStored.Error(), tenantProject, id), err.Error(), "the store tells who holds %q", id)
				for _, s := range tenantSentinels {
					require.Equal(t, errors.Is(firstStored, s), errors.Is(err, s), "errors.Is(err, %v) differs for %q", s, id)
				}
			}
		})
	}
	testkit.RequireUnchanged(t, store, before)
}

// The Evaluator keeps denying a caller of another organization
// (ReasonOtherOrganization), but nothing it says, in an explanation or in
// an error, names an organization the request did not name, nor shows
// another organization's own permission sets.
func TestChecksNeverNameAnotherOrganization(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, ev, _ := newTenantsWorld(t)
	gus := iam.UserPrincipal("gus")
	// given removes what the request named, so that what is left names
	// nothing of either organization.
	given := func(s string, req iam.Request) string {
		for _, g := range []string{req.ProjectID, req.OrganizationID, req.Permission, req.Principal.ID} {
			if g != "" {
				s = strings.ReplaceAll(s, g, "<given>")
			}
		}
		return s
	}
	for _, req := range []iam.Request{
		testkit.InProject(gus, tenantProject, "InstancesReadOnly"),
		testkit.InProject(iam.APIKeyPrincipal("GXKEY1"), tenantA, "InstancesReadOnly"),
		testkit.AtOrg(gus, tenantA, "BillingReadOnly"),
	} {
		x, err := ev.Explain(ctx, req)
		require.NoError(t, err)
		require.False(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonOtherOrganization, x.Decision.Reason)
		text := given(x.String(), req)
		assert.NotContains(t, text, tenantA, "%+v", req)
		assert.NotContains(t, text, tenantB, "%+v", req)
	}

	for _, req := range []iam.Request{
		testkit.InProject(gus, tenantProject, "widget:gear:spin"),
		testkit.InProject(gus, tenantA, "widget:gear:spin"),
		testkit.InProject(gus, tenantProject, "AcmeSecrtSet"),
		testkit.InProject(gus, tenantProject, "InstancesReadOnli"),
	} {
		_, cerr := ev.Check(ctx, req)
		_, xerr := ev.Explain(ctx, req)
		for _, err := range []error{cerr, xerr} {
			require.ErrorIs(t, err, iam.ErrUnknownPermission)
			msg := given(err.Error(), req)
			assert.NotContains(t, msg, tenantA, "%+v", req)
			assert.NotContains(t, msg, tenantB, "%+v", req)
			assert.NotContains(t, msg, tenantSet, "%+v", req)
		}
	}
	// The catalogue's own sets are still suggested, and acme's to acme.
	_, err := ev.Check(ctx, testkit.InProject(gus, tenantProject, "InstancesReadOnli"))
	assert.ErrorContains(t, err, "did you mean InstancesReadOnly?")
	_, err = ev.Check(ctx, testkit.InProject(iam.UserPrincipal("acme-boss"), tenantProject, "AcmeSecrtSet"))
	assert.ErrorContains(t, err, "did you mean AcmeSecretSet?")

	// WhoCan has no caller; its errors name only what the request named.
	_, err = ev.WhoCan(ctx, iam.Request{ProjectID: tenantProject, Permission: "widget:gear:spin"})
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
	assert.NotContains(t, strings.ReplaceAll(err.Error(), tenantProject, ""), tenantA)
}
