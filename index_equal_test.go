package iam_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
	"github.com/iamkit/iam/internal/gen"
)

// An Evaluator that followed every write holds exactly the index that one
// built from the store's state holds: the same grants, entries, group
// combinations, group table, rosters and reverse index, compared by IDs
// and names after every step of a random sequence of writes (policies,
// groups and their members, users locked and deleted, projects, an
// organization's own permission sets, API keys, conditional rules).
func TestIncrementalIndexEqualsRebuiltIndex(t *testing.T) {
	t.Parallel()
	steps := 400
	if testing.Short() {
		steps = 80
	}
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := gen.Generate(gen.Config{Seed: int64(seed), Organizations: 2, Principals: 120, ProjectsPerOrg: 4,
				Groups: 4, PoliciesPerPrincipal: 1, MaxRulesPerPolicy: 4, CustomSets: 4})
			engine := conditions.New()
			store := iam.NewMemoryStore(iam.WithConditions(engine))
			if err := w.Load(ctx, store); err != nil {
				t.Fatal(err)
			}
			ev, err := iam.NewEvaluator(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			defer ev.Close()
			x := &indexWriter{t: t, ctx: ctx, store: store, w: w, rng: rand.New(rand.NewPCG(seed, 7))}
			for step := range steps {
				op := x.step()
				fresh, err := iam.NewEvaluator(ctx, store)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := iam.IndexDump(ev), iam.IndexDump(fresh); a != b {
					t.Fatalf("after step %d (%s), the index that followed the writes differs from one built from the store:\n%s", step, op, lineDiff(a, b))
				}
				fresh.Close()
			}
			if x.landed < steps/3 {
				t.Fatalf("only %d of %d writes landed: the sequence tests too little", x.landed, steps)
			}
		})
	}
}

// lineDiff lists the lines only a has and only b has.
func lineDiff(a, b string) string {
	as, bs := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range as {
		if !slices.Contains(bs, l) {
			out = append(out, "  incremental:  "+l)
		}
	}
	for _, l := range bs {
		if !slices.Contains(as, l) {
			out = append(out, "  from scratch: "+l)
		}
	}
	if len(out) > 40 {
		out = append(out[:40], "  ...")
	}
	return strings.Join(out, "\n")
}

// indexWriter makes random writes to a store loaded with a generated
// world.
type indexWriter struct {
	t      *testing.T
	ctx    context.Context
	store  *iam.MemoryStore
	w      *gen.World
	rng    *rand.Rand
	n      int
	landed int
}

func (x *indexWriter) pick(n int) int { return x.rng.IntN(n) }

func (x *indexWriter) org() string { return x.w.Organizations[x.pick(len(x.w.Organizations))].ID }

func (x *indexWriter) name(prefix string) string {
	x.n++
	return fmt.Sprintf("%s-%d", prefix, x.n)
}

// rule returns a rule of org: one or two of its sets, on its projects or
// on the organization, sometimes with a condition.
func (x *indexWriter) rule(org string) iam.Rule {
	sets, err := x.store.ListPermissionSets(x.ctx, org)
	if err != nil {
		x.t.Fatal(err)
	}
	builtin, err := x.store.ListPermissionSets(x.ctx, "")
	if err != nil {
		x.t.Fatal(err)
	}
	all := append(sets, builtin...)
	st := iam.ScopeProjects
	if x.pick(4) == 0 {
		st = iam.ScopeOrganization
	}
	var names []string
	for range 1 + x.pick(2) {
		for {
			ps := all[x.pick(len(all))]
			if ps.ScopeType == st && !slices.Contains(names, ps.Name) {
				names = append(names, ps.Name)
				break
			}
		}
	}
	r := iam.Rule{PermissionSets: names, Scope: iam.OrganizationScope(org)}
	if st == iam.ScopeProjects && x.pick(2) == 0 {
		projects, err := x.store.ListProjects(x.ctx, org)
		if err != nil {
			x.t.Fatal(err)
		}
		x.rng.Shuffle(len(projects), func(i, j int) { projects[i], projects[j] = projects[j], projects[i] })
		r.Scope = iam.Scope{}
		for _, p := range projects[:1+x.pick(min(2, len(projects)))] {
			r.Scope.ProjectIDs = append(r.Scope.ProjectIDs, p.ID)
		}
	}
	if x.pick(6) == 0 {
		r.Condition = "request.ip == '203.0.113.7'"
	}
	return r
}

