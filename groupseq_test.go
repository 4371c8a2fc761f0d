package iam

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// groupSeqWorld is organization acme (owner o) with project p, users u
// and v, and an Evaluator; group keep (u) holds InstancesFullAccess in p.
func groupSeqWorld(t *testing.T) (*MemoryStore, *Evaluator) {
	t.Helper()
	ctx := context.Background()
	s := NewMemoryStore()
	err := s.Atomic(ctx, func(tx Tx) error {
		steps := []func() error{
			func() error { _, err := tx.CreateOrganization(ctx, Organization{ID: "acme", Name: "Acme"}); return err },
			func() error {
				_, err := tx.CreateUser(ctx, User{ID: "o", OrganizationID: "acme", Email: "o@acme.test", Type: UserOwner})
				return err
			},
			func() error {
				_, err := tx.CreateProject(ctx, Project{ID: "p", OrganizationID: "acme", Name: "p"})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, User{ID: "u", OrganizationID: "acme", Email: "u@acme.test"})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, User{ID: "v", OrganizationID: "acme", Email: "v@acme.test"})
				return err
			},
			func() error {
				_, err := tx.CreateGroup(ctx, Group{ID: "keep", OrganizationID: "acme", Name: "keep", UserIDs: []string{"u"}})
				return err
			},
			func() error {
				_, err := tx.CreatePolicy(ctx, Policy{ID: "keep-pol", OrganizationID: "acme", Principal: GroupPrincipal("keep"),
					Rules: []Rule{{Scope: ProjectsScope("p"), PermissionSets: []string{"InstancesFullAccess"}}}})
				return err
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	ev, err := NewEvaluator(ctx, s)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })
	return s, ev
}

func groupSeqAllowed(t *testing.T, ev *Evaluator, s *snapshot, p Principal, set string) bool {
	t.Helper()
	dec, err := ev.check(s, &Request{Principal: p, ProjectID: "p", Permission: set})
	require.NoError(t, err)
	return dec.Allowed
}

// createGrantingGroup creates group id with members and a policy giving it
// set in p, in one write.
func createGrantingGroup(ctx context.Context, s *MemoryStore, id string, g Group, set string) error {
	return s.Atomic(ctx, func(tx Tx) error {
		g.ID, g.OrganizationID, g.Name = id, "acme", id
		if _, err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		_, err := tx.CreatePolicy(ctx, Policy{ID: id + "-pol", OrganizationID: "acme", Principal: GroupPrincipal(id),
			Rules: []Rule{{Scope: ProjectsScope("p"), PermissionSets: []string{set}}}})
		return err
	})
}

// Group churn does not grow the index: the sequence numbers of deleted
// groups are used again, so 10,000 create/delete cycles leave a table of
// two groups, and every check along the way is right.
func TestGroupChurnDoesNotGrowTheIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ev := groupSeqWorld(t)
	const cycles = 10_000
	for i := range cycles {
		id := fmt.Sprintf("g-%d", i)
		member, other := "u", "v"
		if i%2 == 1 {
			member, other = other, member
		}
		require.NoError(t, createGrantingGroup(ctx, s, id, Group{UserIDs: []string{member}}, "ObjectStorageFullAccess"))
		snap := ev.snap.Load()
		require.True(t, groupSeqAllowed(t, ev, snap, UserPrincipal(member), "ObjectStorageFullAccess"), "cycle %d: the member", i)
		require.False(t, groupSeqAllowed(t, ev, snap, UserPrincipal(other), "ObjectStorageFullAccess"), "cycle %d: the other user", i)
		require.NoError(t, s.Atomic(ctx, func(tx Tx) error {
			if err := tx.DeletePolicy(ctx, id+"-pol"); err != nil {
				return err
			}
			return tx.DeleteGroup(ctx, id)
		}))
		snap = ev.snap.Load()
		require.False(t, groupSeqAllowed(t, ev, snap, UserPrincipal(member), "ObjectStorageFullAccess"), "cycle %d: after the delete", i)
		require.True(t, groupSeqAllowed(t, ev, snap, UserPrincipal("u"), "InstancesFullAccess"), "cycle %d: the lasting group", i)
	}
	idx, ok := ev.snap.Load().orgs.Get("acme")
	require.True(t, ok)
	require.LessOrEqual(t, len(idx.groups), 2, "group table after %d cycles", cycles)
	require.LessOrEqual(t, len(idx.groupIDs), 2)
	require.LessOrEqual(t, ev.mirror.orgs["acme"].nextGroup, int32(2))
}

