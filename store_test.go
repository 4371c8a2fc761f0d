package iam_test

// The MemoryStore through the Store interface: CRUD round trips, the
// cascades of DESIGN 5b, Atomic, the revision, API key secrets and the
// change feed.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// revisionStep asserts that write succeeds and moves the revision by
// exactly one.
func revisionStep(t *testing.T, s iam.Store, what string, write func() error) {
	t.Helper()
	ctx := context.Background()
	before, err := s.Revision(ctx)
	require.NoError(t, err)
	require.NoError(t, write(), what)
	after, err := s.Revision(ctx)
	require.NoError(t, err)
	require.Equal(t, before+1, after, "%s: one write, one revision", what)
}

// roundTrip exercises one entity type: Create (with and without an ID)
// returns what Get and List show, List is sorted by ID, Update replaces,
// Delete removes; every write moves the revision by one.
func roundTrip[T any](t *testing.T, s iam.Store, idOf func(T) string,
	create func(T) (T, error), get func(string) (T, error), list func() ([]T, error),
	update func(T) (T, error), del func(string) error,
	fresh func(id string) T, change func(T) T, opts ...cmp.Option,
) {
	t.Helper()
	existing, err := list()
	require.NoError(t, err)

	// Created out of ID order, and one with an empty ID.
	var made []T
	for _, id := range []string{"rt-c", "rt-a", "", "rt-b"} {
		var got T
		revisionStep(t, s, "create "+id, func() error {
			var err error
			got, err = create(fresh(id))
			return err
		})
		if id == "" {
			require.NotEmpty(t, idOf(got), "an empty ID is filled in")
		} else {
			require.Equal(t, id, idOf(got))
		}
		stored, err := get(idOf(got))
		require.NoError(t, err)
		if diff := cmp.Diff(got, stored, opts...); diff != "" {
			t.Fatalf("Create returned something else than what Get shows (-create +get):\n%s", diff)
		}
		made = append(made, got)
	}

	all, err := list()
	require.NoError(t, err)
	require.Len(t, all, len(existing)+len(made))
	gotIDs := make([]string, len(all))
	for i, v := range all {
		gotIDs[i] = idOf(v)
	}
	require.True(t, slices.IsSorted(gotIDs), "List is sorted by ID: %v", gotIDs)
	for _, m := range made {
		i := slices.Index(gotIDs, idOf(m))
		require.GreaterOrEqual(t, i, 0, "List holds %s", idOf(m))
		if diff := cmp.Diff(m, all[i], opts...); diff != "" {
			t.Fatalf("List shows something else than Create returned (-create +list):\n%s", diff)
		}
	}

	target := made[0]
	changed := change(target)
	var updated T
	revisionStep(t, s, "update", func() error {
		var err error
		updated, err = update(changed)
		return err
	})
	require.Equal(t, idOf(target), idOf(updated))
	stored, err := get(idOf(target))
	require.NoError(t, err)
	if diff := cmp.Diff(updated, stored, opts...); diff != "" {
		t.Fatalf("Update returned something else than what Get shows (-update +get):\n%s", diff)
	}
	if cmp.Equal(target, stored, opts...) {
		t.Fatalf("the update did not change anything: %+v", stored)
	}

	revisionStep(t, s, "delete", func() error { return del(idOf(target)) })
	_, err = get(idOf(target))
	require.ErrorIs(t, err, iam.ErrNotFound)
	all, err = list()
	require.NoError(t, err)
	require.Len(t, all, len(existing)+len(made)-1)
	require.ErrorIs(t, del(idOf(target)), iam.ErrNotFound, "deleting twice")
}

func TestStoreRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newStore := func(t *testing.T) *iam.MemoryStore {
		s := iam.NewMemoryStore()
		_, err := s.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
		require.NoError(t, err)
		_, err = s.CreateUser(ctx, iam.User{ID: "owner", OrganizationID: "acme", Email: "owner@acme.test", Type: iam.UserOwner})
		require.NoError(t, err)
		_, err = s.CreateUser(ctx, iam.User{ID: "bearer", OrganizationID: "acme", Email: "bearer@acme.test"})
		require.NoError(t, err)
		return s
	}

	t.Run("organization", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		roundTrip(t, s, func(o iam.Organization) string { return o.ID },
			func(o iam.Organization) (iam.Organization, error) { return s.CreateOrganization(ctx, o) },
			func(id string) (iam.Organization, error) { return s.GetOrganization(ctx, id) },
			func() ([]iam.Organization, error) { return s.ListOrganizations(ctx) },
			func(o iam.Organization) (iam.Organization, error) { return s.UpdateOrganization(ctx, o) },
			func(id string) error { return s.DeleteOrganization(ctx, id) },
			func(id string) iam.Organization { return iam.Organization{ID: id, Name: "Org x" + id} },
			func(o iam.Organization) iam.Organization { o.Name = "Renamed"; return o })
	})
	t.Run("organization creates its default project", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		o, err := s.CreateOrganization(ctx, iam.Organization{Name: "No ID"})
		require.NoError(t, err)
		p, err := s.GetProject(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, iam.Project{ID: o.ID, OrganizationID: o.ID, Name: "default"}, p)
		ps, err := s.ListProjects(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, []iam.Project{p}, ps)
	})
	t.Run("project", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		roundTrip(t, s, func(p iam.Project) string { return p.ID },
			func(p iam.Project) (iam.Project, error) { return s.CreateProject(ctx, p) },
			func(id string) (iam.Project, error) { return s.GetProject(ctx, id) },
			func() ([]iam.Project, error) { return s.ListProjects(ctx, "acme") },
			func(p iam.Project) (iam.Project, error) { return s.UpdateProject(ctx, p) },
			func(id string) error { return s.DeleteProject(ctx, id) },
			func(id string) iam.Project {
				return iam.Project{ID: id, OrganizationID: "acme", Name: "P x" + id, Description: "about " + id}
			},
			func(p iam.Project) iam.Project { p.Name, p.Description = "Renamed", ""; return p })
	})
	t.Run("user", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		n := 0
		roundTrip(t, s, func(u iam.User) string { return u.ID },
			func(u iam.User) (iam.User, error) { return s.CreateUser(ctx, u) },
			func(id string) (iam.User, error) { return s.GetUser(ctx, id) },
			func() ([]iam.User, error) { return s.ListUsers(ctx, "acme") },
			func(u iam.User) (iam.User, error) { return s.UpdateUser(ctx, u) },
			func(id string) error { return s.DeleteUser(ctx, id) },
			func(id string) iam.User {
				n++
				return iam.User{ID: id, OrganizationID: "acme", Email: string(rune('a'+n)) + "@acme.test", Username: "user x" + id, Tags: []string{"t1", "t2"}}
			},
			func(u iam.User) iam.User { u.Locked, u.Tags, u.Username = true, []string{"t3"}, "renamed"; return u })
	})
	t.Run("user type defaults to member", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		u, err := s.CreateUser(ctx, iam.User{ID: "m", OrganizationID: "acme", Email: "m@acme.test"})
		require.NoError(t, err)
		got, err := s.GetUser(ctx, "m")
		require.NoError(t, err)
		assert.Equal(t, u, got)
		assert.False(t, got.IsOwner())
		assert.Contains(t, []iam.UserType{"", iam.UserMember}, got.Type)
	})
	t.Run("application", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		roundTrip(t, s, func(a iam.Application) string { return a.ID },
			func(a iam.Application) (iam.Application, error) { return s.CreateApplication(ctx, a) },
			func(id string) (iam.Application, error) { return s.GetApplication(ctx, id) },
			func() ([]iam.Application, error) { return s.ListApplications(ctx, "acme") },
			func(a iam.Application) (iam.Application, error) { return s.UpdateApplication(ctx, a) },
			func(id string) error { return s.DeleteApplication(ctx, id) },
			func(id string) iam.Application {
				return iam.Application{ID: id, OrganizationID: "acme", Name: "App x" + id, Description: "d", Tags: []string{"x"}}
			},
			func(a iam.Application) iam.Application { a.Managed, a.Tags = true, nil; return a })
	})
	t.Run("group", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.CreateApplication(ctx, iam.Application{ID: "app", OrganizationID: "acme", Name: "App"})
		require.NoError(t, err)
		roundTrip(t, s, func(g iam.Group) string { return g.ID },
			func(g iam.Group) (iam.Group, error) { return s.CreateGroup(ctx, g) },
			func(id string) (iam.Group, error) { return s.GetGroup(ctx, id) },
			func() ([]iam.Group, error) { return s.ListGroups(ctx, "acme") },
			func(g iam.Group) (iam.Group, error) { return s.UpdateGroup(ctx, g) },
			func(id string) error { return s.DeleteGroup(ctx, id) },
			func(id string) iam.Group {
				return iam.Group{ID: id, OrganizationID: "acme", Name: "Group " + id + "?", UserIDs: ids("bearer"), ApplicationIDs: ids("app"), Tags: []string{"g"}}
			},
			func(g iam.Group) iam.Group { g.UserIDs, g.AllUsers, g.Name = nil, true, "Everyone"; return g },
			cmpopts.EquateEmpty())
	})
	t.Run("policy", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "P1"})
		require.NoError(t, err)
		roundTrip(t, s, func(p iam.Policy) string { return p.ID },
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
			},
			cmpopts.EquateEmpty())
	})
	t.Run("permission set", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var made []iam.PermissionSet
		for _, name := range []string{"RtC", "RtA", "RtB"} {
			var got iam.PermissionSet
			revisionStep(t, s, "create set", func() error {
				var err error
				got, err = s.CreatePermissionSet(ctx, iam.PermissionSet{Name: name, OrganizationID: "acme", ScopeType: iam.ScopeProjects,
					Permissions: []string{"rt:" + strings.ToLower(name[2:]) + ":*"}, Includes: []string{"InstancesReadOnly"}, Description: "d", Categories: []string{"c"}})
				return err
			})
			stored, err := s.GetPermissionSet(ctx, "acme", name)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(got, stored))
			made = append(made, got)
		}
		all, err := s.ListPermissionSets(ctx, "acme")
		require.NoError(t, err)
		require.Equal(t, []string{"RtA", "RtB", "RtC"}, []string{all[0].Name, all[1].Name, all[2].Name}, "sorted by name")
		changed := made[0]
		changed.Permissions, changed.Includes = []string{"rt:other:read"}, nil
		var updated iam.PermissionSet
		revisionStep(t, s, "update set", func() error {
			var err error
			updated, err = s.UpdatePermissionSet(ctx, changed)
			return err
		})
		stored, err := s.GetPermissionSet(ctx, "acme", "RtC")
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(updated, stored, cmpopts.EquateEmpty()))
		require.Equal(t, []string{"rt:other:read"}, stored.Permissions)
		revisionStep(t, s, "delete set", func() error { return s.DeletePermissionSet(ctx, "acme", "RtC") })
		_, err = s.GetPermissionSet(ctx, "acme", "RtC")
		require.ErrorIs(t, err, iam.ErrNotFound)
		// The catalogue reads with an empty organization ID.
		cat, err := s.ListPermissionSets(ctx, "")
		require.NoError(t, err)
		require.Len(t, cat, 202)
		ifa, err := s.GetPermissionSet(ctx, "", "InstancesFullAccess")
		require.NoError(t, err)
		require.Equal(t, iam.ScopeProjects, ifa.ScopeType)
		require.Contains(t, ifa.Includes, "InstancesServerCreate")
	})
	t.Run("API key", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "P1"})
		require.NoError(t, err)
		expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		roundTrip(t, s, func(k iam.APIKey) string { return k.AccessKey },
			func(k iam.APIKey) (iam.APIKey, error) {
				k, err := s.CreateAPIKey(ctx, k)
				k.Secret = "" // compared apart, in TestStoreAPIKeySecrets
				return k, err
			},
			func(id string) (iam.APIKey, error) { return s.GetAPIKey(ctx, id) },
			func() ([]iam.APIKey, error) { return s.ListAPIKeys(ctx, "acme") },
			func(k iam.APIKey) (iam.APIKey, error) { return s.UpdateAPIKey(ctx, k) },
			func(id string) error { return s.DeleteAPIKey(ctx, id) },
			func(id string) iam.APIKey {
				return iam.APIKey{AccessKey: id, OrganizationID: "acme", Bearer: iam.UserPrincipal("bearer"), DefaultProjectID: "p1", ExpiresAt: expires, Description: "d"}
			},
			func(k iam.APIKey) iam.APIKey { k.Description, k.ExpiresAt = "changed", time.Time{}; return k })
	})
}

