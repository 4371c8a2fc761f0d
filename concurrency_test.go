package iam_test

// Read-your-writes, deletes that take effect at once, and concurrent
// readers and writers under -race whose answers are always those of some
// revision, never going back in time.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// expectNow checks req on every evaluator and asserts the outcome and that
// the answer reflects a revision after floor (a write that returned before
// the check).
func expectNow(t *testing.T, evs []*iam.Evaluator, req iam.Request, want outcome, floor uint64, what string) {
	t.Helper()
	for i, ev := range evs {
		d, err := ev.Check(context.Background(), req)
		if want.err != nil {
			if !assert.ErrorIs(t, err, want.err, "%s (evaluator %d): %+v", what, i, req) {
				t.FailNow()
			}
			require.False(t, d.Allowed)
			continue
		}
		require.NoError(t, err, "%s (evaluator %d)", what, i)
		require.Equal(t, want.allowed, d.Allowed, "%s (evaluator %d): %+v, got %+v", what, i, req, d)
		require.Equal(t, want.reason, d.Reason, "%s (evaluator %d)", what, i)
		require.Greater(t, d.Revision, floor, "%s (evaluator %d): the answer predates the write", what, i)
	}
}

// Once a write returns, every Evaluator on the store answers from it:
// several goroutines write and immediately check, each on its own
// principals, while the others write too.
func TestConcurrentReadYourWrites(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	second, err := iam.NewEvaluator(w.ctx, w.store)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, second.Close()) })
	evs := []*iam.Evaluator{w.ev, second}

	const workers, rounds = 6, 20
	for i := range workers {
		w.project(w.org, fmt.Sprintf("p-%d", i))
		w.user(w.org, fmt.Sprintf("u-%d", i))
		w.group(iam.Group{ID: fmt.Sprintf("g-%d", i), OrganizationID: w.org})
		w.policy(w.org, fmt.Sprintf("gpol-%d", i), iam.GroupPrincipal(fmt.Sprintf("g-%d", i)), onProjects(ids(fmt.Sprintf("p-%d", i)), "InstancesServerStart"))
		w.policy(w.org, fmt.Sprintf("orgpol-%d", i), iam.UserPrincipal(fmt.Sprintf("u-%d", i)), onOrg(w.org, "InstancesIpRead"))
	}

	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			ctx := w.ctx
			s := w.store
			project, userID, groupID := fmt.Sprintf("p-%d", i), fmt.Sprintf("u-%d", i), fmt.Sprintf("g-%d", i)
			u := iam.UserPrincipal(userID)
			floor := func() uint64 {
				r, err := s.Revision(ctx)
				require.NoError(t, err)
				return r
			}
			for r := range rounds {
				polID := fmt.Sprintf("pol-%d-%d", i, r)

				f := floor()
				pol, err := s.CreatePolicy(ctx, iam.Policy{ID: polID, OrganizationID: w.org, Principal: u, Rules: []iam.Rule{onProjects(ids(project), "InstancesServerCreate")}})
				require.NoError(t, err)
				expectNow(t, evs, inProject(u, project, "InstancesServerCreate"), granted, f, "policy created")

				f = floor()
				pol.Rules = []iam.Rule{onProjects(ids(project), "InstancesServerDelete")}
				_, err = s.UpdatePolicy(ctx, pol)
				require.NoError(t, err)
				expectNow(t, evs, inProject(u, project, "InstancesServerCreate"), notGranted, f, "policy updated: old grant gone")
				expectNow(t, evs, inProject(u, project, "InstancesServerDelete"), granted, f, "policy updated: new grant there")

				f = floor()
				_, err = s.UpdateGroup(ctx, iam.Group{ID: groupID, OrganizationID: w.org, Name: "group " + groupID, UserIDs: ids(userID)})
				require.NoError(t, err)
				expectNow(t, evs, inProject(u, project, "InstancesServerStart"), granted, f, "joined the group")

				f = floor()
				_, err = s.UpdateGroup(ctx, iam.Group{ID: groupID, OrganizationID: w.org, Name: "group " + groupID})
				require.NoError(t, err)
				expectNow(t, evs, inProject(u, project, "InstancesServerStart"), notGranted, f, "left the group")

				f = floor()
				user, err := s.GetUser(ctx, userID)
				require.NoError(t, err)
				user.Locked = true
				_, err = s.UpdateUser(ctx, user)
				require.NoError(t, err)
				expectNow(t, evs, inProject(u, project, "InstancesServerDelete"), locked, f, "locked")
				user.Locked = false
				f = floor()
				_, err = s.UpdateUser(ctx, user)
				require.NoError(t, err)
				expectNow(t, evs, inProject(u, project, "InstancesServerDelete"), granted, f, "unlocked")

				f = floor()
				key, err := s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: w.org, Bearer: u})
				require.NoError(t, err)
				expectNow(t, evs, inProject(iam.APIKeyPrincipal(key.AccessKey), project, "InstancesServerDelete"), granted, f, "key created")
				require.NoError(t, s.DeleteAPIKey(ctx, key.AccessKey))
				expectNow(t, evs, inProject(iam.APIKeyPrincipal(key.AccessKey), project, "InstancesServerDelete"), isNotFound, 0, "key deleted")

				f = floor()
				newProject := fmt.Sprintf("q-%d-%d", i, r)
				_, err = s.CreateProject(ctx, iam.Project{ID: newProject, OrganizationID: w.org, Name: newProject})
				require.NoError(t, err)
				expectNow(t, evs, inProject(u, newProject, "InstancesIpRead"), granted, f, "project created under an organization rule")
				require.NoError(t, s.DeleteProject(ctx, newProject))
				expectNow(t, evs, inProject(u, newProject, "InstancesIpRead"), isNotFound, 0, "project deleted")

				f = floor()
				require.NoError(t, s.DeletePolicy(ctx, polID))
				expectNow(t, evs, inProject(u, project, "InstancesServerDelete"), notGranted, f, "policy deleted")
			}
			require.NoError(t, w.store.DeleteUser(ctx, userID))
			expectNow(t, evs, inProject(u, project, "InstancesIpRead"), isNotFound, 0, "user deleted")
		})
	}
	wg.Wait()
}