// principal returns a user, application or group of org, or the zero
// Principal when it has none.
func (x *indexWriter) principal(org string) iam.Principal {
	var ps []iam.Principal
	users, _ := x.store.ListUsers(x.ctx, org)
	for _, u := range users {
		ps = append(ps, iam.UserPrincipal(u.ID))
	}
	apps, _ := x.store.ListApplications(x.ctx, org)
	for _, a := range apps {
		ps = append(ps, iam.ApplicationPrincipal(a.ID))
	}
	groups, _ := x.store.ListGroups(x.ctx, org)
	for _, g := range groups {
		ps = append(ps, iam.GroupPrincipal(g.ID))
	}
	if len(ps) == 0 {
		return iam.Principal{}
	}
	return ps[x.pick(len(ps))]
}

// step makes one random write and says what it was.
func (x *indexWriter) step() string {
	ctx, s, org := x.ctx, x.store, x.org()
	var err error
	var what string
	switch k := x.pick(12); k {
	case 0, 1, 2: // a new or replaced policy
		p := iam.Policy{OrganizationID: org, Principal: x.principal(org)}
		for range 1 + x.pick(3) {
			p.Rules = append(p.Rules, x.rule(org))
		}
		pols, _ := s.ListPolicies(ctx, org)
		if len(pols) > 0 && k > 0 {
			old := pols[x.pick(len(pols))]
			p.ID, p.Name, p.Principal = old.ID, old.Name, old.Principal
			what = "replace policy " + p.ID
			_, err = s.UpdatePolicy(ctx, p)
		} else {
			p.Name = x.name("pol")
			what = "create policy for " + p.Principal.String()
			_, err = s.CreatePolicy(ctx, p)
		}
	case 3: // a policy deleted
		pols, _ := s.ListPolicies(ctx, org)
		if len(pols) == 0 {
			return "nothing"
		}
		id := pols[x.pick(len(pols))].ID
		what, err = "delete policy "+id, s.DeletePolicy(ctx, id)
	case 4: // a group's members change
		groups, _ := s.ListGroups(ctx, org)
		users, _ := s.ListUsers(ctx, org)
		if len(groups) == 0 || len(users) == 0 {
			return "nothing"
		}
		g := groups[x.pick(len(groups))]
		if g.AllUsers || g.AllApplications {
			return "nothing"
		}
		u := users[x.pick(len(users))].ID
		if i := slices.Index(g.UserIDs, u); i >= 0 {
			g.UserIDs = slices.Delete(g.UserIDs, i, i+1)
		} else {
			g.UserIDs = append(g.UserIDs, u)
		}
		what = "group " + g.ID + " members"
		_, err = s.UpdateGroup(ctx, g)
	case 5: // a group made or deleted
		groups, _ := s.ListGroups(ctx, org)
		if len(groups) > 0 && x.pick(2) == 0 {
			id := groups[x.pick(len(groups))].ID
			what, err = "delete group "+id, s.DeleteGroup(ctx, id)
		} else {
			g := iam.Group{OrganizationID: org, Name: x.name("group")}
			if x.pick(3) == 0 {
				g.AllUsers = true
			} else if users, _ := s.ListUsers(ctx, org); len(users) > 1 {
				g.UserIDs = []string{users[x.pick(len(users))].ID, users[x.pick(len(users))].ID}
				g.UserIDs = slices.Compact(g.UserIDs)
			}
			what = "create group " + g.Name
			_, err = s.CreateGroup(ctx, g)
		}
	case 6: // a user locked, unlocked, made or deleted
		users, _ := s.ListUsers(ctx, org)
		u := users[x.pick(len(users))]
		switch {
		case u.IsOwner() || x.pick(3) == 0:
			n := x.name("user")
			what = "create user " + n
			_, err = s.CreateUser(ctx, iam.User{OrganizationID: org, Email: n + "@example.test"})
		case x.pick(2) == 0:
			what, err = "delete user "+u.ID, s.DeleteUser(ctx, u.ID)
		default:
			u.Locked = !u.Locked
			what = "lock or unlock user " + u.ID
			_, err = s.UpdateUser(ctx, u)
		}
	case 7: // an application made, deleted, or made managed
		apps, _ := s.ListApplications(ctx, org)
		switch {
		case len(apps) == 0 || x.pick(3) == 0:
			n := x.name("app")
			what = "create application " + n
			_, err = s.CreateApplication(ctx, iam.Application{OrganizationID: org, Name: n})
		case x.pick(2) == 0:
			a := apps[x.pick(len(apps))]
			what, err = "delete application "+a.ID, s.DeleteApplication(ctx, a.ID)
		default:
			a := apps[x.pick(len(apps))]
			a.Managed = !a.Managed
			what = "managed application " + a.ID
			_, err = s.UpdateApplication(ctx, a)
		}
	case 8: // a project made or deleted
		projects, _ := s.ListProjects(ctx, org)
		if len(projects) > 2 && x.pick(2) == 0 {
			p := projects[x.pick(len(projects))]
			what, err = "delete project "+p.ID, s.DeleteProject(ctx, p.ID)
		} else {
			n := x.name("project")
			what = "create project " + n
			_, err = s.CreateProject(ctx, iam.Project{OrganizationID: org, Name: n})
		}
	case 9: // an own permission set made or deleted
		sets, _ := s.ListPermissionSets(ctx, org)
		if len(sets) > 0 && x.pick(2) == 0 {
			ps := sets[x.pick(len(sets))]
			what, err = "delete set "+ps.Name, s.DeletePermissionSet(ctx, org, ps.Name)
		} else if len(sets) > 0 {
			ps := sets[x.pick(len(sets))]
			ps.Name, ps.Includes, ps.Declared = x.name("HostCopy"), nil, nil
			ps.Name = strings.ReplaceAll(ps.Name, "-", "")
			what = "create set " + ps.Name
			_, err = s.CreatePermissionSet(ctx, ps)
		}
	case 10: // a whole write of several changes
		what = "atomic write"
		p := iam.Policy{OrganizationID: org, Name: x.name("pol"), Principal: x.principal(org), Rules: []iam.Rule{x.rule(org)}}
		group := x.name("group")
		err = s.Atomic(ctx, func(tx iam.Tx) error {
			if _, err := tx.CreatePolicy(ctx, p); err != nil {
				return err
			}
			_, err := tx.CreateGroup(ctx, iam.Group{OrganizationID: org, Name: group, AllApplications: true})
			return err
		})
	case 11: // an API key made or deleted
		keys, _ := s.ListAPIKeys(ctx, org)
		apps, _ := s.ListApplications(ctx, org)
		if len(keys) > 0 && x.pick(2) == 0 {
			k := keys[x.pick(len(keys))].AccessKey
			what, err = "delete key "+k, s.DeleteAPIKey(ctx, k)
		} else if len(apps) > 0 {
			what = "create key"
			_, err = s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: org, Bearer: iam.ApplicationPrincipal(apps[x.pick(len(apps))].ID)})
		}
	}
	if err == nil && what != "" {
		x.landed++
	}
	return fmt.Sprintf("%s: %v", what, err)
}
