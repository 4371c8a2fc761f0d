package reference

import (
	"context"
	"testing"
	"time"

	"github.com/iamkit/iam"
)

func TestReferenceMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, permission string
		want                bool
	}{
		{"instance:server:create", "instance:server:create", true},
		{"instance:*:*", "instance:server:create", true},
		{"instance:*:read", "instance:volume:read", true},
		{"*:*:read", "iam:user:read", true},
		{"instance:*:read", "instance:volume:create", false},
		{"instance:*", "instance:server:create", false},
		{"instance:server:create", "instance:server", false},
		{"instance:server:create:now", "instance:server:create", false},
		{"instance:serv*:create", "instance:server:create", false}, // a star is a whole segment
		{"*", "instance:server:create", false},                     // never across ':'
	} {
		if got := match(c.pattern, c.permission); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.permission, got, c.want)
		}
	}
}

// TestReferenceKnownAnswers checks the reference itself against answers
// read off the evaluation rules of docs/semantics.md, so that it cannot
// drift together with the Evaluator.
func TestReferenceKnownAnswers(t *testing.T) {
	ctx := context.Background()
	store := iam.NewMemoryStore()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := store.Atomic(ctx, func(tx iam.Tx) error {
		steps := []func() error{
			func() error {
				_, err := tx.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
				return err
			},
			func() error {
				_, err := tx.CreateOrganization(ctx, iam.Organization{ID: "other", Name: "Other"})
				return err
			},
			func() error {
				_, err := tx.CreateProject(ctx, iam.Project{ID: "A", OrganizationID: "acme", Name: "A"})
				return err
			},
			func() error {
				_, err := tx.CreateProject(ctx, iam.Project{ID: "F", OrganizationID: "acme", Name: "F"})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "boss", OrganizationID: "acme", Email: "boss@acme.test", Type: iam.UserOwner})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "ana", OrganizationID: "acme", Email: "ana@acme.test"})
				return err
			},
			func() error {
				_, err := tx.CreateUser(ctx, iam.User{ID: "lou", OrganizationID: "acme", Email: "lou@acme.test", Locked: true})
				return err
			},
			func() error {
				_, err := tx.CreateApplication(ctx, iam.Application{ID: "prod-c", OrganizationID: "acme", Name: "production-c"})
				return err
			},
			func() error {
				_, err := tx.CreateApplication(ctx, iam.Application{ID: "managed", OrganizationID: "acme", Name: "managed", Managed: true})
				return err
			},
			func() error {
				_, err := tx.CreateGroup(ctx, iam.Group{ID: "billing", OrganizationID: "acme", Name: "Billing", UserIDs: []string{"ana"}})
				return err
			},
			func() error {
				_, err := tx.CreateGroup(ctx, iam.Group{ID: "apps", OrganizationID: "acme", Name: "apps", AllApplications: true})
				return err
			},
			func() error {
				_, err := tx.CreatePolicy(ctx, iam.Policy{ID: "pol-prod-c", OrganizationID: "acme", Principal: iam.ApplicationPrincipal("prod-c"), Rules: []iam.Rule{
					{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesFullAccess"}},
				}})
				return err
			},
			func() error {
				_, err := tx.CreatePolicy(ctx, iam.Policy{ID: "pol-billing", OrganizationID: "acme", Principal: iam.GroupPrincipal("billing"), Rules: []iam.Rule{
					{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"BillingReadOnly"}},
					{Scope: iam.OrganizationScope("acme"), PermissionSets: []string{"ObjectStorageReadOnly"}},
				}})
				return err
			},
			func() error {
				_, err := tx.CreatePolicy(ctx, iam.Policy{ID: "pol-apps", OrganizationID: "acme", Principal: iam.GroupPrincipal("apps"), Rules: []iam.Rule{
					{Scope: iam.ProjectsScope("F"), PermissionSets: []string{"ContainersReadOnly"}},
				}})
				return err
			},
			func() error {
				_, err := tx.CreateAPIKey(ctx, iam.APIKey{AccessKey: "old-key", OrganizationID: "acme", Bearer: iam.ApplicationPrincipal("prod-c"), Secret: "s", ExpiresAt: now})
				return err
			},
			func() error {
				_, err := tx.CreateAPIKey(ctx, iam.APIKey{AccessKey: "key", OrganizationID: "acme", Bearer: iam.ApplicationPrincipal("prod-c"), Secret: "s"})
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
	if err != nil {
		t.Fatal(err)
	}
	ref := &Evaluator{Store: store, Now: func() time.Time { return now }}
	ev, err := iam.NewEvaluator(ctx, store, iam.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	app, user, key := iam.ApplicationPrincipal, iam.UserPrincipal, iam.APIKeyPrincipal
	inProject := func(p iam.Principal, project, perm string) iam.Request {
		return iam.Request{Principal: p, ProjectID: project, Permission: perm}
	}
	atOrg := func(p iam.Principal, org, perm string) iam.Request {
		return iam.Request{Principal: p, OrganizationID: org, Permission: perm}
	}
	for _, c := range []struct {
		name string
		req  iam.Request
		want bool
		err  error
	}{
		{"a set granted in its project", inProject(app("prod-c"), "A", "InstancesFullAccess"), true, nil},
		{"a set it includes", inProject(app("prod-c"), "A", "InstancesServerCreate"), true, nil},
		{"a triple its patterns match", inProject(app("prod-c"), "A", "instance:server:create"), true, nil},
		{"not in another project", inProject(app("prod-c"), "F", "InstancesFullAccess"), false, nil},
		{"not organization-wide through a rule on projects", atOrg(app("prod-c"), "acme", "InstancesFullAccess"), false, nil},
		{"a valid key inherits its bearer's", inProject(key("key"), "A", "InstancesFullAccess"), true, nil},
		{"an expired key (now >= ExpiresAt)", inProject(key("old-key"), "A", "InstancesFullAccess"), false, nil},
		{"the owner, anything known", inProject(user("boss"), "F", "instance:server:delete"), true, nil},
		{"the owner, organization-wide", atOrg(user("boss"), "acme", "InstancesFullAccess"), true, nil},
		{"the owner, nothing elsewhere", atOrg(user("boss"), "other", "IAMManager"), false, nil},
		{"a group's organization-scoped set", atOrg(user("ana"), "acme", "BillingReadOnly"), true, nil},
		{"a group's all-projects set, in a project created before", inProject(user("ana"), "F", "ObjectStorageReadOnly"), true, nil},
		{"a group's all-projects set, organization-wide", atOrg(user("ana"), "acme", "ObjectStorageReadOnly"), true, nil},
		{"a group caller answers from its own policies", atOrg(iam.GroupPrincipal("billing"), "acme", "BillingReadOnly"), true, nil},
		{"all applications", inProject(app("prod-c"), "F", "ContainersReadOnly"), true, nil},
		{"all applications leaves managed ones out", inProject(app("managed"), "F", "ContainersReadOnly"), false, nil},
		{"a locked user", inProject(user("lou"), "A", "InstancesReadOnly"), false, nil},
		{"default deny", inProject(user("ana"), "A", "InstancesReadOnly"), false, nil},
		{"an organization-scoped set in a project", inProject(user("ana"), "A", "BillingReadOnly"), false, iam.ErrScopeMismatch},
		{"an organization-level triple in a project", inProject(user("boss"), "A", "iam:user:read"), false, iam.ErrScopeMismatch},
		{"an unknown set", inProject(user("ana"), "A", "InstanceFullAccess"), false, iam.ErrUnknownPermission},
		{"an unknown triple", inProject(user("ana"), "A", "nosuch:thing:read"), false, iam.ErrUnknownPermission},
		{"an unknown project before an unknown permission", inProject(user("ana"), "Z", "nosuch:thing:read"), false, iam.ErrNotFound},
		{"an unknown principal", inProject(user("nobody"), "A", "InstancesReadOnly"), false, iam.ErrNotFound},
		{"an ID of the wrong kind", inProject(app("ana"), "A", "InstancesReadOnly"), false, iam.ErrNotFound},
		{"an unknown permission before an unknown principal", inProject(user("nobody"), "A", "NoSuchSet"), false, iam.ErrUnknownPermission},
		{"a star in a request", inProject(user("ana"), "A", "instance:*:read"), false, iam.ErrInvalid},
		{"both targets", iam.Request{Principal: user("ana"), ProjectID: "A", OrganizationID: "acme", Permission: "InstancesReadOnly"}, false, iam.ErrInvalid},
		{"the zero principal", inProject(iam.Principal{}, "A", "InstancesReadOnly"), false, iam.ErrInvalid},
		{"a malformed request before an unknown project", inProject(iam.Principal{}, "Z", "InstancesReadOnly"), false, iam.ErrInvalid},
	} {
		got, err := ref.Check(ctx, c.req)
		if got != c.want || (c.err == nil) != (err == nil) || c.err != nil && ErrClass(err) != ErrClass(c.err) {
			t.Errorf("%s: reference answers %v, %v; want %v, %v", c.name, got, err, c.want, c.err)
		}
		if dec, err := ev.Check(ctx, c.req); dec.Allowed != c.want || ErrClass(err) != ErrClass(c.err) {
			t.Errorf("%s: the Evaluator answers %v, %v; want %v, %v", c.name, dec.Allowed, err, c.want, c.err)
		}
	}
}
