package iamtest

import (
	"strings"

	"github.com/iamkit/iam"
)

var validationCases = []storeCase{
	{"AnInvalidWriteChangesNothing", testInvalidWrites},
	{"EveryIDIsUniqueAcrossTheStore", testUniqueIDs},
}

// rejection is a write that the store must refuse: with an error matching
// want and, when invalid, a *iam.ValidationError on field (any field when
// "").
type rejection struct {
	name    string
	want    error
	invalid bool
	field   string
	write   func(w *world) error
}

// rejectAll makes each write, asserts that it is refused as it says, and
// that it changed nothing (content, revision, change feed).
func (w *world) rejectAll(rs []rejection) {
	w.Helper()
	var told []iam.Change
	cancel := w.store.Subscribe(func(c iam.Change) { told = append(told, c) })
	defer cancel()
	before := w.dump()
	for _, r := range rs {
		err := r.write(w)
		w.is(err, r.want, r.name)
		if r.invalid {
			w.validation(err, r.field, r.name)
		}
		if !strings.HasPrefix(err.Error(), "iam: ") {
			w.Errorf("%s: the error does not start with \"iam: \": %v", r.name, err)
		}
		w.unchanged(before, r.name)
	}
	w.equal(0, len(told), "the subscribers were told of no rejected write")
}

// testInvalidWrites: a write that breaks a validation rule is a
// *iam.ValidationError matching iam.ErrInvalid (and its specific cause),
// on the field at fault, and changes nothing.
func testInvalidWrites(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.User(w.Org, "u")
	w.Group(iam.Group{ID: "g", OrganizationID: w.Org, Name: "Team"})
	w.AddOrg("beta", "beta-owner")
	w.Project("beta", "bp1")
	w.User("beta", "bu")
	policy := func(rules ...iam.Rule) func(w *world) error {
		return func(w *world) error {
			_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "bad", OrganizationID: w.Org, Principal: iam.UserPrincipal("u"), Rules: rules})
			return err
		}
	}
	project := func(p iam.Project) func(w *world) error {
		return func(w *world) error {
			p.ID, p.OrganizationID = "bad", w.Org
			_, err := w.store.CreateProject(w.ctx, p)
			return err
		}
	}
	w.rejectAll([]rejection{
		{"an email that is none", iam.ErrInvalid, true, "email", func(w *world) error {
			_, err := w.store.CreateUser(w.ctx, iam.User{ID: "bad", OrganizationID: w.Org, Email: "x"})
			return err
		}},
		{"an empty name", iam.ErrInvalid, true, "name", project(iam.Project{})},
		{"a name of 256 characters", iam.ErrInvalid, true, "name", project(iam.Project{Name: strings.Repeat("é", 256)})},
		{"a name that is not UTF-8", iam.ErrInvalid, true, "name", project(iam.Project{Name: "bad\xffname"})},
		{"a name with a control character", iam.ErrInvalid, true, "name", project(iam.Project{Name: "bad\nname"})},
		{"a description of 201 characters", iam.ErrInvalid, true, "description", project(iam.Project{Name: "P", Description: strings.Repeat("d", 201)})},
		{"eleven tags", iam.ErrInvalid, true, "", func(w *world) error {
			_, err := w.store.CreateApplication(w.ctx, iam.Application{ID: "bad", OrganizationID: w.Org, Name: "A",
				Tags: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}})
			return err
		}},
		{"an unknown permission set", iam.ErrUnknownPermission, true, "", policy(onProjects(ids("p1"), "InstanceFullAccess"))},
		{"an organization-level set on projects", iam.ErrScopeMismatch, true, "", policy(onProjects(ids("p1"), "IAMManager"))},
		{"a rule with no permission set", iam.ErrInvalid, true, "", policy(onProjects(ids("p1")))},
		{"a rule with no scope", iam.ErrInvalid, true, "", policy(iam.Rule{PermissionSets: []string{"InstancesFullAccess"}})},
		{"a rule with a condition and no condition engine", iam.ErrInvalid, true, "", policy(iam.Rule{
			Scope: iam.ProjectsScope("p1"), PermissionSets: []string{"InstancesFullAccess"}, Condition: "request.ip == '203.0.113.7'"})},
		{"a rule on another organization's project", iam.ErrInvalid, true, "", policy(onProjects(ids("bp1"), "InstancesFullAccess"))},
		{"a rule on another organization", iam.ErrInvalid, true, "", policy(onOrg("beta", "InstancesFullAccess"))},
		{"a principal of another organization", iam.ErrInvalid, true, "", func(w *world) error {
			_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "bad", OrganizationID: w.Org, Principal: iam.UserPrincipal("bu"),
				Rules: []iam.Rule{onProjects(ids("p1"), "InstancesFullAccess")}})
			return err
		}},
		{"a group member of another organization", iam.ErrInvalid, true, "", func(w *world) error {
			_, err := w.store.CreateGroup(w.ctx, iam.Group{ID: "bad", OrganizationID: w.Org, Name: "Bad", UserIDs: ids("bu")})
			return err
		}},
		{"a group name taken in the organization", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateGroup(w.ctx, iam.Group{ID: "bad", OrganizationID: w.Org, Name: "Team"})
			return err
		}},
		{"a second owner", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateUser(w.ctx, iam.User{ID: "bad", OrganizationID: w.Org, Email: "bad@acme.test", Type: iam.UserOwner})
			return err
		}},
		{"a set named as one of the built-in catalogue", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "InstancesFullAccess", OrganizationID: w.Org,
				ScopeType: iam.ScopeProjects, Permissions: []string{"custom:thing:*"}})
			return err
		}},
	})
}