// Values given to and returned by the store are copies: changing them
// afterwards changes nothing stored.
func TestStoreNoAliasing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.user(w.org, "u1")
	in := iam.Policy{ID: "pol", OrganizationID: w.org, Principal: iam.UserPrincipal("u1"),
		Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}, Tags: []string{"t"}}
	out, err := w.store.CreatePolicy(w.ctx, in)
	require.NoError(t, err)
	in.Rules[0].PermissionSets[0] = "InstancesFullAccess"
	in.Rules[0].Scope.ProjectIDs[0] = w.org
	in.Tags[0] = "changed"
	out.Rules[0].PermissionSets[0] = "InstancesFullAccess"
	out.Tags[0] = "changed"
	got, err := w.store.GetPolicy(w.ctx, "pol")
	require.NoError(t, err)
	got.Rules[0].Scope.ProjectIDs[0] = w.org
	again, err := w.store.GetPolicy(w.ctx, "pol")
	require.NoError(t, err)
	assert.Equal(t, []iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}, again.Rules)
	assert.Equal(t, []string{"t"}, again.Tags)
	w.expect(t, inProject(iam.UserPrincipal("u1"), "p1", "InstancesServerDelete"), notGranted)
	w.expect(t, inProject(iam.UserPrincipal("u1"), w.org, "InstancesServerCreate"), notGranted)

	g := iam.Group{ID: "g", OrganizationID: w.org, Name: "G", UserIDs: ids("u1")}
	_, err = w.store.CreateGroup(w.ctx, g)
	require.NoError(t, err)
	g.UserIDs[0] = "someone"
	gotG, err := w.store.GetGroup(w.ctx, "g")
	require.NoError(t, err)
	assert.Equal(t, []string{"u1"}, gotG.UserIDs)
}

// DESIGN 5b: deleting a project removes it from every rule, drops the
// rules left with no project, and resets keys' default project.
func TestStoreDeleteProjectCascade(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.project(w.org, "p2")
	u := iam.UserPrincipal(w.user(w.org, "u"))
	w.policy(w.org, "pol", u,
		onProjects(ids("p1", "p2"), "InstancesServerCreate"),
		onProjects(ids("p1"), "InstancesServerDelete"),
		onOrg(w.org, "ContainersReadOnly"),
		onProjects(ids("p2", "p1", w.org), "InstancesServerStart"))
	w.policy(w.org, "only-p1", u, onProjects(ids("p1"), "InstancesServerStop"))
	w.policy(w.org, "untouched", u, onProjects(ids("p2"), "InstancesServerRead"))
	k1 := w.key(iam.APIKey{OrganizationID: w.org, Bearer: u, DefaultProjectID: "p1"})
	k2 := w.key(iam.APIKey{OrganizationID: w.org, Bearer: u, DefaultProjectID: "p2"})
	untouched, err := w.store.GetPolicy(w.ctx, "untouched")
	require.NoError(t, err)

	w.expect(t, inProject(u, "p1", "InstancesServerDelete"), granted)
	revisionStep(t, w.store, "delete p1", func() error { return w.store.DeleteProject(w.ctx, "p1") })

	_, err = w.store.GetProject(w.ctx, "p1")
	require.ErrorIs(t, err, iam.ErrNotFound)
	pol, err := w.store.GetPolicy(w.ctx, "pol")
	require.NoError(t, err)
	assert.Equal(t, []iam.Rule{
		onProjects(ids("p2"), "InstancesServerCreate"),
		onOrg(w.org, "ContainersReadOnly"),
		onProjects(ids("p2", w.org), "InstancesServerStart"),
	}, pol.Rules)
	onlyP1, err := w.store.GetPolicy(w.ctx, "only-p1")
	require.NoError(t, err)
	assert.Empty(t, onlyP1.Rules, "its only rule named only p1")
	assert.Equal(t, u, onlyP1.Principal, "the policy itself stays")
	got, err := w.store.GetPolicy(w.ctx, "untouched")
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(untouched, got))

	gk1, err := w.store.GetAPIKey(w.ctx, k1.AccessKey)
	require.NoError(t, err)
	assert.Equal(t, w.org, gk1.DefaultProjectID, "reset to the default project")
	gk2, err := w.store.GetAPIKey(w.ctx, k2.AccessKey)
	require.NoError(t, err)
	assert.Equal(t, "p2", gk2.DefaultProjectID)

	w.expect(t, inProject(u, "p1", "InstancesServerCreate"), isNotFound)
	w.expect(t, inProject(u, "p2", "InstancesServerCreate"), granted)
	w.expect(t, inProject(u, w.org, "InstancesServerStart"), granted)
	// A project created again under the same ID gets nothing of the old
	// one's grants.
	w.project(w.org, "p1")
	w.expect(t, inProject(u, "p1", "InstancesServerCreate"), notGranted)
	w.expect(t, inProject(u, "p1", "InstancesServerDelete"), notGranted)
	w.expect(t, inProject(u, "p1", "InstancesServerStop"), notGranted)
	w.expect(t, inProject(u, "p1", "ContainersReadOnly"), granted) // the organization rule
}

