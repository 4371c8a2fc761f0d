package iam_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/iamkit/iam"
)

// An Evaluator that followed random writes (users locked, unlocked and
// deleted, applications managed or not, group memberships and all-users
// flags changed, policies granted and removed, an organization deleted
// and made again under its ID) answers WhoCan as one built afresh from the
// store: no cached answer, rank or managed list outlives what it was made
// of.
func TestWhoCanAfterWritesAnswersAsARebuiltEvaluator(t *testing.T) {
	ctx := context.Background()
	s := iam.NewMemoryStore()
	ev, err := iam.NewEvaluator(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	orgs := []string{"o1", "o2"}
	setup := func(o string) {
		if _, err := s.CreateOrganization(ctx, iam.Organization{ID: o, Name: o}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, iam.User{ID: o + "-own", OrganizationID: o, Email: "own@" + o + ".test", Type: iam.UserOwner}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateProject(ctx, iam.Project{ID: o + "-p", OrganizationID: o, Name: "p"}); err != nil {
			t.Fatal(err)
		}
		for g := range 3 {
			if _, err := s.CreateGroup(ctx, iam.Group{ID: fmt.Sprintf("%s-g%d", o, g), OrganizationID: o, Name: fmt.Sprint("g", g)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, o := range orgs {
		setup(o)
	}
	ids := func(o, kind string, n int) []string {
		var out []string
		for i := range n {
			if rng.IntN(2) == 0 {
				out = append(out, fmt.Sprintf("%s-%s%d", o, kind, i))
			}
		}
		return out
	}
	reqs := func(o string) []iam.Request {
		return []iam.Request{
			{ProjectID: o + "-p", Permission: "InstancesServerList"},
			{OrganizationID: o, Permission: "ProjectManagerProjectList"},
		}
	}
	for step := range 600 {
		o := orgs[rng.IntN(len(orgs))]
		i := rng.IntN(6)
		uid, aid := fmt.Sprintf("%s-u%d", o, i), fmt.Sprintf("%s-a%d", o, i)
		var what string
		switch op := rng.IntN(12); op {
		case 0:
			what = "create user " + uid
			s.CreateUser(ctx, iam.User{ID: uid, OrganizationID: o, Email: uid + "@x.test"})
		case 1:
			what = "delete user " + uid
			s.DeleteUser(ctx, uid)
		case 2:
			if u, err := s.GetUser(ctx, uid); err == nil {
				u.Locked = !u.Locked
				what = fmt.Sprintf("user %s locked=%v", uid, u.Locked)
				s.UpdateUser(ctx, u)
			}
		case 3:
			managed := rng.IntN(2) == 0
			what = fmt.Sprintf("create app %s managed=%v", aid, managed)
			s.CreateApplication(ctx, iam.Application{ID: aid, OrganizationID: o, Name: aid, Managed: managed})
		case 4:
			what = "delete app " + aid
			s.DeleteApplication(ctx, aid)
		case 5:
			if a, err := s.GetApplication(ctx, aid); err == nil {
				a.Managed = !a.Managed
				what = fmt.Sprintf("app %s managed=%v", aid, a.Managed)
				s.UpdateApplication(ctx, a)
			}
		case 6, 7:
			gid := fmt.Sprintf("%s-g%d", o, rng.IntN(3))
			if g, err := s.GetGroup(ctx, gid); err == nil {
				g.AllUsers, g.AllApplications = rng.IntN(4) == 0, rng.IntN(4) == 0
				g.UserIDs, g.ApplicationIDs = nil, nil
				if !g.AllUsers {
					g.UserIDs = ids(o, "u", 6)
				}
				if !g.AllApplications {
					g.ApplicationIDs = ids(o, "a", 6)
				}
				what = fmt.Sprintf("group %+v", g)
				s.UpdateGroup(ctx, g)
			}
		case 8, 9:
			pid := fmt.Sprintf("%s-pol%d", o, rng.IntN(6))
			s.DeletePolicy(ctx, pid)
			var pr iam.Principal
			switch rng.IntN(3) {
			case 0:
				pr = iam.GroupPrincipal(fmt.Sprintf("%s-g%d", o, rng.IntN(3)))
			case 1:
				pr = iam.UserPrincipal(uid)
			default:
				pr = iam.ApplicationPrincipal(aid)
			}
			rule := iam.Rule{Scope: iam.ProjectsScope(o + "-p"), PermissionSets: []string{"InstancesReadOnly"}}
			if rng.IntN(2) == 0 {
				rule = iam.Rule{Scope: iam.OrganizationScope(o), PermissionSets: []string{"ProjectManager"}}
			}
			what = fmt.Sprintf("policy %s for %v", pid, pr)
			s.CreatePolicy(ctx, iam.Policy{ID: pid, OrganizationID: o, Principal: pr, Rules: []iam.Rule{rule}}) // fails for a missing principal
		case 10:
			if rng.IntN(5) == 0 {
				what = "organization deleted and made again: " + o
				if err := s.DeleteOrganization(ctx, o); err != nil {
					t.Fatal(err)
				}
				setup(o)
			}
		case 11:
			// A WhoCan between writes fills the caches.
		}
		fresh, err := iam.NewEvaluator(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, oo := range orgs {
			for _, req := range reqs(oo) {
				got, gerr := ev.WhoCan(ctx, req)
				want, werr := fresh.WhoCan(ctx, req)
				if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
					fresh.Close()
					t.Fatalf("step %d (%s): WhoCan(%+v) = %v, %v; a rebuilt evaluator answers %v, %v", step, what, req, got, gerr, want, werr)
				}
			}
		}
		fresh.Close()
	}
}
