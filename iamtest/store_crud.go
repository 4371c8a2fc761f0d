package iamtest

import (
	"slices"
	"strings"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/testkit"
)

// roundTrip exercises one entity type: Create (with and without an ID)
// returns what Get and List show, List is sorted by ID, Update replaces,
// Delete removes; every write moves the revision by one. Values compare
// with nil and empty slices alike when emptyIsNil.
func roundTrip[T any](t *storeT, idOf func(T) string,
	create func(T) (T, error), get func(string) (T, error), list func() ([]T, error),
	update func(T) (T, error), del func(string) error,
	fresh func(id string) T, change func(T) T, emptyIsNil bool,
) {
	t.Helper()
	same := func(a, b T) bool { return testkit.Equal(a, b, emptyIsNil) }
	existing, err := list()
	t.ok(err, "List")

	// Created out of ID order, and one with an empty ID.
	var made []T
	for _, id := range []string{"rt-c", "rt-a", "", "rt-b"} {
		var got T
		t.step("create "+id, func() error {
			var err error
			got, err = create(fresh(id))
			return err
		})
		if id == "" {
			t.check(idOf(got) != "", "an empty ID is filled in")
		} else {
			t.equal(id, idOf(got), "Create keeps the ID given")
		}
		stored, err := get(idOf(got))
		t.ok(err, "Get %s", idOf(got))
		if !same(got, stored) {
			t.Fatalf("Create returned something else than what Get shows:\ncreate %+v\n   get %+v", got, stored)
		}
		made = append(made, got)
	}

	all, err := list()
	t.ok(err, "List")
	t.equal(len(existing)+len(made), len(all), "List holds what was there and what was created")
	gotIDs := make([]string, len(all))
	for i, v := range all {
		gotIDs[i] = idOf(v)
	}
	t.check(slices.IsSorted(gotIDs), "List is sorted by ID: %v", gotIDs)
	for _, m := range made {
		i := slices.Index(gotIDs, idOf(m))
		t.check(i >= 0, "List holds %s", idOf(m))
		if !same(m, all[i]) {
			t.Fatalf("List shows something else than Create returned:\ncreate %+v\n  list %+v", m, all[i])
		}
	}

	target := made[0]
	changed := change(target)
	var updated T
	t.step("update", func() error {
		var err error
		updated, err = update(changed)
		return err
	})
	t.equal(idOf(target), idOf(updated), "Update keeps the ID")
	stored, err := get(idOf(target))
	t.ok(err, "Get after Update")
	if !same(updated, stored) {
		t.Fatalf("Update returned something else than what Get shows:\nupdate %+v\n   get %+v", updated, stored)
	}
	if same(target, stored) {
		t.Fatalf("the update did not change anything: %+v", stored)
	}

	t.step("delete", func() error { return del(idOf(target)) })
	_, err = get(idOf(target))
	t.is(err, iam.ErrNotFound, "Get after Delete")
	all, err = list()
	t.ok(err, "List after Delete")
	t.equal(len(existing)+len(made)-1, len(all), "List after Delete")
	t.is(del(idOf(target)), iam.ErrNotFound, "deleting twice")
}

// acme fills the case's store with organization "acme", its owner "owner"
// and a user "bearer".
func (t *storeT) acme() {
	t.Helper()
	_, err := t.store.CreateOrganization(t.ctx, iam.Organization{ID: "acme", Name: "Acme"})
	t.ok(err, "create organization acme")
	_, err = t.store.CreateUser(t.ctx, iam.User{ID: "owner", OrganizationID: "acme", Email: "owner@acme.test", Type: iam.UserOwner})
	t.ok(err, "create the owner")
	_, err = t.store.CreateUser(t.ctx, iam.User{ID: "bearer", OrganizationID: "acme", Email: "bearer@acme.test"})
	t.ok(err, "create user bearer")
}