// DESIGN 5b: deleting an organization removes everything in it, at once,
// and nothing else.
func TestStoreDeleteOrganizationCascade(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.user(w.org, "u")
	w.addOrg("beta", "beta-owner")
	w.project("beta", "bp1")
	bu := iam.UserPrincipal(w.user("beta", "bu"))
	ba := iam.ApplicationPrincipal(w.app("beta", "ba", false))
	w.group(iam.Group{ID: "bg", OrganizationID: "beta", UserIDs: ids("bu"), ApplicationIDs: ids("ba")})
	w.set(iam.PermissionSet{Name: "BetaSet", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"beta:*:*"}})
	w.policy("beta", "bpol", bu, onProjects(ids("bp1"), "BetaSet", "InstancesFullAccess"))
	w.policy("beta", "bgpol", iam.GroupPrincipal("bg"), onOrg("beta", "IAMManager"))
	bk := w.key(iam.APIKey{AccessKey: "bk", OrganizationID: "beta", Bearer: ba})
	w.policy(w.org, "apol", iam.UserPrincipal("u"), onProjects(ids("p1"), "InstancesFullAccess"))

	before := dumpStore(t, w.store)
	w.expect(t, inProject(bu, "bp1", "BetaSet"), granted)
	revisionStep(t, w.store, "delete beta", func() error { return w.store.DeleteOrganization(w.ctx, "beta") })

	after := dumpStore(t, w.store)
	require.NotContains(t, after.Orgs, "beta")
	require.Equal(t, []iam.Organization{{ID: "acme", Name: "Org acme"}}, after.Organizations)
	assert.Empty(t, cmp.Diff(before.Orgs["acme"], after.Orgs["acme"]), "the other organization is untouched")

	_, err := w.store.GetOrganization(w.ctx, "beta")
	require.ErrorIs(t, err, iam.ErrNotFound)
	for name, get := range map[string]func() error{
		"default project": func() error { _, err := w.store.GetProject(w.ctx, "beta"); return err },
		"project":         func() error { _, err := w.store.GetProject(w.ctx, "bp1"); return err },
		"owner":           func() error { _, err := w.store.GetUser(w.ctx, "beta-owner"); return err },
		"user":            func() error { _, err := w.store.GetUser(w.ctx, "bu"); return err },
		"application":     func() error { _, err := w.store.GetApplication(w.ctx, "ba"); return err },
		"group":           func() error { _, err := w.store.GetGroup(w.ctx, "bg"); return err },
		"policy":          func() error { _, err := w.store.GetPolicy(w.ctx, "bpol"); return err },
		"set":             func() error { _, err := w.store.GetPermissionSet(w.ctx, "beta", "BetaSet"); return err },
		"key":             func() error { _, err := w.store.GetAPIKey(w.ctx, bk.AccessKey); return err },
		"list projects":   func() error { _, err := w.store.ListProjects(w.ctx, "beta"); return err },
		"list users":      func() error { _, err := w.store.ListUsers(w.ctx, "beta"); return err },
	} {
		require.ErrorIs(t, get(), iam.ErrNotFound, name)
	}

	// Checks: the target is gone, and so are the callers, whatever the
	// target (a caller that still resolved would be "another organization"
	// instead of ErrNotFound).
	for _, tc := range []checkCase{
		{"former user in its former project", inProject(bu, "bp1", "InstancesFullAccess"), isNotFound},
		{"former user at its former organization", atOrg(bu, "beta", "IAMManager"), isNotFound},
		{"former user in another organization's project", inProject(bu, "p1", "InstancesFullAccess"), isNotFound},
		{"former owner in another organization's project", inProject(iam.UserPrincipal("beta-owner"), "p1", "InstancesFullAccess"), isNotFound},
		{"former application in another organization's project", inProject(ba, "p1", "InstancesFullAccess"), isNotFound},
		{"former group in another organization's project", inProject(iam.GroupPrincipal("bg"), "p1", "InstancesFullAccess"), isNotFound},
		{"former key in another organization's project", inProject(iam.APIKeyPrincipal(bk.AccessKey), "p1", "InstancesFullAccess"), isNotFound},
		{"the other organization's user keeps its grant", inProject(iam.UserPrincipal("u"), "p1", "InstancesFullAccess"), granted},
	} {
		t.Run(tc.name, func(t *testing.T) { w.expect(t, tc.req, tc.want) })
	}

	// Every ID is free again.
	w.addOrg("beta", "")
	w.project("beta", "bp1")
	w.user("beta", "bu")
	w.app(w.org, "ba", false)
	w.expect(t, inProject(bu, "bp1", "InstancesFullAccess"), notGranted)
	w.expect(t, inProject(bu, "bp1", "BetaSet"), isUnknown)
}

