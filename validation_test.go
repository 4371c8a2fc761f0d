package iam_test

// Every limit and rule of docs/semantics.md, "Validation" (and the write
// rules of the cascades and the owner): each rejected write is asserted to
// change nothing, revision included, and to carry the right sentinels;
// ValidationErrors carry the field path.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// validationWorld holds two organizations with one of everything.
//
//	acme: owner acme-owner; projects acme (default), p1; user u1, u2;
//	      application a1; group team (u1, a1), group "Other team";
//	      policy pol (u1); sets AcmeSet, AcmeLeaf, AcmeTop (includes
//	      both); key k1 (u1)
//	beta: owner beta-owner; project bp1; user bu; application ba;
//	      group bg; set BetaSet
func validationWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.user(w.org, "u1")
	w.user(w.org, "u2")
	w.app(w.org, "a1", false)
	w.group(iam.Group{ID: "team", OrganizationID: w.org, Name: "Team", UserIDs: ids("u1"), ApplicationIDs: ids("a1")})
	w.group(iam.Group{ID: "other-team", OrganizationID: w.org, Name: "Other team"})
	w.set(iam.PermissionSet{Name: "AcmeSet", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"acme:thing:*"}})
	w.set(iam.PermissionSet{Name: "AcmeLeaf", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"acme:leaf:*"}})
	w.set(iam.PermissionSet{Name: "AcmeTop", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Includes: []string{"AcmeSet", "AcmeLeaf"}})
	w.policy(w.org, "pol", iam.UserPrincipal("u1"), onProjects(ids("p1"), "InstancesFullAccess", "AcmeSet"))
	w.key(iam.APIKey{AccessKey: "k1", OrganizationID: w.org, Bearer: iam.UserPrincipal("u1"), DefaultProjectID: "p1"})
	w.addOrg("beta", "beta-owner")
	w.project("beta", "bp1")
	w.user("beta", "bu")
	w.app("beta", "ba", false)
	w.group(iam.Group{ID: "bg", OrganizationID: "beta", Name: "Team"})
	w.set(iam.PermissionSet{Name: "BetaSet", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"beta:thing:*"}})
	return w
}

// rejected is one write that must fail and change nothing.
type rejected struct {
	name  string
	write func(ctx context.Context, s iam.Store) error
	is    []error // sentinels the error must match
	field string  // when set: errors.As reaches a *ValidationError with this Field
	// (every validation rule says where; conflicts with other entities
	// that are not a validation rule may be plain wrapped errors)
	msg []string
}

func runRejected(t *testing.T, cases []rejected) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := validationWorld(t)
			before := dumpStore(t, w.store)
			evRev := w.ev.Revision()
			err := tc.write(w.ctx, w.store)
			require.Error(t, err, "the write must be rejected")
			require.NotErrorIs(t, err, errSetup)
			require.True(t, strings.HasPrefix(err.Error(), "iam: "), "message starts with iam: (%q)", err)
			for _, s := range tc.is {
				require.ErrorIs(t, err, s)
			}
			if tc.field != "" {
				requireValidation(t, err, tc.field)
			}
			for _, m := range tc.msg {
				require.Contains(t, err.Error(), m)
			}
			requireUnchanged(t, w.store, before)
			require.Equal(t, evRev, w.ev.Revision(), "the evaluator saw no change")
		})
	}
}

func runes(r rune, n int) string { return strings.Repeat(string(r), n) }

func tagsN(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("tag-%d", i)
	}
	return out
}

// errSetup marks a failure of a case's own reads, before the write under
// test: runRejected fails on it rather than counting it as a rejection.
var errSetup = errors.New("test setup failed")

// updateUser reads a user, changes it and writes it back.
func updateUser(id string, change func(*iam.User)) func(ctx context.Context, s iam.Store) error {
	return func(ctx context.Context, s iam.Store) error {
		u, err := s.GetUser(ctx, id)
		if err != nil {
			return fmt.Errorf("%w: %w", errSetup, err)
		}
		change(&u)
		_, err = s.UpdateUser(ctx, u)
		return err
	}
}