// slotState is what the writers of one slot have granted at a revision.
type slotState struct {
	policy bool // policy pol-i grants InstancesServerCreate on p1 to s-i
	member bool // s-i is in group g-i, whose policy grants InstancesServerDelete on p1
}

// revisionLog records, from the change feed, the state of every slot after
// every revision.
type revisionLog struct {
	mu      sync.Mutex
	cur     []slotState
	revs    []uint64
	history [][]slotState
}

func (l *revisionLog) record(c iam.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range c.Events {
		var i int
		switch {
		case ev.Kind == iam.KindPolicy:
			if _, err := fmt.Sscanf(ev.ID, "pol-%d", &i); err != nil {
				continue
			}
			l.cur[i].policy = ev.Op == iam.OpPut
		case ev.Kind == iam.KindGroup:
			if _, err := fmt.Sscanf(ev.ID, "g-%d", &i); err != nil {
				continue
			}
			g, ok := ev.Value.(iam.Group)
			l.cur[i].member = ok && len(g.UserIDs) > 0
		}
	}
	l.revs = append(l.revs, c.Revision)
	l.history = append(l.history, append([]slotState(nil), l.cur...))
}

// at returns the state as of revision rev.
func (l *revisionLog) at(rev uint64) ([]slotState, bool) {
	i := sort.Search(len(l.revs), func(i int) bool { return l.revs[i] > rev }) - 1
	if i < 0 {
		return nil, false
	}
	return l.history[i], true
}

type observation struct {
	rev     uint64
	slot    int
	member  bool // asked InstancesServerDelete (the group's) rather than InstancesServerCreate (the policy's)
	allowed bool
}