// DESIGN 5b: deleting a group leaves its policies without a principal;
// its members lose what it gave them, at once.
func TestStoreDeleteGroupCascade(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	u := iam.UserPrincipal(w.user(w.org, "u"))
	w.group(iam.Group{ID: "g", OrganizationID: w.org, UserIDs: ids("u")})
	w.group(iam.Group{ID: "all", OrganizationID: w.org, AllUsers: true})
	w.policy(w.org, "gpol", iam.GroupPrincipal("g"), onProjects(ids("p1"), "InstancesServerCreate"))
	w.policy(w.org, "allpol", iam.GroupPrincipal("all"), onProjects(ids("p1"), "InstancesServerDelete"))
	w.expect(t, inProject(u, "p1", "InstancesServerCreate"), granted)
	w.expect(t, inProject(u, "p1", "InstancesServerDelete"), granted)

	revisionStep(t, w.store, "delete g", func() error { return w.store.DeleteGroup(w.ctx, "g") })
	revisionStep(t, w.store, "delete all", func() error { return w.store.DeleteGroup(w.ctx, "all") })
	for _, id := range []string{"gpol", "allpol"} {
		pol, err := w.store.GetPolicy(w.ctx, id)
		require.NoError(t, err)
		assert.True(t, pol.Principal.IsZero(), "%s: %v", id, pol.Principal)
		assert.Len(t, pol.Rules, 1)
	}
	w.expect(t, inProject(u, "p1", "InstancesServerCreate"), notGranted)
	w.expect(t, inProject(u, "p1", "InstancesServerDelete"), notGranted)
	w.expect(t, inProject(iam.GroupPrincipal("g"), "p1", "InstancesServerCreate"), isNotFound)
	// A group created again under the same ID starts empty-handed.
	w.group(iam.Group{ID: "g", OrganizationID: w.org, UserIDs: ids("u")})
	w.expect(t, inProject(u, "p1", "InstancesServerCreate"), notGranted)
	w.expect(t, inProject(iam.GroupPrincipal("g"), "p1", "InstancesServerCreate"), notGranted)
}

var errBoom = errors.New("boom")

func TestStoreAtomic(t *testing.T) {
	t.Parallel()

	t.Run("an error rolls everything back", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.project(w.org, "p1")
		w.user(w.org, "u")
		w.policy(w.org, "pol", iam.UserPrincipal("u"), onProjects(ids("p1"), "InstancesServerCreate"))
		before := dumpStore(t, w.store)
		evRev := w.ev.Revision()
		err := w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			if _, err := tx.CreateProject(w.ctx, iam.Project{ID: "p2", OrganizationID: w.org, Name: "P2"}); err != nil {
				return err
			}
			if err := tx.DeleteProject(w.ctx, "p1"); err != nil {
				return err
			}
			if err := tx.DeleteUser(w.ctx, "u"); err != nil {
				return err
			}
			if _, err := tx.UpdateOrganization(w.ctx, iam.Organization{ID: w.org, Name: "Renamed"}); err != nil {
				return err
			}
			// Reads inside see the transaction's own writes.
			if _, err := tx.GetProject(w.ctx, "p2"); err != nil {
				return err
			}
			if _, err := tx.GetUser(w.ctx, "u"); !errors.Is(err, iam.ErrNotFound) {
				return errors.New("the transaction does not see its own delete")
			}
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		requireUnchanged(t, w.store, before)
		require.Equal(t, evRev, w.ev.Revision())
		w.expect(t, inProject(iam.UserPrincipal("u"), "p1", "InstancesServerCreate"), granted)
		w.expect(t, inProject(iam.UserPrincipal("u"), "p2", "InstancesServerCreate"), isNotFound)
	})

	t.Run("a panic rolls everything back and panics on", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(w.org, "u")
		before := dumpStore(t, w.store)
		require.PanicsWithValue(t, "boom", func() {
			_ = w.store.Atomic(w.ctx, func(tx iam.Tx) error {
				if _, err := tx.CreateProject(w.ctx, iam.Project{ID: "p2", OrganizationID: w.org, Name: "P2"}); err != nil {
					return err
				}
				if err := tx.DeleteUser(w.ctx, "u"); err != nil {
					return err
				}
				panic("boom")
			})
		})
		requireUnchanged(t, w.store, before)
		// The store is still usable: its lock was released.
		revisionStep(t, w.store, "write after a panic", func() error {
			_, err := w.store.CreateProject(w.ctx, iam.Project{ID: "p3", OrganizationID: w.org, Name: "P3"})
			return err
		})
		w.expect(t, inProject(iam.UserPrincipal("u"), "p3", "InstancesServerCreate"), notGranted)
	})

	t.Run("many writes are one revision and one change", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		var changes []iam.Change
		cancel := w.store.Subscribe(func(c iam.Change) { changes = append(changes, c) })
		defer cancel()
		revisionStep(t, w.store, "atomic", func() error {
			return w.store.Atomic(w.ctx, func(tx iam.Tx) error {
				if _, err := tx.CreateProject(w.ctx, iam.Project{ID: "p1", OrganizationID: w.org, Name: "P1"}); err != nil {
					return err
				}
				if _, err := tx.CreateUser(w.ctx, iam.User{ID: "u", OrganizationID: w.org, Email: "u@acme.test"}); err != nil {
					return err
				}
				_, err := tx.CreatePolicy(w.ctx, iam.Policy{ID: "pol", OrganizationID: w.org, Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{onProjects(ids("p1"), "InstancesServerCreate")}})
				return err
			})
		})
		require.Len(t, changes, 1)
		require.Len(t, changes[0].Events, 3)
		w.expect(t, inProject(iam.UserPrincipal("u"), "p1", "InstancesServerCreate"), granted)
	})

	t.Run("a transaction that writes nothing leaves the revision", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		before := dumpStore(t, w.store)
		require.NoError(t, w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			_, err := tx.ListUsers(w.ctx, w.org)
			return err
		}))
		requireUnchanged(t, w.store, before)
	})

	t.Run("a rejected write inside leaves nothing of itself", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		before := dumpStore(t, w.store)
		require.NoError(t, w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			_, err := tx.CreateUser(w.ctx, iam.User{ID: "second", OrganizationID: w.org, Email: "s@acme.test", Type: iam.UserOwner})
			if !errors.Is(err, iam.ErrConflict) {
				return errors.New("a second owner must be a conflict")
			}
			_, err = tx.CreateProject(w.ctx, iam.Project{ID: "p1", OrganizationID: w.org, Name: "P1"})
			return err
		}))
		after := dumpStore(t, w.store)
		require.Equal(t, before.Revision+1, after.Revision)
		require.Equal(t, before.Orgs[w.org].Users, after.Orgs[w.org].Users)
		require.Len(t, after.Orgs[w.org].Projects, 2)
	})

	t.Run("a transaction cannot be used after it ends", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		var kept iam.Tx
		require.NoError(t, w.store.Atomic(w.ctx, func(tx iam.Tx) error { kept = tx; return nil }))
		before := dumpStore(t, w.store)
		_, err := kept.CreateProject(w.ctx, iam.Project{ID: "late", OrganizationID: w.org, Name: "Late"})
		require.Error(t, err)
		requireUnchanged(t, w.store, before)
	})

	t.Run("a cancelled context writes nothing", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		before := dumpStore(t, w.store)
		ctx, cancel := context.WithCancel(w.ctx)
		cancel()
		_, err := w.store.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: w.org, Name: "P1"})
		require.ErrorIs(t, err, context.Canceled)
		requireUnchanged(t, w.store, before)
	})
}