var roundTripCases = []storeCase{
	{"Organization", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		roundTrip(t, func(o iam.Organization) string { return o.ID },
			func(o iam.Organization) (iam.Organization, error) { return s.CreateOrganization(ctx, o) },
			func(id string) (iam.Organization, error) { return s.GetOrganization(ctx, id) },
			func() ([]iam.Organization, error) { return s.ListOrganizations(ctx) },
			func(o iam.Organization) (iam.Organization, error) { return s.UpdateOrganization(ctx, o) },
			func(id string) error { return s.DeleteOrganization(ctx, id) },
			func(id string) iam.Organization { return iam.Organization{ID: id, Name: "Org x" + id} },
			func(o iam.Organization) iam.Organization { o.Name = "Renamed"; return o }, false)
	}},
	{"OrganizationCreatesItsDefaultProject", func(t *storeT) {
		t.acme()
		o, err := t.store.CreateOrganization(t.ctx, iam.Organization{Name: "No ID"})
		t.ok(err, "create an organization with no ID")
		p, err := t.store.GetProject(t.ctx, o.ID)
		t.ok(err, "get its default project")
		t.equal(iam.Project{ID: o.ID, OrganizationID: o.ID, Name: "default"}, p, "the default project")
		ps, err := t.store.ListProjects(t.ctx, o.ID)
		t.ok(err, "ListProjects")
		t.equal([]iam.Project{p}, ps, "the new organization's projects")
	}},
	{"Project", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		roundTrip(t, func(p iam.Project) string { return p.ID },
			func(p iam.Project) (iam.Project, error) { return s.CreateProject(ctx, p) },
			func(id string) (iam.Project, error) { return s.GetProject(ctx, id) },
			func() ([]iam.Project, error) { return s.ListProjects(ctx, "acme") },
			func(p iam.Project) (iam.Project, error) { return s.UpdateProject(ctx, p) },
			func(id string) error { return s.DeleteProject(ctx, id) },
			func(id string) iam.Project {
				return iam.Project{ID: id, OrganizationID: "acme", Name: "P x" + id, Description: "about " + id}
			},
			func(p iam.Project) iam.Project { p.Name, p.Description = "Renamed", ""; return p }, false)
	}},
	{"User", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		n := 0
		roundTrip(t, func(u iam.User) string { return u.ID },
			func(u iam.User) (iam.User, error) { return s.CreateUser(ctx, u) },
			func(id string) (iam.User, error) { return s.GetUser(ctx, id) },
			func() ([]iam.User, error) { return s.ListUsers(ctx, "acme") },
			func(u iam.User) (iam.User, error) { return s.UpdateUser(ctx, u) },
			func(id string) error { return s.DeleteUser(ctx, id) },
			func(id string) iam.User {
				n++
				return iam.User{ID: id, OrganizationID: "acme", Email: string(rune('a'+n)) + "@acme.test", Username: "user x" + id, Tags: []string{"t1", "t2"}}
			},
			func(u iam.User) iam.User { u.Locked, u.Tags, u.Username = true, []string{"t3"}, "renamed"; return u }, false)
	}},
	{"UserTypeDefaultsToMember", func(t *storeT) {
		t.acme()
		u, err := t.store.CreateUser(t.ctx, iam.User{ID: "m", OrganizationID: "acme", Email: "m@acme.test"})
		t.ok(err, "create a user with no type")
		got, err := t.store.GetUser(t.ctx, "m")
		t.ok(err, "GetUser")
		t.equal(u, got, "Get shows what Create returned")
		t.check(!got.IsOwner(), "a user with no type is no owner")
		t.check(got.Type == "" || got.Type == iam.UserMember, "a user with no type is a member, got %q", got.Type)
	}},
	{"Application", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		roundTrip(t, func(a iam.Application) string { return a.ID },
			func(a iam.Application) (iam.Application, error) { return s.CreateApplication(ctx, a) },
			func(id string) (iam.Application, error) { return s.GetApplication(ctx, id) },
			func() ([]iam.Application, error) { return s.ListApplications(ctx, "acme") },
			func(a iam.Application) (iam.Application, error) { return s.UpdateApplication(ctx, a) },
			func(id string) error { return s.DeleteApplication(ctx, id) },
			func(id string) iam.Application {
				return iam.Application{ID: id, OrganizationID: "acme", Name: "App x" + id, Description: "d", Tags: []string{"x"}}
			},
			func(a iam.Application) iam.Application { a.Managed, a.Tags = true, nil; return a }, false)
	}},
	{"Group", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		_, err := s.CreateApplication(ctx, iam.Application{ID: "app", OrganizationID: "acme", Name: "App"})
		t.ok(err, "create application app")
		roundTrip(t, func(g iam.Group) string { return g.ID },
			func(g iam.Group) (iam.Group, error) { return s.CreateGroup(ctx, g) },
			func(id string) (iam.Group, error) { return s.GetGroup(ctx, id) },
			func() ([]iam.Group, error) { return s.ListGroups(ctx, "acme") },
			func(g iam.Group) (iam.Group, error) { return s.UpdateGroup(ctx, g) },
			func(id string) error { return s.DeleteGroup(ctx, id) },
			func(id string) iam.Group {
				return iam.Group{ID: id, OrganizationID: "acme", Name: "Group " + id + "?", UserIDs: ids("bearer"), ApplicationIDs: ids("app"), Tags: []string{"g"}}
			},
			func(g iam.Group) iam.Group { g.UserIDs, g.AllUsers, g.Name = nil, true, "Everyone"; return g }, true)
	}},
	{"Policy", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		_, err := s.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "P1"})
		t.ok(err, "create project p1")
		roundTrip(t, func(p iam.Policy) string { return p.ID },
			func(p iam.Policy) (iam.Policy, error) { return s.CreatePolicy(ctx, p) },
			func(id string) (iam.Policy, error) { return s.GetPolicy(ctx, id) },
			func() ([]iam.Policy, error) { return s.ListPolicies(ctx, "acme") },
			func(p iam.Policy) (iam.Policy, error) { return s.UpdatePolicy(ctx, p) },
			func(id string) error { return s.DeletePolicy(ctx, id) },
			func(id string) iam.Policy {
				return iam.Policy{ID: id, OrganizationID: "acme", Name: "policy x" + id, Description: "d", Principal: iam.UserPrincipal("bearer"),
					Rules: []iam.Rule{onProjects(ids("p1", "acme"), "InstancesFullAccess"), onOrg("acme", "IAMReadOnly", "BillingReadOnly")}, Tags: []string{"p"}}
			},
			func(p iam.Policy) iam.Policy {
				p.Principal, p.Rules = iam.Principal{}, []iam.Rule{onOrg("acme", "ContainersReadOnly")}
				return p
			}, true)
	}},
	{"PermissionSet", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		var made []iam.PermissionSet
		for _, name := range []string{"RtC", "RtA", "RtB"} {
			var got iam.PermissionSet
			t.step("create set "+name, func() error {
				var err error
				got, err = s.CreatePermissionSet(ctx, iam.PermissionSet{Name: name, OrganizationID: "acme", ScopeType: iam.ScopeProjects,
					Permissions: []string{"rt:" + strings.ToLower(name[2:]) + ":*"}, Includes: []string{"InstancesReadOnly"}, Description: "d", Categories: []string{"c"}})
				return err
			})
			stored, err := s.GetPermissionSet(ctx, "acme", name)
			t.ok(err, "GetPermissionSet %s", name)
			t.equal(got, stored, "Get shows what Create returned")
			made = append(made, got)
		}
		all, err := s.ListPermissionSets(ctx, "acme")
		t.ok(err, "ListPermissionSets")
		t.equal(3, len(all), "ListPermissionSets holds the three sets")
		t.equal([]string{"RtA", "RtB", "RtC"}, []string{all[0].Name, all[1].Name, all[2].Name}, "sorted by name")
		changed := made[0]
		changed.Permissions, changed.Includes = []string{"rt:other:read"}, nil
		var updated iam.PermissionSet
		t.step("update set", func() error {
			var err error
			updated, err = s.UpdatePermissionSet(ctx, changed)
			return err
		})
		stored, err := s.GetPermissionSet(ctx, "acme", "RtC")
		t.ok(err, "GetPermissionSet after Update")
		t.equalEmpty(updated, stored, "Get shows what Update returned")
		t.equal([]string{"rt:other:read"}, stored.Permissions, "the updated patterns")
		t.step("delete set", func() error { return s.DeletePermissionSet(ctx, "acme", "RtC") })
		_, err = s.GetPermissionSet(ctx, "acme", "RtC")
		t.is(err, iam.ErrNotFound, "GetPermissionSet after Delete")
		// The catalogue reads with an empty organization ID.
		cat, err := s.ListPermissionSets(ctx, "")
		t.ok(err, "ListPermissionSets of the catalogue")
		t.equal(len(iam.ScalewayCatalogue()), len(cat), "the built-in catalogue is Scaleway's")
		ifa, err := s.GetPermissionSet(ctx, "", "InstancesFullAccess")
		t.ok(err, "GetPermissionSet of the catalogue")
		t.equal(iam.ScopeProjects, ifa.ScopeType, "InstancesFullAccess's scope type")
		t.check(slices.Contains(ifa.Includes, "InstancesServerCreate"), "InstancesFullAccess includes InstancesServerCreate: %v", ifa.Includes)
	}},
	{"APIKey", func(t *storeT) {
		t.acme()
		s, ctx := t.store, t.ctx
		_, err := s.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "P1"})
		t.ok(err, "create project p1")
		expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		roundTrip(t, func(k iam.APIKey) string { return k.AccessKey },
			func(k iam.APIKey) (iam.APIKey, error) {
				k, err := s.CreateAPIKey(ctx, k)
				k.Secret = "" // compared apart, in APIKeySecrets
				return k, err
			},
			func(id string) (iam.APIKey, error) { return s.GetAPIKey(ctx, id) },
			func() ([]iam.APIKey, error) { return s.ListAPIKeys(ctx, "acme") },
			func(k iam.APIKey) (iam.APIKey, error) { return s.UpdateAPIKey(ctx, k) },
			func(id string) error { return s.DeleteAPIKey(ctx, id) },
			func(id string) iam.APIKey {
				return iam.APIKey{AccessKey: id, OrganizationID: "acme", Bearer: iam.UserPrincipal("bearer"), DefaultProjectID: "p1", ExpiresAt: expires, Description: "d"}
			},
			func(k iam.APIKey) iam.APIKey { k.Description, k.ExpiresAt = "changed", time.Time{}; return k }, false)
	}},
	{"NoAliasing", testNoAliasing},
	{"APIKeySecrets", testAPIKeySecrets},
}

