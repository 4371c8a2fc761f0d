package iamtest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/testkit"
)

var readYourWritesCases = []storeCase{
	{"EveryKindOfWrite", testReadYourWritesEveryKind},
	{"ConcurrentWriters", testConcurrentReadYourWrites},
	{"ConcurrentReadersAndWriters", testConcurrentReadersAndWriters},
}

// expectNow checks req on every evaluator and asserts the outcome and that
// the answer reflects a revision after floor (a write that returned before
// the check).
func (t *storeT) expectNow(evs []*iam.Evaluator, req iam.Request, want testkit.Outcome, floor uint64, what string) {
	t.Helper()
	for i, ev := range evs {
		t.expect(ev, req, want, floor, "%s (evaluator %d)", what, i)
	}
}

// testConcurrentReadYourWrites: once a write returns, every Evaluator on
// the store answers from it: several goroutines write and immediately
// check, each on its own principals, while the others write too.
func testConcurrentReadYourWrites(t *storeT) {
	w := t.world()
	evs := []*iam.Evaluator{w.Ev, w.evaluator(w.clock)}

	const workers, rounds = 6, 20
	for i := range workers {
		w.Project(w.Org, fmt.Sprintf("p-%d", i))
		w.User(w.Org, fmt.Sprintf("u-%d", i))
		w.Group(iam.Group{ID: fmt.Sprintf("g-%d", i), OrganizationID: w.Org})
		w.Policy(w.Org, fmt.Sprintf("gpol-%d", i), iam.GroupPrincipal(fmt.Sprintf("g-%d", i)), onProjects(ids(fmt.Sprintf("p-%d", i)), "InstancesServerStart"))
		w.Policy(w.Org, fmt.Sprintf("orgpol-%d", i), iam.UserPrincipal(fmt.Sprintf("u-%d", i)), onOrg(w.Org, "InstancesIpRead"))
	}

	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			ctx := w.ctx
			s := w.store
			project, userID, groupID := fmt.Sprintf("p-%d", i), fmt.Sprintf("u-%d", i), fmt.Sprintf("g-%d", i)
			u := iam.UserPrincipal(userID)
			for r := range rounds {
				polID := fmt.Sprintf("pol-%d-%d", i, r)

				f := w.revision()
				pol, err := s.CreatePolicy(ctx, iam.Policy{ID: polID, OrganizationID: w.Org, Principal: u, Rules: []iam.Rule{onProjects(ids(project), "InstancesServerCreate")}})
				w.ok(err, "CreatePolicy")
				w.expectNow(evs, inProject(u, project, "InstancesServerCreate"), granted, f, "policy created")

				f = w.revision()
				pol.Rules = []iam.Rule{onProjects(ids(project), "InstancesServerDelete")}
				_, err = s.UpdatePolicy(ctx, pol)
				w.ok(err, "UpdatePolicy")
				w.expectNow(evs, inProject(u, project, "InstancesServerCreate"), notGranted, f, "policy updated: old grant gone")
				w.expectNow(evs, inProject(u, project, "InstancesServerDelete"), granted, f, "policy updated: new grant there")

				f = w.revision()
				_, err = s.UpdateGroup(ctx, iam.Group{ID: groupID, OrganizationID: w.Org, Name: "group " + groupID, UserIDs: ids(userID)})
				w.ok(err, "UpdateGroup")
				w.expectNow(evs, inProject(u, project, "InstancesServerStart"), granted, f, "joined the group")

				f = w.revision()
				_, err = s.UpdateGroup(ctx, iam.Group{ID: groupID, OrganizationID: w.Org, Name: "group " + groupID})
				w.ok(err, "UpdateGroup")
				w.expectNow(evs, inProject(u, project, "InstancesServerStart"), notGranted, f, "left the group")

				f = w.revision()
				user, err := s.GetUser(ctx, userID)
				w.ok(err, "GetUser")
				user.Locked = true
				_, err = s.UpdateUser(ctx, user)
				w.ok(err, "UpdateUser")
				w.expectNow(evs, inProject(u, project, "InstancesServerDelete"), locked, f, "locked")
				user.Locked = false
				f = w.revision()
				_, err = s.UpdateUser(ctx, user)
				w.ok(err, "UpdateUser")
				w.expectNow(evs, inProject(u, project, "InstancesServerDelete"), granted, f, "unlocked")

				f = w.revision()
				key, err := s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: w.Org, Bearer: u})
				w.ok(err, "CreateAPIKey")
				w.expectNow(evs, inProject(iam.APIKeyPrincipal(key.AccessKey), project, "InstancesServerDelete"), granted, f, "key created")
				w.ok(s.DeleteAPIKey(ctx, key.AccessKey), "DeleteAPIKey")
				w.expectNow(evs, inProject(iam.APIKeyPrincipal(key.AccessKey), project, "InstancesServerDelete"), isNotFound, 0, "key deleted")

				f = w.revision()
				newProject := fmt.Sprintf("q-%d-%d", i, r)
				_, err = s.CreateProject(ctx, iam.Project{ID: newProject, OrganizationID: w.Org, Name: newProject})
				w.ok(err, "CreateProject")
				w.expectNow(evs, inProject(u, newProject, "InstancesIpRead"), granted, f, "project created under an organization rule")
				w.ok(s.DeleteProject(ctx, newProject), "DeleteProject")
				w.expectNow(evs, inProject(u, newProject, "InstancesIpRead"), isNotFound, 0, "project deleted")

				f = w.revision()
				w.ok(s.DeletePolicy(ctx, polID), "DeletePolicy")
				w.expectNow(evs, inProject(u, project, "InstancesServerDelete"), notGranted, f, "policy deleted")
			}
			w.ok(w.store.DeleteUser(ctx, userID), "DeleteUser")
			w.expectNow(evs, inProject(u, project, "InstancesIpRead"), isNotFound, 0, "user deleted")
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