// Ownership moves in one Atomic write; a write that leaves the
// organization with no owner is forbidden.
func TestStoreOwnership(t *testing.T) {
	t.Parallel()

	t.Run("demote and promote in one write", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.project(w.org, "p1")
		w.user(w.org, "heir")
		revisionStep(t, w.store, "move ownership", func() error {
			return w.store.Atomic(w.ctx, func(tx iam.Tx) error {
				old, err := tx.GetUser(w.ctx, w.owner)
				if err != nil {
					return err
				}
				old.Type = iam.UserMember
				if _, err := tx.UpdateUser(w.ctx, old); err != nil {
					return err
				}
				heir, err := tx.GetUser(w.ctx, "heir")
				if err != nil {
					return err
				}
				heir.Type = iam.UserOwner
				_, err = tx.UpdateUser(w.ctx, heir)
				return err
			})
		})
		heir, err := w.store.GetUser(w.ctx, "heir")
		require.NoError(t, err)
		require.True(t, heir.IsOwner())
		old, err := w.store.GetUser(w.ctx, w.owner)
		require.NoError(t, err)
		require.False(t, old.IsOwner())
		w.expect(t, inProject(iam.UserPrincipal("heir"), "p1", "InstancesFullAccess"), ownerAllow)
		w.expect(t, inProject(iam.UserPrincipal(w.owner), "p1", "InstancesFullAccess"), notGranted)
		// The former owner can now be deleted; the new one cannot.
		require.ErrorIs(t, w.store.DeleteUser(w.ctx, "heir"), iam.ErrForbidden)
		revisionStep(t, w.store, "delete the former owner", func() error { return w.store.DeleteUser(w.ctx, w.owner) })
	})

	t.Run("demotion without a new owner is forbidden", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.user(w.org, "heir")
		before := dumpStore(t, w.store)
		err := w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			old, err := tx.GetUser(w.ctx, w.owner)
			if err != nil {
				return err
			}
			old.Type = iam.UserMember
			if _, err := tx.UpdateUser(w.ctx, old); err != nil {
				return err
			}
			_, err = tx.CreateProject(w.ctx, iam.Project{ID: "p9", OrganizationID: w.org, Name: "P9"})
			return err
		})
		require.ErrorIs(t, err, iam.ErrForbidden)
		requireUnchanged(t, w.store, before)
		w.expect(t, atOrg(iam.UserPrincipal(w.owner), w.org, "IAMManager"), ownerAllow)
	})

	t.Run("demote then delete the former owner, no heir", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		before := dumpStore(t, w.store)
		err := w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			old, err := tx.GetUser(w.ctx, w.owner)
			if err != nil {
				return err
			}
			old.Type = iam.UserMember
			if _, err := tx.UpdateUser(w.ctx, old); err != nil {
				return err
			}
			return tx.DeleteUser(w.ctx, w.owner)
		})
		require.ErrorIs(t, err, iam.ErrForbidden)
		requireUnchanged(t, w.store, before)
	})
}