// updatePolicy reads a policy, changes it and writes it back.
func updatePolicy(id string, change func(*iam.Policy)) func(ctx context.Context, s iam.Store) error {
	return func(ctx context.Context, s iam.Store) error {
		p, err := s.GetPolicy(ctx, id)
		if err != nil {
			return fmt.Errorf("%w: %w", errSetup, err)
		}
		change(&p)
		_, err = s.UpdatePolicy(ctx, p)
		return err
	}
}

func createPolicy(rules ...iam.Rule) func(ctx context.Context, s iam.Store) error {
	return func(ctx context.Context, s iam.Store) error {
		_, err := s.CreatePolicy(ctx, iam.Policy{ID: "new-pol", OrganizationID: "acme", Principal: iam.UserPrincipal("u2"), Rules: rules})
		return err
	}
}

func createPolicyFor(p iam.Principal) func(ctx context.Context, s iam.Store) error {
	return func(ctx context.Context, s iam.Store) error {
		_, err := s.CreatePolicy(ctx, iam.Policy{OrganizationID: "acme", Principal: p, Rules: []iam.Rule{onProjects(ids("p1"), "InstancesFullAccess")}})
		return err
	}
}

func TestValidationLimits(t *testing.T) {
	t.Parallel()
	long := runes('é', iam.MaxNameLength+1) // 256 runes, 512 bytes
	runRejected(t, []rejected{
		// Names: 1-255 runes.
		{"organization name empty", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateOrganization(ctx, iam.Organization{ID: "new", Name: ""})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"organization name 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateOrganization(ctx, iam.Organization{ID: "new", Name: long})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"organization rename to 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateOrganization(ctx, iam.Organization{ID: "acme", Name: long})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"project name empty", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "new", OrganizationID: "acme"})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"project name 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "new", OrganizationID: "acme", Name: long})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"project rename to 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: long})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"application name empty", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateApplication(ctx, iam.Application{ID: "new", OrganizationID: "acme"})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"application name 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateApplication(ctx, iam.Application{ID: "new", OrganizationID: "acme", Name: long})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"group name empty", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme"})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"group name 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: long})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"policy name 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePolicy(ctx, iam.Policy{ID: "new", OrganizationID: "acme", Name: long})
			return err
		}, []error{iam.ErrInvalid}, "name", nil},
		{"user name 256 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "new", OrganizationID: "acme", Email: "new@acme.test", Username: long})
			return err
		}, []error{iam.ErrInvalid}, "username", nil},
		// Descriptions: at most 200 runes.
		{"project description 201 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "new", OrganizationID: "acme", Name: "n", Description: runes('é', 201)})
			return err
		}, []error{iam.ErrInvalid}, "description", nil},
		{"application description 201 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateApplication(ctx, iam.Application{ID: "new", OrganizationID: "acme", Name: "n", Description: runes('x', 201)})
			return err
		}, []error{iam.ErrInvalid}, "description", nil},
		{"group description 201 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", Description: runes('é', 201)})
			return err
		}, []error{iam.ErrInvalid}, "description", nil},
		{"policy description 201 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePolicy(ctx, iam.Policy{ID: "new", OrganizationID: "acme", Description: runes('é', 201)})
			return err
		}, []error{iam.ErrInvalid}, "description", nil},
		{"API key description 201 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: "acme", Bearer: iam.UserPrincipal("u1"), Description: runes('é', 201)})
			return err
		}, []error{iam.ErrInvalid}, "description", nil},
		{"permission set description 201 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "NewSet", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z"}, Description: runes('é', 201)})
			return err
		}, []error{iam.ErrInvalid}, "description", nil},
		// Tags: at most 10, each 1-70 runes.
		{"user with 11 tags", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "new", OrganizationID: "acme", Email: "new@acme.test", Tags: tagsN(11)})
			return err
		}, []error{iam.ErrInvalid}, "tags", nil},
		{"application with 11 tags", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateApplication(ctx, iam.Application{ID: "new", OrganizationID: "acme", Name: "n", Tags: tagsN(11)})
			return err
		}, []error{iam.ErrInvalid}, "tags", nil},
		{"group with 11 tags", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", Tags: tagsN(11)})
			return err
		}, []error{iam.ErrInvalid}, "tags", nil},
		{"policy updated to 11 tags", updatePolicy("pol", func(p *iam.Policy) { p.Tags = tagsN(11) }), []error{iam.ErrInvalid}, "tags", nil},
		{"empty tag", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateApplication(ctx, iam.Application{ID: "new", OrganizationID: "acme", Name: "n", Tags: []string{""}})
			return err
		}, []error{iam.ErrInvalid}, "tags[0]", nil},
		{"tag of 71 runes", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", Tags: []string{"ok", runes('é', 71)}})
			return err
		}, []error{iam.ErrInvalid}, "tags[1]", nil},
		{"user updated with a tag of 71 runes", updateUser("u1", func(u *iam.User) { u.Tags = []string{runes('x', 71)} }), []error{iam.ErrInvalid}, "tags[0]", nil},
	})
}