// Many readers check while writers create and delete policies and change
// memberships, one at a time and in Atomic writes. Every answer must be
// the one of the revision it names, revisions never go back for a
// reader, and nothing that was never written is ever granted.
func TestConcurrentReadersAndWriters(t *testing.T) {
	t.Parallel()
	const slots, readers, writesPerSlot = 4, 8, 250
	w := newWorld(t)
	w.project(w.org, "p1")
	w.project(w.org, "p2")
	for i := range slots {
		w.user(w.org, fmt.Sprintf("s-%d", i))
		w.group(iam.Group{ID: fmt.Sprintf("g-%d", i), OrganizationID: w.org})
		w.policy(w.org, fmt.Sprintf("gpol-%d", i), iam.GroupPrincipal(fmt.Sprintf("g-%d", i)), onProjects(ids("p1"), "InstancesServerDelete"))
	}
	w.user(w.org, "noise")

	start, err := w.store.Revision(w.ctx)
	require.NoError(t, err)
	log := &revisionLog{cur: make([]slotState, slots), revs: []uint64{start}, history: [][]slotState{make([]slotState, slots)}}
	cancel := w.store.Subscribe(log.record)
	defer cancel()

	var writersDone atomic.Bool
	var writers sync.WaitGroup
	for i := range slots {
		writers.Go(func() {
			ctx, s := w.ctx, w.store
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			u := fmt.Sprintf("s-%d", i)
			polID, groupID := fmt.Sprintf("pol-%d", i), fmt.Sprintf("g-%d", i)
			var st slotState
			setPolicy := func(tx iam.Entities, on bool) error {
				if on {
					_, err := tx.CreatePolicy(ctx, iam.Policy{ID: polID, OrganizationID: w.org, Principal: iam.UserPrincipal(u), Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}})
					return err
				}
				return tx.DeletePolicy(ctx, polID)
			}
			setMember := func(tx iam.Entities, on bool) error {
				g := iam.Group{ID: groupID, OrganizationID: w.org, Name: "group " + groupID}
				if on {
					g.UserIDs = ids(u)
				}
				_, err := tx.UpdateGroup(ctx, g)
				return err
			}
			for range writesPerSlot {
				switch rng.IntN(3) {
				case 0:
					require.NoError(t, setPolicy(s, !st.policy))
					st.policy = !st.policy
				case 1:
					require.NoError(t, setMember(s, !st.member))
					st.member = !st.member
				case 2:
					require.NoError(t, s.Atomic(ctx, func(tx iam.Tx) error {
						if err := setPolicy(tx, !st.policy); err != nil {
							return err
						}
						return setMember(tx, !st.member)
					}))
					st.policy, st.member = !st.policy, !st.member
				}
			}
		})
	}
	// Noise: writes that touch other entities of the organization.
	writers.Go(func() {
		for j := 0; j < 60; j++ {
			id := fmt.Sprintf("noise-p-%d", j)
			_, err := w.store.CreateProject(w.ctx, iam.Project{ID: id, OrganizationID: w.org, Name: id})
			require.NoError(t, err)
			_, err = w.store.CreatePolicy(w.ctx, iam.Policy{ID: "noise-pol-" + id, OrganizationID: w.org, Principal: iam.UserPrincipal("noise"), Rules: []iam.Rule{onProjects(ids(id, "p2"), "InstancesFullAccess")}})
			require.NoError(t, err)
			require.NoError(t, w.store.DeleteProject(w.ctx, id))
		}
	})

	observed := make([][]observation, readers)
	var readersWG sync.WaitGroup
	for r := range readers {
		readersWG.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			var last uint64
			for n := 0; !writersDone.Load() || n < 200; n++ {
				slot := rng.IntN(slots)
				u := iam.UserPrincipal(fmt.Sprintf("s-%d", slot))
				member := rng.IntN(2) == 0
				perm := "InstancesServerCreate"
				if member {
					perm = "InstancesServerDelete"
				}
				d, err := w.ev.Check(w.ctx, inProject(u, "p1", perm))
				require.NoError(t, err)
				require.GreaterOrEqual(t, d.Revision, last, "a reader went back in time")
				last = d.Revision
				observed[r] = append(observed[r], observation{rev: d.Revision, slot: slot, member: member, allowed: d.Allowed})

				// Never written: never granted.
				d, err = w.ev.Check(w.ctx, inProject(u, "p1", "InstancesServerStop"))
				require.NoError(t, err)
				require.False(t, d.Allowed, "a grant nobody wrote")
				d, err = w.ev.Check(w.ctx, inProject(u, "p2", perm))
				require.NoError(t, err)
				require.False(t, d.Allowed, "a grant nobody wrote (p2)")
				require.GreaterOrEqual(t, d.Revision, last, "a reader went back in time")
				last = d.Revision
				// The groups' own policies never change.
				d, err = w.ev.Check(w.ctx, inProject(iam.GroupPrincipal(fmt.Sprintf("g-%d", slot)), "p1", "InstancesServerDelete"))
				require.NoError(t, err)
				require.True(t, d.Allowed, "the group's own policy")
			}
		})
	}
	writers.Wait()
	writersDone.Store(true)
	readersWG.Wait()

	log.mu.Lock()
	defer log.mu.Unlock()
	require.Greater(t, len(log.revs), slots*writesPerSlot, "every write was logged")
	total, allowed := 0, 0
	for r, obs := range observed {
		for _, o := range obs {
			st, ok := log.at(o.rev)
			require.True(t, ok, "reader %d: revision %d before the log", r, o.rev)
			want := st[o.slot].policy
			if o.member {
				want = st[o.slot].member
			}
			require.Equal(t, want, o.allowed, "reader %d: slot %d (member=%v) at revision %d", r, o.slot, o.member, o.rev)
			total++
			if o.allowed {
				allowed++
			}
		}
	}
	require.Greater(t, total, 0)
	require.Greater(t, allowed, 0, "some checks saw grants")
	require.Less(t, allowed, total, "some checks saw no grants")
}

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