// testConcurrentReadersAndWriters: many readers check while writers
// create and delete policies and change memberships, one at a time and in
// Atomic writes. Every answer must be the one of the revision it names,
// as the change feed tells it, revisions never go back for a reader, and
// nothing that was never written is ever granted.
func testConcurrentReadersAndWriters(t *storeT) {
	const slots, readers, writesPerSlot = 4, 8, 250
	w := t.world()
	w.Project(w.Org, "p1")
	w.Project(w.Org, "p2")
	for i := range slots {
		w.User(w.Org, fmt.Sprintf("s-%d", i))
		w.Group(iam.Group{ID: fmt.Sprintf("g-%d", i), OrganizationID: w.Org})
		w.Policy(w.Org, fmt.Sprintf("gpol-%d", i), iam.GroupPrincipal(fmt.Sprintf("g-%d", i)), onProjects(ids("p1"), "InstancesServerDelete"))
	}
	w.User(w.Org, "noise")

	start := w.revision()
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
					_, err := tx.CreatePolicy(ctx, iam.Policy{ID: polID, OrganizationID: w.Org, Principal: iam.UserPrincipal(u), Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}})
					return err
				}
				return tx.DeletePolicy(ctx, polID)
			}
			setMember := func(tx iam.Entities, on bool) error {
				g := iam.Group{ID: groupID, OrganizationID: w.Org, Name: "group " + groupID}
				if on {
					g.UserIDs = ids(u)
				}
				_, err := tx.UpdateGroup(ctx, g)
				return err
			}
			for range writesPerSlot {
				switch rng.IntN(3) {
				case 0:
					w.ok(setPolicy(s, !st.policy), "set the policy")
					st.policy = !st.policy
				case 1:
					w.ok(setMember(s, !st.member), "set the membership")
					st.member = !st.member
				case 2:
					w.ok(s.Atomic(ctx, func(tx iam.Tx) error {
						if err := setPolicy(tx, !st.policy); err != nil {
							return err
						}
						return setMember(tx, !st.member)
					}), "set both in one Atomic write")
					st.policy, st.member = !st.policy, !st.member
				}
			}
		})
	}
	// Noise: writes that touch other entities of the organization.
	writers.Go(func() {
		for j := 0; j < 60; j++ {
			id := fmt.Sprintf("noise-p-%d", j)
			_, err := w.store.CreateProject(w.ctx, iam.Project{ID: id, OrganizationID: w.Org, Name: id})
			w.ok(err, "CreateProject")
			_, err = w.store.CreatePolicy(w.ctx, iam.Policy{ID: "noise-pol-" + id, OrganizationID: w.Org, Principal: iam.UserPrincipal("noise"), Rules: []iam.Rule{onProjects(ids(id, "p2"), "InstancesFullAccess")}})
			w.ok(err, "CreatePolicy")
			w.ok(w.store.DeleteProject(w.ctx, id), "DeleteProject")
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
				d, err := w.Ev.Check(w.ctx, inProject(u, "p1", perm))
				w.ok(err, "Check")
				w.check(d.Revision >= last, "a reader went back in time, from revision %d to %d", last, d.Revision)
				last = d.Revision
				observed[r] = append(observed[r], observation{rev: d.Revision, slot: slot, member: member, allowed: d.Allowed})

				// Never written: never granted.
				d, err = w.Ev.Check(w.ctx, inProject(u, "p1", "InstancesServerStop"))
				w.ok(err, "Check")
				w.check(!d.Allowed, "a grant nobody wrote")
				d, err = w.Ev.Check(w.ctx, inProject(u, "p2", perm))
				w.ok(err, "Check")
				w.check(!d.Allowed, "a grant nobody wrote (p2)")
				w.check(d.Revision >= last, "a reader went back in time, from revision %d to %d", last, d.Revision)
				last = d.Revision
				// The groups' own policies never change.
				d, err = w.Ev.Check(w.ctx, inProject(iam.GroupPrincipal(fmt.Sprintf("g-%d", slot)), "p1", "InstancesServerDelete"))
				w.ok(err, "Check")
				w.check(d.Allowed, "the group's own policy")
			}
		})
	}
	writers.Wait()
	writersDone.Store(true)
	readersWG.Wait()

	log.mu.Lock()
	defer log.mu.Unlock()
	w.check(len(log.revs) > slots*writesPerSlot, "every write was logged: %d revisions", len(log.revs))
	total, allowed := 0, 0
	for r, obs := range observed {
		for _, o := range obs {
			st, ok := log.at(o.rev)
			w.check(ok, "reader %d: revision %d before the log", r, o.rev)
			want := st[o.slot].policy
			if o.member {
				want = st[o.slot].member
			}
			w.equal(want, o.allowed, "reader %d: slot %d (member=%v) at revision %d", r, o.slot, o.member, o.rev)
			total++
			if o.allowed {
				allowed++
			}
		}
	}
	w.check(total > 0, "the readers checked")
	w.check(allowed > 0, "some checks saw grants")
	w.check(allowed < total, "some checks saw no grants")
}