// The limits are inclusive and counted in runes: writes at the limit with
// multi-byte characters succeed.
func TestValidationLimitsAtTheEdge(t *testing.T) {
	t.Parallel()
	w := validationWorld(t)
	name255, desc200, tag70 := runes('é', 255), runes('日', 200), runes('ü', 70)
	ten := tagsN(9)
	ten = append(ten, tag70)
	_, err := w.store.CreateOrganization(w.ctx, iam.Organization{ID: "edge", Name: name255})
	require.NoError(t, err)
	_, err = w.store.CreateProject(w.ctx, iam.Project{ID: "edge-p", OrganizationID: "acme", Name: name255, Description: desc200})
	require.NoError(t, err)
	_, err = w.store.CreateUser(w.ctx, iam.User{ID: "edge-u", OrganizationID: "acme", Email: "edge@acme.test", Username: name255, Tags: ten})
	require.NoError(t, err)
	_, err = w.store.CreateApplication(w.ctx, iam.Application{ID: "edge-a", OrganizationID: "acme", Name: name255, Description: desc200, Tags: ten})
	require.NoError(t, err)
	_, err = w.store.CreateGroup(w.ctx, iam.Group{ID: "edge-g", OrganizationID: "acme", Name: name255, Description: desc200, Tags: ten})
	require.NoError(t, err)
	_, err = w.store.CreatePolicy(w.ctx, iam.Policy{ID: "edge-pol", OrganizationID: "acme", Name: name255, Description: desc200, Tags: ten})
	require.NoError(t, err)
	_, err = w.store.CreateAPIKey(w.ctx, iam.APIKey{OrganizationID: "acme", Bearer: iam.UserPrincipal("edge-u"), Description: desc200})
	require.NoError(t, err)
	_, err = w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "EdgeSet", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z"}, Description: desc200})
	require.NoError(t, err)
	// A policy without a name (the seed example has none), and one
	// without rules or principal, are valid and grant nothing.
	_, err = w.store.CreatePolicy(w.ctx, iam.Policy{ID: "unnamed", OrganizationID: "acme", Principal: iam.UserPrincipal("u2"), Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerRead")}})
	require.NoError(t, err)
	_, err = w.store.CreatePolicy(w.ctx, iam.Policy{ID: "empty", OrganizationID: "acme"})
	require.NoError(t, err)
	// Group names are unique per organization only: beta has a "Team" too.
	g, err := w.store.GetGroup(w.ctx, "bg")
	require.NoError(t, err)
	require.Equal(t, "Team", g.Name)
}

func TestValidationGroupNames(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"create with a name taken in the organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "Team"})
			return err
		}, []error{iam.ErrConflict}, "name", []string{"Team"}},
		{"rename to a name taken in the organization", func(ctx context.Context, s iam.Store) error {
			g, err := s.GetGroup(ctx, "other-team")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			g.Name = "Team"
			_, err = s.UpdateGroup(ctx, g)
			return err
		}, []error{iam.ErrConflict}, "name", []string{"Team"}},
		{"all-users group listing users", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", AllUsers: true, UserIDs: ids("u1")})
			return err
		}, []error{iam.ErrInvalid}, "users", nil},
		{"unknown member", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", UserIDs: ids("u1", "ghost")})
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "users[1]", nil},
		{"application listed as a user", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", UserIDs: ids("a1")})
			return err
		}, []error{iam.ErrInvalid}, "users[0]", nil},
	})
}