// Read-your-writes for every kind of write that changes an answer: each
// step writes, then checks at once.
func TestReadYourWritesEveryKind(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	u := iam.UserPrincipal(w.user(w.org, "u"))
	a := iam.ApplicationPrincipal(w.app(w.org, "a", false))
	w.group(iam.Group{ID: "g", OrganizationID: w.org})
	w.policy(w.org, "gpol", iam.GroupPrincipal("g"), onProjects(ids("p1"), "InstancesServerStart"))
	w.set(iam.PermissionSet{Name: "Custom", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:thing:read"}})
	w.set(iam.PermissionSet{Name: "CustomOther", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:other:read"}})
	w.policy(w.org, "cpol", u, onProjects(ids("p1"), "Custom"))
	ctx, s := w.ctx, w.store

	type step struct {
		name   string
		write  func() error
		checks []checkCase
	}
	steps := []step{
		{"project and organization renamed", func() error {
			if _, err := s.UpdateProject(ctx, iam.Project{ID: "p1", OrganizationID: w.org, Name: "Renamed"}); err != nil {
				return err
			}
			_, err := s.UpdateOrganization(ctx, iam.Organization{ID: w.org, Name: "Renamed"})
			return err
		}, []checkCase{
			{"grants on the project stay", inProject(u, "p1", "Custom"), granted},
			{"the owner stays", inProject(iam.UserPrincipal(w.owner), "p1", "Custom"), ownerAllow},
		}},
		{"custom set gains a pattern", func() error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "Custom", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:thing:read", "custom:thing:write"}})
			return err
		}, []checkCase{
			{"new pattern granted", inProject(u, "p1", "custom:thing:write"), granted},
			{"old pattern still granted", inProject(u, "p1", "custom:thing:read"), granted},
		}},
		{"custom set includes another", func() error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "Custom", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:thing:read"}, Includes: []string{"CustomOther"}})
			return err
		}, []checkCase{
			{"pattern removed", inProject(u, "p1", "custom:thing:write"), isUnknown},
			{"included set granted", inProject(u, "p1", "CustomOther"), granted},
			{"included pattern granted", inProject(u, "p1", "custom:other:read"), granted},
		}},
		{"new custom set", func() error {
			_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "Fresh", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"fresh:x:y"}})
			return err
		}, []checkCase{
			{"known at once", inProject(u, "p1", "Fresh"), notGranted},
			{"its triple known at once", inProject(u, "p1", "fresh:x:y"), notGranted},
		}},
		{"custom set deleted", func() error { return s.DeletePermissionSet(ctx, w.org, "Fresh") }, []checkCase{
			{"unknown at once", inProject(u, "p1", "Fresh"), isUnknown},
			{"its triple unknown at once", inProject(u, "p1", "fresh:x:y"), isUnknown},
		}},
		{"policy moves from the user to the application", func() error {
			_, err := s.UpdatePolicy(ctx, iam.Policy{ID: "cpol", OrganizationID: w.org, Principal: a, Rules: []iam.Rule{onProjects(ids("p1"), "Custom")}})
			return err
		}, []checkCase{
			{"user lost it", inProject(u, "p1", "Custom"), notGranted},
			{"application has it", inProject(a, "p1", "Custom"), granted},
		}},
		{"group becomes all-users", func() error {
			_, err := s.UpdateGroup(ctx, iam.Group{ID: "g", OrganizationID: w.org, Name: "group g", AllUsers: true})
			return err
		}, []checkCase{
			{"user is in it", inProject(u, "p1", "InstancesServerStart"), granted},
			{"application is not", inProject(a, "p1", "InstancesServerStart"), notGranted},
		}},
		{"group becomes all-applications", func() error {
			_, err := s.UpdateGroup(ctx, iam.Group{ID: "g", OrganizationID: w.org, Name: "group g", AllApplications: true})
			return err
		}, []checkCase{
			{"user is out", inProject(u, "p1", "InstancesServerStart"), notGranted},
			{"application is in", inProject(a, "p1", "InstancesServerStart"), granted},
		}},
		{"application becomes managed", func() error {
			_, err := s.UpdateApplication(ctx, iam.Application{ID: "a", OrganizationID: w.org, Name: "app a", Managed: true})
			return err
		}, []checkCase{
			{"managed application leaves all-applications", inProject(a, "p1", "InstancesServerStart"), notGranted},
			{"its own policy still holds", inProject(a, "p1", "Custom"), granted},
		}},
		{"policy loses its principal", func() error {
			_, err := s.UpdatePolicy(ctx, iam.Policy{ID: "cpol", OrganizationID: w.org, Rules: []iam.Rule{onProjects(ids("p1"), "Custom")}})
			return err
		}, []checkCase{
			{"nobody holds it", inProject(a, "p1", "Custom"), notGranted},
		}},
		{"user promoted to owner in one atomic write", func() error {
			return s.Atomic(ctx, func(tx iam.Tx) error {
				if _, err := tx.UpdateUser(ctx, iam.User{ID: w.owner, OrganizationID: w.org, Email: w.owner + "@acme.test", Type: iam.UserMember}); err != nil {
					return err
				}
				_, err := tx.UpdateUser(ctx, iam.User{ID: "u", OrganizationID: w.org, Email: "u@acme.test", Type: iam.UserOwner})
				return err
			})
		}, []checkCase{
			{"new owner", atOrg(u, w.org, "IAMManager"), ownerAllow},
			{"former owner", atOrg(iam.UserPrincipal(w.owner), w.org, "IAMManager"), notGranted},
		}},
	}
	for _, st := range steps {
		before := w.ev.Revision()
		require.NoError(t, st.write(), st.name)
		require.Greater(t, w.ev.Revision(), before, "%s: the evaluator saw the write before it returned", st.name)
		for _, c := range st.checks {
			t.Run(st.name+"/"+c.name, func(t *testing.T) { w.expect(t, c.req, c.want) })
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