// testReadYourWritesEveryKind: read-your-writes for every kind of write
// that changes an answer: each step writes, then checks at once.
func testReadYourWritesEveryKind(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	a := iam.ApplicationPrincipal(w.App(w.Org, "a", false))
	w.Group(iam.Group{ID: "g", OrganizationID: w.Org})
	w.Policy(w.Org, "gpol", iam.GroupPrincipal("g"), onProjects(ids("p1"), "InstancesServerStart"))
	w.Set(iam.PermissionSet{Name: "Custom", OrganizationID: w.Org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:thing:read"}})
	w.Set(iam.PermissionSet{Name: "CustomOther", OrganizationID: w.Org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:other:read"}})
	w.Policy(w.Org, "cpol", u, onProjects(ids("p1"), "Custom"))
	ctx, s := w.ctx, w.store

	type step struct {
		name   string
		write  func() error
		checks []checkCase
	}
	steps := []step{
		{"project and organization renamed", func() error {
			if _, err := s.UpdateProject(ctx, iam.Project{ID: "p1", OrganizationID: w.Org, Name: "Renamed"}); err != nil {
				return err
			}
			_, err := s.UpdateOrganization(ctx, iam.Organization{ID: w.Org, Name: "Renamed"})
			return err
		}, []checkCase{
			{"grants on the project stay", inProject(u, "p1", "Custom"), granted},
			{"the owner stays", inProject(iam.UserPrincipal(w.Owner), "p1", "Custom"), ownerAllow},
		}},
		{"custom set gains a pattern", func() error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "Custom", OrganizationID: w.Org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:thing:read", "custom:thing:write"}})
			return err
		}, []checkCase{
			{"new pattern granted", inProject(u, "p1", "custom:thing:write"), granted},
			{"old pattern still granted", inProject(u, "p1", "custom:thing:read"), granted},
		}},
		{"custom set includes another", func() error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "Custom", OrganizationID: w.Org, ScopeType: iam.ScopeProjects, Permissions: []string{"custom:thing:read"}, Includes: []string{"CustomOther"}})
			return err
		}, []checkCase{
			{"pattern removed", inProject(u, "p1", "custom:thing:write"), isUnknown},
			{"included set granted", inProject(u, "p1", "CustomOther"), granted},
			{"included pattern granted", inProject(u, "p1", "custom:other:read"), granted},
		}},
		{"new custom set", func() error {
			_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "Fresh", OrganizationID: w.Org, ScopeType: iam.ScopeProjects, Permissions: []string{"fresh:x:y"}})
			return err
		}, []checkCase{
			{"known at once", inProject(u, "p1", "Fresh"), notGranted},
			{"its triple known at once", inProject(u, "p1", "fresh:x:y"), notGranted},
		}},
		{"custom set deleted", func() error { return s.DeletePermissionSet(ctx, w.Org, "Fresh") }, []checkCase{
			{"unknown at once", inProject(u, "p1", "Fresh"), isUnknown},
			{"its triple unknown at once", inProject(u, "p1", "fresh:x:y"), isUnknown},
		}},
		{"policy moves from the user to the application", func() error {
			_, err := s.UpdatePolicy(ctx, iam.Policy{ID: "cpol", OrganizationID: w.Org, Principal: a, Rules: []iam.Rule{onProjects(ids("p1"), "Custom")}})
			return err
		}, []checkCase{
			{"user lost it", inProject(u, "p1", "Custom"), notGranted},
			{"application has it", inProject(a, "p1", "Custom"), granted},
		}},
		{"group becomes all-users", func() error {
			_, err := s.UpdateGroup(ctx, iam.Group{ID: "g", OrganizationID: w.Org, Name: "group g", AllUsers: true})
			return err
		}, []checkCase{
			{"user is in it", inProject(u, "p1", "InstancesServerStart"), granted},
			{"application is not", inProject(a, "p1", "InstancesServerStart"), notGranted},
		}},
		{"group becomes all-applications", func() error {
			_, err := s.UpdateGroup(ctx, iam.Group{ID: "g", OrganizationID: w.Org, Name: "group g", AllApplications: true})
			return err
		}, []checkCase{
			{"user is out", inProject(u, "p1", "InstancesServerStart"), notGranted},
			{"application is in", inProject(a, "p1", "InstancesServerStart"), granted},
		}},
		{"application becomes managed", func() error {
			_, err := s.UpdateApplication(ctx, iam.Application{ID: "a", OrganizationID: w.Org, Name: "app a", Managed: true})
			return err
		}, []checkCase{
			{"managed application leaves all-applications", inProject(a, "p1", "InstancesServerStart"), notGranted},
			{"its own policy still holds", inProject(a, "p1", "Custom"), granted},
		}},
		{"policy loses its principal", func() error {
			_, err := s.UpdatePolicy(ctx, iam.Policy{ID: "cpol", OrganizationID: w.Org, Rules: []iam.Rule{onProjects(ids("p1"), "Custom")}})
			return err
		}, []checkCase{
			{"nobody holds it", inProject(a, "p1", "Custom"), notGranted},
		}},
		{"user promoted to owner in one atomic write", func() error {
			return s.Atomic(ctx, func(tx iam.Tx) error {
				if _, err := tx.UpdateUser(ctx, iam.User{ID: w.Owner, OrganizationID: w.Org, Email: w.Owner + "@acme.test", Type: iam.UserMember}); err != nil {
					return err
				}
				_, err := tx.UpdateUser(ctx, iam.User{ID: "u", OrganizationID: w.Org, Email: "u@acme.test", Type: iam.UserOwner})
				return err
			})
		}, []checkCase{
			{"new owner", atOrg(u, w.Org, "IAMManager"), ownerAllow},
			{"former owner", atOrg(iam.UserPrincipal(w.Owner), w.Org, "IAMManager"), notGranted},
		}},
	}
	for _, st := range steps {
		before := w.Ev.Revision()
		w.ok(st.write(), st.name)
		w.check(w.Ev.Revision() > before, "%s: the evaluator saw the write before it returned", st.name)
		for _, c := range st.checks {
			w.expect(c.req, c.want, st.name+"/"+c.name)
		}
	}
}