func TestValidationRules(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"rule with no scope", createPolicy(iam.Rule{PermissionSets: []string{"InstancesFullAccess"}}),
			[]error{iam.ErrInvalid}, "rules[0]", nil},
		{"rule with both scopes", createPolicy(iam.Rule{Scope: iam.Scope{ProjectIDs: ids("p1"), OrganizationID: "acme"}, PermissionSets: []string{"InstancesFullAccess"}}),
			[]error{iam.ErrInvalid}, "rules[0]", nil},
		{"second rule with no scope", createPolicy(onProjects(ids("p1"), "InstancesFullAccess"), iam.Rule{PermissionSets: []string{"InstancesFullAccess"}}),
			[]error{iam.ErrInvalid}, "rules[1]", nil},
		{"rule with no permission set", createPolicy(onProjects(ids("p1"))),
			[]error{iam.ErrInvalid}, "rules[0].permission_sets", nil},
		{"organization rule with no permission set", createPolicy(onOrg("acme")),
			[]error{iam.ErrInvalid}, "rules[0].permission_sets", nil},
		{"mixed scope types", createPolicy(onOrg("acme", "InstancesFullAccess", "IAMManager")),
			[]error{iam.ErrInvalid, iam.ErrScopeMismatch}, "rules[0].permission_sets[1]", nil},
		{"mixed scope types, custom sets", createPolicy(onOrg("acme", "IAMManager", "AcmeSet")),
			[]error{iam.ErrInvalid, iam.ErrScopeMismatch}, "rules[0].permission_sets[1]", nil},
		{"organization set on projects", createPolicy(onProjects(ids("p1"), "IAMManager")),
			[]error{iam.ErrInvalid, iam.ErrScopeMismatch}, "rules[0].permission_sets[0]", nil},
		{"organization set on the default project", createPolicy(onProjects(ids("acme"), "BillingReadOnly")),
			[]error{iam.ErrInvalid, iam.ErrScopeMismatch}, "rules[0].permission_sets[0]", nil},
		{"unknown set, with a suggestion", createPolicy(onProjects(ids("p1"), "InstanceFullAccess")),
			[]error{iam.ErrInvalid, iam.ErrUnknownPermission}, "rules[0].permission_sets[0]", []string{"InstanceFullAccess", "did you mean InstancesFullAccess"}},
		{"unknown set in a later position", createPolicy(onProjects(ids("p1"), "InstancesFullAccess", "NoSuchSetAtAll")),
			[]error{iam.ErrInvalid, iam.ErrUnknownPermission}, "rules[0].permission_sets[1]", []string{"NoSuchSetAtAll"}},
		{"custom set name misspelled", createPolicy(onProjects(ids("p1"), "AcmeSte")),
			[]error{iam.ErrInvalid, iam.ErrUnknownPermission}, "rules[0].permission_sets[0]", []string{"did you mean AcmeSet"}},
		{"a triple instead of a set", createPolicy(onProjects(ids("p1"), "instance:server:create")),
			[]error{iam.ErrInvalid, iam.ErrUnknownPermission}, "rules[0].permission_sets[0]", nil},
		{"unknown project", createPolicy(onProjects(ids("p1", "ghost"), "InstancesFullAccess")),
			[]error{iam.ErrInvalid, iam.ErrNotFound}, "rules[0].projects[1]", []string{"ghost"}},
		{"a user's ID as project", createPolicy(onProjects(ids("u1"), "InstancesFullAccess")),
			[]error{iam.ErrInvalid}, "rules[0].projects[0]", nil},
		{"condition without a condition engine", createPolicy(onProjects(ids("p1"), "InstancesFullAccess"), iam.Rule{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"BillingReadOnly"}, Condition: "request.ip == '203.0.113.7'"}),
			[]error{iam.ErrInvalid}, "rules[1].condition", []string{"rules[1]", "WithConditions"}},
		{"update adding a bad rule", updatePolicy("pol", func(p *iam.Policy) { p.Rules = append(p.Rules, onProjects(ids("p1"), "BillingReadOnly")) }), []error{iam.ErrInvalid, iam.ErrScopeMismatch}, "rules[1].permission_sets[0]", nil},
	})
}