// testNoAliasing: values given to and returned by the store are copies:
// changing them afterwards changes nothing stored.
func testNoAliasing(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.User(w.Org, "u1")
	in := iam.Policy{ID: "pol", OrganizationID: w.Org, Principal: iam.UserPrincipal("u1"),
		Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}, Tags: []string{"t"}}
	out, err := w.store.CreatePolicy(w.ctx, in)
	w.ok(err, "CreatePolicy")
	in.Rules[0].PermissionSets[0] = "InstancesFullAccess"
	in.Rules[0].Scope.ProjectIDs[0] = w.Org
	in.Tags[0] = "changed"
	out.Rules[0].PermissionSets[0] = "InstancesFullAccess"
	out.Tags[0] = "changed"
	got, err := w.store.GetPolicy(w.ctx, "pol")
	w.ok(err, "GetPolicy")
	got.Rules[0].Scope.ProjectIDs[0] = w.Org
	again, err := w.store.GetPolicy(w.ctx, "pol")
	w.ok(err, "GetPolicy")
	w.equal([]iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}, again.Rules, "the stored rules")
	w.equal([]string{"t"}, again.Tags, "the stored tags")
	w.expect(inProject(iam.UserPrincipal("u1"), "p1", "InstancesServerDelete"), notGranted)
	w.expect(inProject(iam.UserPrincipal("u1"), w.Org, "InstancesServerCreate"), notGranted)

	g := iam.Group{ID: "g", OrganizationID: w.Org, Name: "G", UserIDs: ids("u1")}
	_, err = w.store.CreateGroup(w.ctx, g)
	w.ok(err, "CreateGroup")
	g.UserIDs[0] = "someone"
	gotG, err := w.store.GetGroup(w.ctx, "g")
	w.ok(err, "GetGroup")
	w.equal([]string{"u1"}, gotG.UserIDs, "the stored members")
}