// The revision grows by one per successful write, cascades included.
func TestStoreRevision(t *testing.T) {
	t.Parallel()
	s := iam.NewMemoryStore()
	ctx := context.Background()
	rev, err := s.Revision(ctx)
	require.NoError(t, err)
	require.Zero(t, rev)
	steps := []struct {
		name  string
		write func() error
	}{
		{"create organization (and its default project)", func() error {
			_, err := s.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
			return err
		}},
		{"create owner", func() error {
			_, err := s.CreateUser(ctx, iam.User{ID: "o", OrganizationID: "acme", Email: "o@acme.test", Type: iam.UserOwner})
			return err
		}},
		{"create project", func() error {
			_, err := s.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "P1"})
			return err
		}},
		{"create user", func() error {
			_, err := s.CreateUser(ctx, iam.User{ID: "u", OrganizationID: "acme", Email: "u@acme.test"})
			return err
		}},
		{"create group", func() error {
			_, err := s.CreateGroup(ctx, iam.Group{ID: "g", OrganizationID: "acme", Name: "G", UserIDs: ids("u")})
			return err
		}},
		{"create policy", func() error {
			_, err := s.CreatePolicy(ctx, iam.Policy{ID: "pol", OrganizationID: "acme", Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{onProjects(ids("p1"), "InstancesFullAccess")}})
			return err
		}},
		{"create key", func() error {
			_, err := s.CreateAPIKey(ctx, iam.APIKey{AccessKey: "k", OrganizationID: "acme", Bearer: iam.UserPrincipal("u"), DefaultProjectID: "p1"})
			return err
		}},
		{"delete project (cascades to the policy and the key)", func() error { return s.DeleteProject(ctx, "p1") }},
		{"delete user (cascades to key, group, policy)", func() error { return s.DeleteUser(ctx, "u") }},
		{"delete organization", func() error { return s.DeleteOrganization(ctx, "acme") }},
	}
	for _, st := range steps {
		revisionStep(t, s, st.name, st.write)
	}
	rev, err = s.Revision(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(len(steps)), rev)
}

// CreateAPIKey returns the secret once; the store keeps only its hash.
func TestStoreAPIKeySecrets(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := iam.UserPrincipal(w.user(w.org, "u"))
	var changes []iam.Change
	cancel := w.store.Subscribe(func(c iam.Change) { changes = append(changes, c) })
	defer cancel()

	generated := w.key(iam.APIKey{OrganizationID: w.org, Bearer: u})
	require.NotEmpty(t, generated.AccessKey)
	require.NotEmpty(t, generated.Secret, "CreateAPIKey returns the secret")
	require.Equal(t, iam.HashSecret(generated.Secret), generated.SecretSHA256)
	require.Len(t, generated.SecretSHA256, 64)

	given := w.key(iam.APIKey{AccessKey: "given", OrganizationID: w.org, Bearer: u, Secret: "s3cret"})
	require.Equal(t, "s3cret", given.Secret)
	require.Equal(t, iam.HashSecret("s3cret"), given.SecretSHA256)

	hashed := w.key(iam.APIKey{AccessKey: "hashed", OrganizationID: w.org, Bearer: u, SecretSHA256: iam.HashSecret("known")})
	require.Empty(t, hashed.Secret, "no secret to give back when only its hash was given")
	require.Equal(t, iam.HashSecret("known"), hashed.SecretSHA256)

	other := w.key(iam.APIKey{OrganizationID: w.org, Bearer: u})
	require.NotEqual(t, generated.Secret, other.Secret, "generated secrets differ")
	require.NotEqual(t, generated.AccessKey, other.AccessKey)

	for _, k := range []iam.APIKey{generated, given, hashed} {
		got, err := w.store.GetAPIKey(w.ctx, k.AccessKey)
		require.NoError(t, err)
		require.Empty(t, got.Secret, "GetAPIKey never returns the secret")
		require.Equal(t, k.SecretSHA256, got.SecretSHA256)
	}
	list, err := w.store.ListAPIKeys(w.ctx, w.org)
	require.NoError(t, err)
	require.Len(t, list, 4)
	for _, k := range list {
		require.Empty(t, k.Secret, "ListAPIKeys never returns the secret")
	}
	updated, err := w.store.UpdateAPIKey(w.ctx, iam.APIKey{AccessKey: generated.AccessKey, OrganizationID: w.org, Bearer: u, Description: "new"})
	require.NoError(t, err)
	require.Empty(t, updated.Secret)
	require.Equal(t, generated.SecretSHA256, updated.SecretSHA256, "an update keeps the hash")
	for _, c := range changes {
		for _, ev := range c.Events {
			if k, ok := ev.Value.(iam.APIKey); ok {
				require.Empty(t, k.Secret, "the change feed never carries a secret")
			}
		}
	}
	require.NotEmpty(t, changes)
}

type eventKey struct {
	Op   iam.Op
	Kind iam.Kind
	ID   string
}

func eventKeys(c iam.Change) []eventKey {
	out := make([]eventKey, len(c.Events))
	for i, ev := range c.Events {
		out[i] = eventKey{ev.Op, ev.Kind, ev.ID}
	}
	return out
}