func TestValidationPrincipals(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"principal ID without a kind", createPolicyFor(iam.Principal{ID: "u1"}), []error{iam.ErrInvalid}, "principal", nil},
		{"API key as a policy principal", createPolicyFor(iam.APIKeyPrincipal("k1")), []error{iam.ErrInvalid}, "principal", nil},
		{"unknown principal kind", createPolicyFor(iam.Principal{Type: 42, ID: "u1"}), []error{iam.ErrInvalid}, "principal", nil},
		{"unknown user", createPolicyFor(iam.UserPrincipal("ghost")), []error{iam.ErrInvalid, iam.ErrNotFound}, "user", nil},
		{"unknown application", createPolicyFor(iam.ApplicationPrincipal("ghost")), []error{iam.ErrInvalid, iam.ErrNotFound}, "application", nil},
		{"unknown group", createPolicyFor(iam.GroupPrincipal("ghost")), []error{iam.ErrInvalid, iam.ErrNotFound}, "group", nil},
		{"a user's ID as application", createPolicyFor(iam.ApplicationPrincipal("u1")), []error{iam.ErrInvalid}, "application", nil},
		{"a group's ID as user", createPolicyFor(iam.UserPrincipal("team")), []error{iam.ErrInvalid}, "user", nil},
		{"user of a misspelled ID, with a suggestion", createPolicyFor(iam.UserPrincipal("u3")), []error{iam.ErrInvalid, iam.ErrNotFound}, "user", []string{"did you mean"}},
	})
}

func TestValidationOrganizationBoundary(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		// Another organization's entity is answered as one that does not
		// exist (ErrNotFound), naming neither that organization nor the kind.
		{"policy for another organization's user", createPolicyFor(iam.UserPrincipal("bu")), []error{iam.ErrInvalid, iam.ErrNotFound}, "user", []string{`no user "bu" in organization "acme"`}},
		{"policy for another organization's application", createPolicyFor(iam.ApplicationPrincipal("ba")), []error{iam.ErrInvalid, iam.ErrNotFound}, "application", nil},
		{"policy for another organization's group", createPolicyFor(iam.GroupPrincipal("bg")), []error{iam.ErrInvalid, iam.ErrNotFound}, "group", nil},
		{"rule on another organization's project", createPolicy(onProjects(ids("p1", "bp1"), "InstancesFullAccess")), []error{iam.ErrInvalid, iam.ErrNotFound}, "rules[0].projects[1]", []string{"bp1"}},
		{"rule on another organization's default project", createPolicy(onProjects(ids("beta"), "InstancesFullAccess")), []error{iam.ErrInvalid, iam.ErrNotFound}, "rules[0].projects[0]", nil},
		{"rule on another organization", createPolicy(onOrg("beta", "InstancesFullAccess")), []error{iam.ErrInvalid}, "rules[0].organization", nil},
		{"rule using another organization's set", createPolicy(onProjects(ids("p1"), "BetaSet")), []error{iam.ErrInvalid, iam.ErrUnknownPermission}, "rules[0].permission_sets[0]", nil},
		{"group with another organization's user", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", UserIDs: ids("u1", "bu")})
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "users[1]", nil},
		{"group with another organization's application", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "new", OrganizationID: "acme", Name: "n", ApplicationIDs: ids("ba")})
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "applications[0]", nil},
		{"group updated with another organization's user", func(ctx context.Context, s iam.Store) error {
			g, err := s.GetGroup(ctx, "team")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			g.UserIDs = append(g.UserIDs, "beta-owner")
			_, err = s.UpdateGroup(ctx, g)
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "users[1]", nil},
		{"API key for another organization's user", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: "acme", Bearer: iam.UserPrincipal("bu")})
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "user", nil},
		{"API key for another organization's application", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: "acme", Bearer: iam.ApplicationPrincipal("ba")})
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "application", nil},
		{"API key with another organization's default project", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: "acme", Bearer: iam.UserPrincipal("u1"), DefaultProjectID: "bp1"})
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "default_project_id", nil},
		{"API key for a group", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{OrganizationID: "acme", Bearer: iam.GroupPrincipal("team")})
			return err
		}, []error{iam.ErrInvalid}, "bearer", nil},
		{"permission set including another organization's set", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "NewSet", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Includes: []string{"BetaSet"}})
			return err
		}, []error{iam.ErrInvalid, iam.ErrUnknownPermission}, "includes[0]", nil},
		{"entity in an unknown organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "new", OrganizationID: "ghost", Name: "n"})
			return err
		}, []error{iam.ErrInvalid, iam.ErrNotFound}, "organization_id", nil},
	})
}