// testUniqueIDs: every ID is unique across the store, whatever the entity
// and the organization (an organization and its default project share
// theirs): a taken ID is iam.ErrConflict.
func testUniqueIDs(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.User(w.Org, "u")
	w.App(w.Org, "a", false)
	w.Group(iam.Group{ID: "g", OrganizationID: w.Org})
	w.Policy(w.Org, "pol", iam.Principal{})
	w.Key(iam.APIKey{AccessKey: "k", OrganizationID: w.Org, Bearer: iam.UserPrincipal("u")})
	w.AddOrg("beta", "")
	w.rejectAll([]rejection{
		{"a user with a project's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateUser(w.ctx, iam.User{ID: "p1", OrganizationID: w.Org, Email: "p1@acme.test"})
			return err
		}},
		{"an application with a user's ID, in another organization", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateApplication(w.ctx, iam.Application{ID: "u", OrganizationID: "beta", Name: "U"})
			return err
		}},
		{"a policy with a group's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "g", OrganizationID: w.Org})
			return err
		}},
		{"a group with a policy's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateGroup(w.ctx, iam.Group{ID: "pol", OrganizationID: "beta", Name: "P"})
			return err
		}},
		{"a project with an organization's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateProject(w.ctx, iam.Project{ID: "beta", OrganizationID: w.Org, Name: "B"})
			return err
		}},
		{"an organization with a user's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateOrganization(w.ctx, iam.Organization{ID: "u", Name: "U"})
			return err
		}},
		{"an organization with an organization's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateOrganization(w.ctx, iam.Organization{ID: w.Org, Name: "Again"})
			return err
		}},
		{"an API key with an application's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateAPIKey(w.ctx, iam.APIKey{AccessKey: "a", OrganizationID: w.Org, Bearer: iam.UserPrincipal("u")})
			return err
		}},
		{"a user with an API key's ID", iam.ErrConflict, false, "", func(w *world) error {
			_, err := w.store.CreateUser(w.ctx, iam.User{ID: "k", OrganizationID: "beta", Email: "k@beta.test"})
			return err
		}},
	})
}