// Subscribe delivers every committed Change in revision order, before the
// write returns, with its cascades; cancel stops delivery.
func TestStoreSubscribe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.user(w.org, "u")
	w.user(w.org, "u2")
	w.group(iam.Group{ID: "g", OrganizationID: w.org, UserIDs: ids("u", "u2")})
	w.policy(w.org, "pol", iam.UserPrincipal("u"), onProjects(ids("p1"), "InstancesFullAccess"))
	w.policy(w.org, "p1-only", iam.UserPrincipal("u2"), onProjects(ids("p1"), "InstancesServerRead"))
	w.key(iam.APIKey{AccessKey: "k", OrganizationID: w.org, Bearer: iam.UserPrincipal("u"), DefaultProjectID: "p1"})

	var got []iam.Change
	cancel := w.store.Subscribe(func(c iam.Change) { got = append(got, c) })
	var late []iam.Change
	cancelLate := w.store.Subscribe(func(c iam.Change) { late = append(late, c) })
	start, err := w.store.Revision(w.ctx)
	require.NoError(t, err)

	w.project(w.org, "p2")
	require.Len(t, got, 1, "delivered before the write returned")
	require.NoError(t, w.store.DeleteProject(w.ctx, "p1"))
	require.NoError(t, w.store.DeleteUser(w.ctx, "u"))
	_, err = w.store.CreateUser(w.ctx, iam.User{ID: "bad", OrganizationID: w.org, Email: "x"})
	require.Error(t, err)
	cancelLate()
	cancelLate() // twice is harmless
	require.NoError(t, w.store.DeleteGroup(w.ctx, "g"))

	require.Len(t, got, 4, "one change per successful write, none for the rejected one")
	for i, c := range got {
		require.Equal(t, start+uint64(i)+1, c.Revision, "changes come in revision order")
	}
	require.Len(t, late, 3, "cancel stops delivery")

	sorted := func(ks []eventKey) []eventKey {
		return slices.SortedFunc(slices.Values(ks), func(a, b eventKey) int {
			if a.Kind != b.Kind {
				return int(a.Kind) - int(b.Kind)
			}
			if a.Op != b.Op {
				return int(a.Op) - int(b.Op)
			}
			if a.ID < b.ID {
				return -1
			}
			if a.ID > b.ID {
				return 1
			}
			return 0
		})
	}
	assert.Equal(t, []eventKey{{iam.OpPut, iam.KindProject, "p2"}}, eventKeys(got[0]))
	assert.Equal(t, sorted([]eventKey{
		{iam.OpPut, iam.KindPolicy, "pol"},
		{iam.OpPut, iam.KindPolicy, "p1-only"},
		{iam.OpPut, iam.KindAPIKey, "k"},
		{iam.OpDelete, iam.KindProject, "p1"},
	}), sorted(eventKeys(got[1])), "deleting a project lists the policies and keys it touched")
	assert.Equal(t, sorted([]eventKey{
		{iam.OpDelete, iam.KindAPIKey, "k"},
		{iam.OpPut, iam.KindGroup, "g"},
		{iam.OpPut, iam.KindPolicy, "pol"},
		{iam.OpDelete, iam.KindUser, "u"},
	}), sorted(eventKeys(got[2])), "deleting a user lists its keys, groups and policies")
	assert.Equal(t, sorted([]eventKey{{iam.OpDelete, iam.KindGroup, "g"}}), sorted(eventKeys(got[3])))

	// Values after OpPut are the stored entities; nil after OpDelete.
	for _, c := range got {
		for _, ev := range c.Events {
			require.Equal(t, w.org, ev.OrganizationID)
			if ev.Op == iam.OpDelete {
				require.Nil(t, ev.Value, "%+v", ev)
				continue
			}
			require.NotNil(t, ev.Value, "%+v", ev)
			switch v := ev.Value.(type) {
			case iam.Policy:
				stored, err := w.store.GetPolicy(w.ctx, v.ID)
				require.NoError(t, err)
				if v.ID == "pol" && ev.Kind == iam.KindPolicy && c.Revision == got[2].Revision {
					require.True(t, v.Principal.IsZero())
					require.Empty(t, cmp.Diff(stored, v, cmpopts.EquateEmpty()))
				}
			case iam.APIKey:
				require.Equal(t, w.org, v.DefaultProjectID)
			case iam.Group:
				if c.Revision == got[2].Revision {
					require.Equal(t, []string{"u2"}, v.UserIDs)
				}
			case iam.Project:
				require.Equal(t, "p2", v.ID)
			default:
				t.Fatalf("unexpected value %T in %+v", v, ev)
			}
		}
	}
	cancel()
	w.project(w.org, "p3")
	require.Len(t, got, 4)
}

// An organization deleted and created again under the same ID holds
// nothing of the old one: its former principals are unknown, not owners,
// and their grants do not land on the new projects.
func TestStoreRecreatedOrganizationInheritsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addOrg("beta", "beta-owner")
	w.project("beta", "bp1")
	bu := iam.UserPrincipal(w.user("beta", "bu"))
	ba := iam.ApplicationPrincipal(w.app("beta", "ba", false))
	w.group(iam.Group{ID: "bg", OrganizationID: "beta", UserIDs: ids("bu")})
	w.policy("beta", "bpol", bu, onProjects(ids("bp1"), "InstancesFullAccess"))
	w.policy("beta", "bapol", ba, onOrg("beta", "InstancesFullAccess"))
	w.policy("beta", "bgpol", iam.GroupPrincipal("bg"), onProjects(ids("bp1"), "ContainersFullAccess"))
	w.expect(t, inProject(bu, "bp1", "InstancesFullAccess"), granted)

	require.NoError(t, w.store.DeleteOrganization(w.ctx, "beta"))
	w.addOrg("beta", "new-owner")
	w.project("beta", "np1") // a new project in the old one's place

	for _, tc := range []checkCase{
		{"former owner is not the new organization's owner", inProject(iam.UserPrincipal("beta-owner"), "np1", "InstancesFullAccess"), isNotFound},
		{"former owner at the new organization", atOrg(iam.UserPrincipal("beta-owner"), "beta", "IAMManager"), isNotFound},
		{"former user's grants do not land on a new project", inProject(bu, "np1", "InstancesFullAccess"), isNotFound},
		{"former application's grants do not come back", inProject(ba, "beta", "InstancesFullAccess"), isNotFound},
		{"former group", inProject(iam.GroupPrincipal("bg"), "np1", "ContainersFullAccess"), isNotFound},
		{"the new owner", inProject(iam.UserPrincipal("new-owner"), "np1", "InstancesFullAccess"), ownerAllow},
	} {
		t.Run(tc.name, func(t *testing.T) { w.expect(t, tc.req, tc.want) })
	}
}