func TestValidationOwnershipAndDefaults(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"second owner created", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "new", OrganizationID: "acme", Email: "new@acme.test", Type: iam.UserOwner})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"member promoted while an owner exists", updateUser("u1", func(u *iam.User) { u.Type = iam.UserOwner }), []error{iam.ErrConflict}, "", nil},
		{"deleting the owner", func(ctx context.Context, s iam.Store) error {
			return s.DeleteUser(ctx, "acme-owner")
		}, []error{iam.ErrForbidden}, "", nil},
		{"locking the owner", updateUser("acme-owner", func(u *iam.User) { u.Locked = true }), []error{iam.ErrForbidden}, "", nil},
		{"demoting the owner alone", updateUser("acme-owner", func(u *iam.User) { u.Type = iam.UserMember }), []error{iam.ErrForbidden}, "", nil},
		{"deleting the default project", func(ctx context.Context, s iam.Store) error {
			return s.DeleteProject(ctx, "acme")
		}, []error{iam.ErrForbidden}, "", nil},
		{"unknown user type", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "new", OrganizationID: "acme", Email: "new@acme.test", Type: "admin"})
			return err
		}, []error{iam.ErrInvalid}, "type", nil},
		{"user without an email", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "new", OrganizationID: "acme"})
			return err
		}, []error{iam.ErrInvalid}, "email", nil},
		{"email used twice in an organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "new", OrganizationID: "acme", Email: "u1@acme.test"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"email changed to another user's", updateUser("u2", func(u *iam.User) { u.Email = "U1@acme.test" }), []error{iam.ErrConflict}, "", nil},
	})
}

func TestValidationIDs(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"organization that exists", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateOrganization(ctx, iam.Organization{ID: "beta", Name: "again"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"organization with a project's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateOrganization(ctx, iam.Organization{ID: "p1", Name: "n"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"organization with a user's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateOrganization(ctx, iam.Organization{ID: "u1", Name: "n"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"project that exists", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "n"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"project with a user's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "u1", OrganizationID: "acme", Name: "n"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"project with another organization's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "beta", OrganizationID: "acme", Name: "n"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"user with an application's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "a1", OrganizationID: "acme", Email: "n@acme.test"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"user with another organization's user's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateUser(ctx, iam.User{ID: "bu", OrganizationID: "acme", Email: "n@acme.test"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"application with a group's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateApplication(ctx, iam.Application{ID: "team", OrganizationID: "acme", Name: "n"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"group with a policy's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "pol", OrganizationID: "acme", Name: "n"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"policy with a key's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePolicy(ctx, iam.Policy{ID: "k1", OrganizationID: "acme"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"policy that exists", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePolicy(ctx, iam.Policy{ID: "pol", OrganizationID: "acme"})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"key with a project's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{AccessKey: "p1", OrganizationID: "acme", Bearer: iam.UserPrincipal("u1")})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"key that exists", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{AccessKey: "k1", OrganizationID: "acme", Bearer: iam.UserPrincipal("u1")})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"ID with a space", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "a b", OrganizationID: "acme", Name: "n"})
			return err
		}, []error{iam.ErrInvalid}, "id", nil},
		{"permission set named like a catalogue set", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "InstancesFullAccess", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z"}})
			return err
		}, []error{iam.ErrConflict}, "", nil},
		{"permission set that exists", func(ctx context.Context, s iam.Store) error {
			_, err := s.CreatePermissionSet(ctx, iam.PermissionSet{Name: "AcmeSet", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z"}})
			return err
		}, []error{iam.ErrConflict}, "", nil},
	})
}

