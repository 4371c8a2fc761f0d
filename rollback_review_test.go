package iam_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/testkit"
)

// A store that saw random transactions, some of them failed at their end
// (organizations deleted, made again under their ID or made anew, with
// entities of every kind inside), holds what a store that saw only the
// transactions that committed holds: a failed one leaves no entity, no
// claimed ID, no email, group name or owner behind, whatever later writes
// then do.
func TestFailedTransactionsLeaveNoTrace(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	s, ref := iam.NewMemoryStore(), iam.NewMemoryStore()
	errStop := errors.New("stop")
	type op func(tx iam.Tx)
	orgs := []string{"o1", "o2", "o3"}
	gen := func() op {
		o := orgs[rng.IntN(len(orgs))]
		i := rng.IntN(5)
		uid, aid, gid, pid := fmt.Sprintf("u%d", i), fmt.Sprintf("a%d", i), fmt.Sprintf("g%d", i), fmt.Sprintf("pol%d", i)
		proj := o + "-p"
		tag := []string{fmt.Sprint("t", rng.IntN(3))}
		switch rng.IntN(12) {
		case 0:
			return func(tx iam.Tx) {
				tx.CreateOrganization(ctx, iam.Organization{ID: o, Name: o})
				tx.CreateUser(ctx, iam.User{ID: o + "-own", OrganizationID: o, Email: "own@" + o, Type: iam.UserOwner})
				tx.CreateProject(ctx, iam.Project{ID: proj, OrganizationID: o, Name: "p"})
			}
		case 1:
			return func(tx iam.Tx) { tx.DeleteOrganization(ctx, o) }
		case 2:
			email := fmt.Sprintf("e%d@x", rng.IntN(3))
			return func(tx iam.Tx) {
				tx.CreateUser(ctx, iam.User{ID: uid, OrganizationID: o, Email: email, Tags: tag})
			}
		case 3:
			return func(tx iam.Tx) { tx.DeleteUser(ctx, uid) }
		case 4:
			managed := rng.IntN(2) == 0
			return func(tx iam.Tx) {
				tx.CreateApplication(ctx, iam.Application{ID: aid, OrganizationID: o, Name: aid, Managed: managed})
			}
		case 5:
			name := fmt.Sprint("G", rng.IntN(2))
			return func(tx iam.Tx) {
				tx.CreateGroup(ctx, iam.Group{ID: gid, OrganizationID: o, Name: name, UserIDs: []string{uid}, Tags: tag})
			}
		case 6:
			return func(tx iam.Tx) { tx.DeleteGroup(ctx, gid) }
		case 7, 8:
			pr := iam.UserPrincipal(uid)
			if rng.IntN(2) == 0 {
				pr = iam.GroupPrincipal(gid)
			}
			return func(tx iam.Tx) {
				tx.CreatePolicy(ctx, iam.Policy{ID: pid, OrganizationID: o, Principal: pr, Tags: tag, Rules: []iam.Rule{
					{Scope: iam.ProjectsScope(proj), PermissionSets: []string{"InstancesReadOnly"}},
				}})
			}
		case 9:
			return func(tx iam.Tx) {
				if p, err := tx.GetPolicy(ctx, pid); err == nil {
					p.Rules = append(p.Rules, iam.Rule{Scope: iam.OrganizationScope(p.OrganizationID), PermissionSets: []string{"ProjectManager"}})
					p.Tags = append(p.Tags, "more")
					tx.UpdatePolicy(ctx, p)
				}
			}
		case 10:
			return func(tx iam.Tx) { tx.DeleteProject(ctx, proj) }
		default:
			return func(tx iam.Tx) {
				if u, err := tx.GetUser(ctx, uid); err == nil {
					u.Type = iam.UserOwner
					tx.UpdateUser(ctx, u)
				}
			}
		}
	}
	for round := range 400 {
		ops := make([]op, 1+rng.IntN(6))
		for i := range ops {
			ops[i] = gen()
		}
		fail := rng.IntN(2) == 0
		run := func(st *iam.MemoryStore, fail bool) error {
			return st.Atomic(ctx, func(tx iam.Tx) error {
				for _, o := range ops {
					o(tx)
				}
				if fail {
					return errStop
				}
				return nil
			})
		}
		err := run(s, fail)
		if fail {
			if !errors.Is(err, errStop) {
				t.Fatalf("round %d: got %v", round, err)
			}
			continue
		}
		rerr := run(ref, false)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("round %d: the store says %v, the store that saw no failed transaction %v", round, err, rerr)
		}
		a, b := testkit.Dump(t, s), testkit.Dump(t, ref)
		if d := testkit.DiffContents(b, a); d != "" {
			t.Fatalf("round %d: %s", round, d)
		}
	}
	// The logs of changes agree too, the policies they hold included.
	a, aerr := s.Changes(ctx, 0)
	b, berr := ref.Changes(ctx, 0)
	if aerr != nil || berr != nil || len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("the logs of changes differ (%d and %d changes; %v, %v)", len(a), len(b), aerr, berr)
	}
}