// A sequence number used again never carries the grants, the members or
// the special-group role of the group that had it, in the new snapshot,
// while readers of the old one keep a consistent view.
func TestReusedGroupSequenceNumberCarriesNothingStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, ev := groupSeqWorld(t)
	require.NoError(t, createGrantingGroup(ctx, s, "a", Group{UserIDs: []string{"u"}}, "ObjectStorageFullAccess"))
	require.NoError(t, createGrantingGroup(ctx, s, "everyone", Group{AllUsers: true}, "ContainersFullAccess"))
	mo := ev.mirror.orgs["acme"]
	seqA, seqAll := mo.groupSeq["a"], mo.groupSeq["everyone"]
	old := ev.snap.Load()
	require.True(t, groupSeqAllowed(t, ev, old, UserPrincipal("u"), "ObjectStorageFullAccess"))
	require.True(t, groupSeqAllowed(t, ev, old, UserPrincipal("v"), "ContainersFullAccess"))

	// Delete both groups (their policies stay, without a principal), then
	// create groups that take their numbers: b lists v, c lists nobody.
	require.NoError(t, s.Atomic(ctx, func(tx Tx) error {
		if err := tx.DeleteGroup(ctx, "a"); err != nil {
			return err
		}
		return tx.DeleteGroup(ctx, "everyone")
	}))
	_, err := s.CreateGroup(ctx, Group{ID: "b", OrganizationID: "acme", Name: "b", UserIDs: []string{"v"}})
	require.NoError(t, err)
	_, err = s.CreateGroup(ctx, Group{ID: "c", OrganizationID: "acme", Name: "c"})
	require.NoError(t, err)
	require.ElementsMatch(t, []int32{seqA, seqAll}, []int32{mo.groupSeq["b"], mo.groupSeq["c"]}, "the freed numbers are used again")

	cur := ev.snap.Load()
	for _, p := range []Principal{UserPrincipal("u"), UserPrincipal("v"), GroupPrincipal("b"), GroupPrincipal("c")} {
		for _, set := range []string{"ObjectStorageFullAccess", "ContainersFullAccess"} {
			require.False(t, groupSeqAllowed(t, ev, cur, p, set), "%v %s", p, set)
		}
	}
	require.True(t, groupSeqAllowed(t, ev, cur, UserPrincipal("u"), "InstancesFullAccess"))
	exp, err := ev.Explain(ctx, Request{Principal: UserPrincipal("v"), ProjectID: "p", Permission: "ObjectStorageFullAccess"})
	require.NoError(t, err)
	require.False(t, exp.Decision.Allowed)
	require.Empty(t, exp.Grants)

	// The old snapshot still answers as it did.
	require.True(t, groupSeqAllowed(t, ev, old, UserPrincipal("u"), "ObjectStorageFullAccess"))
	require.False(t, groupSeqAllowed(t, ev, old, UserPrincipal("v"), "ObjectStorageFullAccess"))
	require.True(t, groupSeqAllowed(t, ev, old, UserPrincipal("v"), "ContainersFullAccess"))

	// Delete and create in one write: the new group gets a number that no
	// group of the previous snapshot had, and nothing leaks either way.
	require.NoError(t, s.Atomic(ctx, func(tx Tx) error {
		if err := tx.DeleteGroup(ctx, "b"); err != nil {
			return err
		}
		_, err := tx.CreateGroup(ctx, Group{ID: "d", OrganizationID: "acme", Name: "d", UserIDs: []string{"u"}})
		return err
	}))
	require.NotEqual(t, mo.groupSeq["d"], seqA)
	require.NotEqual(t, mo.groupSeq["d"], seqAll)
	cur = ev.snap.Load()
	require.False(t, groupSeqAllowed(t, ev, cur, UserPrincipal("u"), "ObjectStorageFullAccess"))
	require.True(t, groupSeqAllowed(t, ev, cur, UserPrincipal("u"), "InstancesFullAccess"))
}