func TestValidationImmutableFields(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"project moved to another organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateProject(ctx, iam.Project{ID: "p1", OrganizationID: "beta", Name: "n"})
			return err
		}, []error{iam.ErrInvalid}, "organization_id", nil},
		{"user moved to another organization", updateUser("u1", func(u *iam.User) { u.OrganizationID = "beta" }), []error{iam.ErrInvalid}, "organization_id", nil},
		{"application moved to another organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateApplication(ctx, iam.Application{ID: "a1", OrganizationID: "beta", Name: "n"})
			return err
		}, []error{iam.ErrInvalid}, "organization_id", nil},
		{"group moved to another organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateGroup(ctx, iam.Group{ID: "other-team", OrganizationID: "beta", Name: "n"})
			return err
		}, []error{iam.ErrInvalid}, "organization_id", nil},
		{"policy moved to another organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdatePolicy(ctx, iam.Policy{ID: "pol", OrganizationID: "beta"})
			return err
		}, []error{iam.ErrInvalid}, "organization_id", nil},
		{"key moved to another organization", func(ctx context.Context, s iam.Store) error {
			k, err := s.GetAPIKey(ctx, "k1")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			k.OrganizationID = "beta"
			_, err = s.UpdateAPIKey(ctx, k)
			return err
		}, []error{iam.ErrInvalid}, "organization_id", nil},
		{"key given to another bearer", func(ctx context.Context, s iam.Store) error {
			k, err := s.GetAPIKey(ctx, "k1")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			k.Bearer = iam.UserPrincipal("u2")
			_, err = s.UpdateAPIKey(ctx, k)
			return err
		}, []error{iam.ErrInvalid}, "bearer", nil},
		{"key's secret changed", func(ctx context.Context, s iam.Store) error {
			k, err := s.GetAPIKey(ctx, "k1")
			if err != nil {
				return fmt.Errorf("%w: %w", errSetup, err)
			}
			k.Secret = "new secret"
			_, err = s.UpdateAPIKey(ctx, k)
			return err
		}, []error{iam.ErrInvalid}, "secret", nil},
		{"catalogue set updated", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "InstancesFullAccess", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z"}})
			return err
		}, []error{iam.ErrForbidden}, "", nil},
		{"catalogue set deleted", func(ctx context.Context, s iam.Store) error {
			return s.DeletePermissionSet(ctx, "", "InstancesFullAccess")
		}, []error{iam.ErrForbidden}, "", nil},
	})
}

