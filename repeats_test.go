package iam_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// A list of names or patterns holds each entry once: a repeated include,
// pattern, permission set or project is a slip (a bad merge, a copy and
// paste), never a meaning, so it is refused where it is written rather
// than stored and shown back.
func TestNoListHoldsAnEntryTwice(t *testing.T) {
	t.Parallel()
	updateSet := func(change func(*iam.PermissionSet)) func(ctx context.Context, s iam.Store) error {
		return func(ctx context.Context, s iam.Store) error {
			ps, err := s.GetPermissionSet(ctx, "acme", "AcmeTop")
			if err != nil {
				return err
			}
			change(&ps)
			_, err = s.UpdatePermissionSet(ctx, ps)
			return err
		}
	}
	runRejected(t, []rejected{
		{
			name:  "include",
			write: updateSet(func(ps *iam.PermissionSet) { ps.Includes = ids("AcmeSet", "AcmeLeaf", "AcmeSet") }),
			is:    []error{iam.ErrInvalid}, field: "includes[2]",
			msg: []string{"AcmeSet", "includes[0]", "twice"},
		},
		{
			name: "include of a new set",
			write: func(ctx context.Context, s iam.Store) error {
				_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "AcmeNew", OrganizationID: "acme", ScopeType: iam.ScopeProjects,
					Includes: ids("InstancesFullAccess", "InstancesFullAccess")})
				return err
			},
			is: []error{iam.ErrInvalid}, field: "includes[1]",
		},
		{
			name:  "permission pattern",
			write: updateSet(func(ps *iam.PermissionSet) { ps.Permissions = []string{"acme:top:read", "acme:top:*", "acme:top:read"} }),
			is:    []error{iam.ErrInvalid}, field: "permissions[2]",
			msg: []string{"acme:top:read", "permissions[0]", "twice"},
		},
		{
			name:  "permission set of a rule",
			write: createPolicy(onProjects(ids("p1"), "InstancesFullAccess", "AcmeSet", "InstancesFullAccess")),
			is:    []error{iam.ErrInvalid}, field: "rules[0].permission_sets[2]",
			msg: []string{"InstancesFullAccess", "permission_sets[0]", "twice"},
		},
		{
			name:  "project of a rule",
			write: createPolicy(onOrg("acme", "InstancesFullAccess"), onProjects(ids("p1", "acme", "p1"), "AcmeSet")),
			is:    []error{iam.ErrInvalid}, field: "rules[1].projects[2]",
			msg: []string{`"p1"`, "projects[0]", "twice"},
		},
	})
}

// The same set in two rules, or the same pattern in two sets, is no
// repetition: only one list holding an entry twice is.
func TestEntriesMayRepeatAcrossLists(t *testing.T) {
	t.Parallel()
	w := validationWorld(t)
	_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "two-rules", OrganizationID: "acme", Principal: iam.UserPrincipal("u2"),
		Rules: []iam.Rule{onProjects(ids("p1"), "AcmeSet"), onProjects(ids("acme"), "AcmeSet"), onProjects(ids("p1"), "AcmeLeaf")}})
	require.NoError(t, err)
	w.set(iam.PermissionSet{Name: "AcmeTwin", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"acme:thing:*"}, Includes: ids("AcmeSet")})
}