// testAPIKeySecrets: CreateAPIKey returns the secret once; the store keeps
// only its hash, and the change feed never carries a secret.
func testAPIKeySecrets(t *storeT) {
	w := t.world()
	u := iam.UserPrincipal(w.User(w.Org, "u"))
	var changes []iam.Change
	cancel := w.store.Subscribe(func(c iam.Change) { changes = append(changes, c) })
	defer cancel()

	generated := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u})
	w.check(generated.AccessKey != "", "an empty access key is filled in")
	w.check(generated.Secret != "", "CreateAPIKey returns the secret")
	w.equal(iam.HashSecret(generated.Secret), generated.SecretSHA256, "the secret's hash")
	w.equal(64, len(generated.SecretSHA256), "a SHA-256 in hexadecimal")

	given := w.Key(iam.APIKey{AccessKey: "given", OrganizationID: w.Org, Bearer: u, Secret: "s3cret"})
	w.equal("s3cret", given.Secret, "a secret given is given back")
	w.equal(iam.HashSecret("s3cret"), given.SecretSHA256, "a secret given is hashed")

	hashed := w.Key(iam.APIKey{AccessKey: "hashed", OrganizationID: w.Org, Bearer: u, SecretSHA256: iam.HashSecret("known")})
	w.equal("", hashed.Secret, "no secret to give back when only its hash was given")
	w.equal(iam.HashSecret("known"), hashed.SecretSHA256, "a hash given is kept")

	other := w.Key(iam.APIKey{OrganizationID: w.Org, Bearer: u})
	w.check(generated.Secret != other.Secret, "generated secrets differ")
	w.check(generated.AccessKey != other.AccessKey, "generated access keys differ")

	for _, k := range []iam.APIKey{generated, given, hashed} {
		got, err := w.store.GetAPIKey(w.ctx, k.AccessKey)
		w.ok(err, "GetAPIKey")
		w.equal("", got.Secret, "GetAPIKey never returns the secret")
		w.equal(k.SecretSHA256, got.SecretSHA256, "GetAPIKey returns the hash")
	}
	list, err := w.store.ListAPIKeys(w.ctx, w.Org)
	w.ok(err, "ListAPIKeys")
	w.equal(4, len(list), "ListAPIKeys")
	for _, k := range list {
		w.equal("", k.Secret, "ListAPIKeys never returns the secret")
	}
	updated, err := w.store.UpdateAPIKey(w.ctx, iam.APIKey{AccessKey: generated.AccessKey, OrganizationID: w.Org, Bearer: u, Description: "new"})
	w.ok(err, "UpdateAPIKey")
	w.equal("", updated.Secret, "UpdateAPIKey never returns the secret")
	w.equal(generated.SecretSHA256, updated.SecretSHA256, "an update keeps the hash")
	for _, c := range changes {
		for _, ev := range c.Events {
			if k, ok := ev.Value.(iam.APIKey); ok {
				w.equal("", k.Secret, "the change feed never carries a secret")
			}
		}
	}
	w.check(len(changes) > 0, "the key writes reached the subscriber")
}