func TestValidationPermissionSets(t *testing.T) {
	t.Parallel()
	set := func(ps iam.PermissionSet) func(ctx context.Context, s iam.Store) error {
		return func(ctx context.Context, s iam.Store) error {
			ps.OrganizationID = "acme"
			_, err := s.CreatePermissionSet(ctx, ps)
			return err
		}
	}
	runRejected(t, []rejected{
		{"pattern with two segments", set(iam.PermissionSet{Name: "NewSet", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y"}}), []error{iam.ErrInvalid}, "permissions[0]", nil},
		{"pattern with a partial star", set(iam.PermissionSet{Name: "NewSet", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z", "inst*:server:read"}}), []error{iam.ErrInvalid}, "permissions[1]", nil},
		{"no scope type", set(iam.PermissionSet{Name: "NewSet", Permissions: []string{"x:y:z"}}), []error{iam.ErrInvalid}, "scope_type", nil},
		{"no permissions and no includes", set(iam.PermissionSet{Name: "NewSet", ScopeType: iam.ScopeProjects}), []error{iam.ErrInvalid}, "permissions", nil},
		{"name shaped as a triple", set(iam.PermissionSet{Name: "a:b:c", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z"}}), []error{iam.ErrInvalid}, "name", nil},
		{"unknown include, with a suggestion", set(iam.PermissionSet{Name: "NewSet", ScopeType: iam.ScopeProjects, Includes: []string{"InstanceFullAccess"}}), []error{iam.ErrInvalid, iam.ErrUnknownPermission}, "includes[0]", []string{"did you mean InstancesFullAccess"}},
		{"include of another scope type", set(iam.PermissionSet{Name: "NewSet", ScopeType: iam.ScopeProjects, Includes: []string{"IAMManager"}}), []error{iam.ErrInvalid, iam.ErrScopeMismatch}, "includes[0]", nil},
		{"include cycle", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "AcmeSet", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Includes: []string{"AcmeTop"}})
			return err
		}, []error{iam.ErrInvalid}, "includes", nil},
		{"deleting a set a rule uses", func(ctx context.Context, s iam.Store) error {
			return s.DeletePermissionSet(ctx, "acme", "AcmeSet")
		}, []error{iam.ErrConflict}, "", nil},
		{"deleting a set another includes", func(ctx context.Context, s iam.Store) error {
			return s.DeletePermissionSet(ctx, "acme", "AcmeLeaf")
		}, []error{iam.ErrConflict}, "", nil},
		{"changing the scope type of a used set", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "AcmeSet", OrganizationID: "acme", ScopeType: iam.ScopeOrganization, Permissions: []string{"acme:thing:*"}})
			return err
		}, []error{iam.ErrConflict}, "", nil},
	})
}

func TestValidationNotFound(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"update unknown organization", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateOrganization(ctx, iam.Organization{ID: "ghost", Name: "n"})
			return err
		}, []error{iam.ErrNotFound}, "", nil},
		{"update unknown project", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateProject(ctx, iam.Project{ID: "ghost", OrganizationID: "acme", Name: "n"})
			return err
		}, []error{iam.ErrNotFound}, "", nil},
		{"update unknown user", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateUser(ctx, iam.User{ID: "ghost", OrganizationID: "acme", Email: "g@acme.test"})
			return err
		}, []error{iam.ErrNotFound}, "", nil},
		{"update a user with an application's ID", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdateUser(ctx, iam.User{ID: "a1", OrganizationID: "acme", Email: "g@acme.test"})
			return err
		}, []error{iam.ErrNotFound}, "", nil},
		{"update unknown policy", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdatePolicy(ctx, iam.Policy{ID: "ghost", OrganizationID: "acme"})
			return err
		}, []error{iam.ErrNotFound}, "", nil},
		{"update unknown permission set", func(ctx context.Context, s iam.Store) error {
			_, err := s.UpdatePermissionSet(ctx, iam.PermissionSet{Name: "Ghost", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"x:y:z"}})
			return err
		}, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown organization", func(ctx context.Context, s iam.Store) error { return s.DeleteOrganization(ctx, "ghost") }, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown project", func(ctx context.Context, s iam.Store) error { return s.DeleteProject(ctx, "ghost") }, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown user", func(ctx context.Context, s iam.Store) error { return s.DeleteUser(ctx, "ghost") }, []error{iam.ErrNotFound}, "", nil},
		{"delete a user by a group's ID", func(ctx context.Context, s iam.Store) error { return s.DeleteUser(ctx, "team") }, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown application", func(ctx context.Context, s iam.Store) error { return s.DeleteApplication(ctx, "ghost") }, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown group", func(ctx context.Context, s iam.Store) error { return s.DeleteGroup(ctx, "ghost") }, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown policy", func(ctx context.Context, s iam.Store) error { return s.DeletePolicy(ctx, "ghost") }, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown key", func(ctx context.Context, s iam.Store) error { return s.DeleteAPIKey(ctx, "ghost") }, []error{iam.ErrNotFound}, "", nil},
		{"delete unknown permission set", func(ctx context.Context, s iam.Store) error { return s.DeletePermissionSet(ctx, "acme", "Ghost") }, []error{iam.ErrNotFound}, "", nil},
	})
}

// An Atomic write holding one invalid write among valid ones changes
// nothing at all.
func TestValidationAtomicAllOrNothing(t *testing.T) {
	t.Parallel()
	runRejected(t, []rejected{
		{"valid writes then an invalid one", func(ctx context.Context, s iam.Store) error {
			return s.Atomic(ctx, func(tx iam.Tx) error {
				if _, err := tx.CreateProject(ctx, iam.Project{ID: "new-p", OrganizationID: "acme", Name: "n"}); err != nil {
					return err
				}
				if err := tx.DeleteUser(ctx, "u1"); err != nil {
					return err
				}
				if err := tx.DeleteProject(ctx, "p1"); err != nil {
					return err
				}
				if _, err := tx.CreatePolicy(ctx, iam.Policy{OrganizationID: "acme", Principal: iam.UserPrincipal("u2"), Rules: []iam.Rule{onProjects(ids("new-p"), "IAMManager")}}); err != nil {
					return err
				}
				return nil
			})
		}, []error{iam.ErrInvalid, iam.ErrScopeMismatch}, "rules[0].permission_sets[0]", nil},
		{"delete an organization, then fail", func(ctx context.Context, s iam.Store) error {
			return s.Atomic(ctx, func(tx iam.Tx) error {
				if err := tx.DeleteOrganization(ctx, "beta"); err != nil {
					return err
				}
				_, err := tx.CreateUser(ctx, iam.User{ID: "x", OrganizationID: "acme", Email: "x@acme.test", Type: iam.UserOwner})
				return err
			})
		}, []error{iam.ErrConflict}, "", nil},
	})
}
