package iam_test

// The reverse queries (WhoCan, WhatCan, WhereCan) and CheckBatch, checked
// against Check over every principal, target and permission of a test
// world with two organizations, explicit and special groups, a locked user,
// a managed application, API keys, custom sets with includes and
// conditional rules. The world (rvWorld) is shared with explain_test.go and
// auth_test.go.

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// rvTarget is a project, or an organization when project is "".
type rvTarget struct {
	org, project string
}

func (t rvTarget) String() string {
	if t.project == "" {
		return "organization " + t.org
	}
	return "project " + t.project
}

// req builds a request for p at the target, carrying the condition context
// of c.
func (t rvTarget) req(p iam.Principal, perm string, c iam.Request) iam.Request {
	c.Principal, c.Permission = p, perm
	if t.project == "" {
		c.OrganizationID = t.org
	} else {
		c.ProjectID = t.project
	}
	return c
}

// rvWorld is a world of two organizations, with the lists its agreement
// tests iterate over.
type rvWorld struct {
	*world
	other      string                   // the second organization
	principals []iam.Principal          // every caller: users, applications, groups, API keys, of both organizations
	actors     []iam.Principal          // the users and applications of both organizations (WhoCan's candidates)
	targets    []rvTarget               // every project and organization
	projects   map[string][]string      // organization -> its project IDs, sorted
	perms      []string                 // every set name of either catalogue, and a handful of triples
	setNames   map[string][]string      // organization -> every set name of its catalogue
	orgOf      map[iam.Principal]string // principal -> its organization
	keys       map[string]iam.APIKey    // by access key, as CreateAPIKey returned them (with Secret)
	contexts   map[string]iam.Request   // condition contexts to run requests with
	focus      map[string]bool          // the permissions the world's rules name, with their includes, and the triples
}

// primaryContext is the condition context in which the agreement tests
// run every permission; in the others they run a sample (permsFor).
const primaryContext = "office, 10/8, terraform"

// permsFor returns the permissions to try in context cname: all of them in
// the primary context; elsewhere the focus and one set name in ten, so
// that every principal is still covered but the run stays short.
func (w *rvWorld) permsFor(cname string) []string {
	if cname == primaryContext {
		return w.perms
	}
	var out []string
	for i, p := range w.perms {
		if w.focus[p] || i%10 == len(cname)%10 {
			out = append(out, p)
		}
	}
	return out
}

// The condition expressions of the world.
const (
	rvCondIP        = `request.ip == "203.0.113.7"`
	rvCondRange     = `inIpRange(request.ip, "10.0.0.0/8")`
	rvCondAgent     = `request.user_agent.contains("terraform/")`
	rvCondResource  = `resource.name.startsWith("prod-")` // a runtime error on a request without a resource
	rvCondHours     = `request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18`
	rvCondHasResID  = `has(resource.id)`
	rvWorldProjects = 3
)

// rvMonday10 is Monday 2026-01-05 10:00 UTC, 11:00 in Paris.
var rvMonday10 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func newRVWorld(t testing.TB) *rvWorld {
	t.Helper()
	w := &rvWorld{
		world:    newWorld(t, iam.WithConditions(conditions.New())),
		other:    "globex",
		projects: map[string][]string{},
		setNames: map[string][]string{},
		orgOf:    map[iam.Principal]string{},
		keys:     map[string]iam.APIKey{},
	}
	acme, globex := w.org, w.other
	w.addOrg(globex, "globex-owner")

	// Projects: acme (default), p-a, p-b, p-c; globex (default), g-x.
	for _, p := range []string{"p-a", "p-b", "p-c"} {
		w.project(acme, p)
	}
	w.project(globex, "g-x")

	// Principals.
	for _, u := range []string{"ana", "bob", "dora"} {
		w.user(acme, u)
	}
	_, err := w.store.CreateUser(w.ctx, iam.User{ID: "carl", OrganizationID: acme, Email: "carl@acme.test", Locked: true})
	require.NoError(t, err)
	w.user(globex, "gus")
	w.app(acme, "app-ci", false)
	w.app(acme, "app-bot", false)
	w.app(acme, "app-mgd", true)
	w.app(globex, "app-gx", false)

	// Custom sets, with includes, in acme; one in globex.
	w.set(iam.PermissionSet{Name: "Scout", OrganizationID: acme, ScopeType: iam.ScopeProjects, Permissions: []string{"deploy:release:read"}})
	w.set(iam.PermissionSet{Name: "DeployAll", OrganizationID: acme, ScopeType: iam.ScopeProjects, Permissions: []string{"deploy:release:create"}, Includes: []string{"Scout", "InstancesServerCreate"}})
	w.set(iam.PermissionSet{Name: "AuditProj", OrganizationID: acme, ScopeType: iam.ScopeProjects, Permissions: []string{"audit:event:list"}})
	w.set(iam.PermissionSet{Name: "AuditOrg", OrganizationID: acme, ScopeType: iam.ScopeOrganization, Permissions: []string{"audit:log:*"}, Includes: []string{"BillingReadOnly"}})
	w.set(iam.PermissionSet{Name: "GlobexOps", OrganizationID: globex, ScopeType: iam.ScopeProjects, Permissions: []string{"ops:job:run"}, Includes: []string{"ContainersReadOnly"}})

	// Groups.
	w.group(iam.Group{ID: "devs", OrganizationID: acme, UserIDs: []string{"ana", "bob", "carl"}, ApplicationIDs: []string{"app-ci"}})
	w.group(iam.Group{ID: "everyone", OrganizationID: acme, AllUsers: true})
	w.group(iam.Group{ID: "robots", OrganizationID: acme, AllApplications: true})
	w.group(iam.Group{ID: "managed-only", OrganizationID: acme, ApplicationIDs: []string{"app-mgd"}})
	w.group(iam.Group{ID: "empty", OrganizationID: acme})
	w.group(iam.Group{ID: "g-all", OrganizationID: globex, AllUsers: true, AllApplications: true})

	// Policies.
	w.policy(acme, "pol-ana", iam.UserPrincipal("ana"),
		onProjects(ids("p-a"), "InstancesFullAccess"),
		onOrg(acme, "BillingReadOnly"),
		iam.Rule{Scope: iam.ProjectsScope("p-b"), PermissionSets: []string{"InstancesFullAccess"}, Condition: rvCondHours})
	w.policy(acme, "pol-devs", iam.GroupPrincipal("devs"),
		onProjects(ids("p-a", "p-b"), "DeployAll", "ObjectStorageReadOnly"),
		iam.Rule{Scope: iam.OrganizationScope(acme), PermissionSets: []string{"BillingManager"}, Condition: rvCondRange})
	w.policy(acme, "pol-everyone", iam.GroupPrincipal("everyone"), onOrg(acme, "InstancesReadOnly"))
	w.policy(acme, "pol-robots", iam.GroupPrincipal("robots"),
		onProjects(ids("p-c"), "ContainersFullAccess"),
		iam.Rule{Scope: iam.OrganizationScope(acme), PermissionSets: []string{"ObjectStorageBucketsRead"}, Condition: rvCondAgent})
	w.policy(acme, "pol-bob", iam.UserPrincipal("bob"),
		onOrg(acme, "IAMReadOnly"),
		onProjects(ids("p-b", "p-c"), "Scout", "AuditProj"),
		iam.Rule{Scope: iam.ProjectsScope("p-a"), PermissionSets: []string{"RelationalDatabasesReadOnly"}, Condition: rvCondResource})
	w.policy(acme, "pol-carl", iam.UserPrincipal("carl"), onOrg(acme, "AllProductsFullAccess"), onOrg(acme, "OrganizationManager"))
	w.policy(acme, "pol-dora", iam.UserPrincipal("dora"),
		iam.Rule{Scope: iam.ProjectsScope("p-c"), PermissionSets: []string{"InstancesServerStart"}, Condition: rvCondIP},
		iam.Rule{Scope: iam.OrganizationScope(acme), PermissionSets: []string{"AuditOrg"}, Condition: rvCondHasResID})
	w.policy(acme, "pol-app-ci", iam.ApplicationPrincipal("app-ci"), onProjects(ids(acme), "RelationalDatabasesFullAccess"), onOrg(acme, "AuditOrg"))
	w.policy(acme, "pol-app-bot", iam.ApplicationPrincipal("app-bot"), onProjects(ids("p-b"), "AuditProj"))
	w.policy(acme, "pol-managed", iam.GroupPrincipal("managed-only"), onProjects(ids("p-b"), "ObjectStorageFullAccess"))
	w.policy(acme, "pol-empty-group", iam.GroupPrincipal("empty"), onOrg(acme, "AllProductsFullAccess"))
	w.policy(acme, "pol-nobody", iam.Principal{}, onOrg(acme, "AllProductsFullAccess"))
	w.policy(globex, "pol-gus", iam.UserPrincipal("gus"), onOrg(globex, "AllProductsFullAccess"))
	w.policy(globex, "pol-g-all", iam.GroupPrincipal("g-all"), onProjects(ids("g-x"), "GlobexOps"))

	// API keys: one per kind of bearer, one expired, one of a locked user.
	for _, k := range []iam.APIKey{
		{AccessKey: "KEYANA00000000000001", OrganizationID: acme, Bearer: iam.UserPrincipal("ana")},
		{AccessKey: "KEYBOB00000000000001", OrganizationID: acme, Bearer: iam.UserPrincipal("bob"), ExpiresAt: clockStart.Add(-time.Hour)},
		{AccessKey: "KEYCARL0000000000001", OrganizationID: acme, Bearer: iam.UserPrincipal("carl")},
		{AccessKey: "KEYAPPCI000000000001", OrganizationID: acme, Bearer: iam.ApplicationPrincipal("app-ci"), ExpiresAt: clockStart.Add(24 * time.Hour), DefaultProjectID: "p-c"},
		{AccessKey: "KEYOWNER000000000001", OrganizationID: acme, Bearer: iam.UserPrincipal(w.owner)},
		{AccessKey: "KEYGUS00000000000001", OrganizationID: globex, Bearer: iam.UserPrincipal("gus")},
	} {
		out := w.key(k)
		w.keys[out.AccessKey] = out
	}

	// The lists to iterate over, read back from the store.
	builtin, err := w.store.ListPermissionSets(w.ctx, "")
	require.NoError(t, err)
	permSeen := map[string]bool{}
	for _, org := range []string{acme, globex} {
		projects, err := w.store.ListProjects(w.ctx, org)
		require.NoError(t, err)
		for _, p := range projects {
			w.projects[org] = append(w.projects[org], p.ID)
			w.targets = append(w.targets, rvTarget{org: org, project: p.ID})
		}
		slices.Sort(w.projects[org])
		w.targets = append(w.targets, rvTarget{org: org})
		own, err := w.store.ListPermissionSets(w.ctx, org)
		require.NoError(t, err)
		for _, ps := range slices.Concat(builtin, own) {
			w.setNames[org] = append(w.setNames[org], ps.Name)
			if !permSeen[ps.Name] {
				permSeen[ps.Name] = true
				w.perms = append(w.perms, ps.Name)
			}
		}
		users, err := w.store.ListUsers(w.ctx, org)
		require.NoError(t, err)
		for _, u := range users {
			p := iam.UserPrincipal(u.ID)
			w.actors = append(w.actors, p)
			w.orgOf[p] = org
		}
		apps, err := w.store.ListApplications(w.ctx, org)
		require.NoError(t, err)
		for _, a := range apps {
			p := iam.ApplicationPrincipal(a.ID)
			w.actors = append(w.actors, p)
			w.orgOf[p] = org
		}
		groups, err := w.store.ListGroups(w.ctx, org)
		require.NoError(t, err)
		for _, g := range groups {
			w.principals = append(w.principals, iam.GroupPrincipal(g.ID))
			w.orgOf[iam.GroupPrincipal(g.ID)] = org
		}
	}
	w.principals = append(w.principals, w.actors...)
	for _, ak := range sortedMapKeys(w.keys) {
		p := iam.APIKeyPrincipal(ak)
		w.principals = append(w.principals, p)
		w.orgOf[p] = w.keys[ak].OrganizationID
	}
	triples := []string{
		"instance:server:create", // InstancesFullAccess, InstancesServerCreate, DeployAll's include
		"instance:volume:read",
		"object-storage:bucket:list",
		"containers:namespace:create",
		"deploy:release:create", // acme's own sets only
		"deploy:release:read",
		"audit:event:list", // project-level (AuditProj)
		"audit:log:read",   // organization-level (AuditOrg): a scope mismatch in a project
		"audit:event:read", // no pattern matches it: unknown
		"billing:invoice:read",
		"iam:user:read",
		"ops:job:run",     // globex's own set only
		"nosuch:thing:do", // no set holds it
		"rdb:instance:read",
	}
	w.perms = append(w.perms, triples...)
	w.focus = map[string]bool{}
	for _, p := range triples {
		w.focus[p] = true
	}
	for _, org := range []string{acme, globex} {
		policies, err := w.store.ListPolicies(w.ctx, org)
		require.NoError(t, err)
		var add func(name string)
		add = func(name string) {
			if w.focus[name] {
				return
			}
			w.focus[name] = true
			ps, err := w.store.GetPermissionSet(w.ctx, org, name)
			if err != nil {
				ps, err = w.store.GetPermissionSet(w.ctx, "", name)
			}
			require.NoError(t, err, "set %s", name)
			for _, inc := range ps.Includes {
				add(inc)
			}
		}
		for _, pol := range policies {
			for _, r := range pol.Rules {
				for _, name := range r.PermissionSets {
					add(name)
				}
			}
		}
	}
	w.contexts = map[string]iam.Request{
		"no context": {},
		"office, 10/8, terraform": {
			IP: netip.MustParseAddr("10.1.2.3"), Time: rvMonday10, UserAgent: "terraform/1.7.0",
		},
		"evening, 203.0.113.7, prod resource": {
			IP: netip.MustParseAddr("203.0.113.7"), Time: rvMonday10.Add(9 * time.Hour), UserAgent: "curl/8.5",
			Resource: &iam.Resource{ID: "db-1", Name: "prod-db", Locality: "fr-par-1"},
		},
	}
	return w
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rvErrClass names the sentinel an error matches, for comparing errors of
// different calls ("" for nil).
func rvErrClass(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch, iam.ErrForbidden, iam.ErrExpired, iam.ErrUnauthenticated} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "unclassified: " + err.Error()
}

// comparePrincipals orders principals as WhoCan must: by type (users
// first), then by ID.
func comparePrincipals(a, b iam.Principal) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
}

// TestReverseWorldSanity pins a few answers of the world, so that the
// agreement tests below compare non-trivial answers.
func TestReverseWorldSanity(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	office := w.contexts["office, 10/8, terraform"]
	for _, tc := range []struct {
		name string
		req  iam.Request
		want outcome
	}{
		{"own policy", inProject(iam.UserPrincipal("ana"), "p-a", "InstancesServerCreate"), granted},
		{"explicit group, custom include", inProject(iam.UserPrincipal("bob"), "p-a", "Scout"), granted},
		{"all-users group", inProject(iam.UserPrincipal("dora"), "p-c", "InstancesServerList"), granted},
		{"all-applications group", inProject(iam.ApplicationPrincipal("app-bot"), "p-c", "ContainersFullAccess"), granted},
		{"managed application is not in the all-applications group", inProject(iam.ApplicationPrincipal("app-mgd"), "p-c", "ContainersFullAccess"), notGranted},
		{"managed application in an explicit group", inProject(iam.ApplicationPrincipal("app-mgd"), "p-b", "ObjectStorageFullAccess"), granted},
		{"locked user", inProject(iam.UserPrincipal("carl"), "p-a", "InstancesServerList"), locked},
		{"owner", atOrg(iam.UserPrincipal(w.owner), w.org, "OrganizationManager"), ownerAllow},
		{"other organization", inProject(iam.UserPrincipal("gus"), "p-a", "InstancesServerList"), otherOrg},
		{"expired key", inProject(iam.APIKeyPrincipal("KEYBOB00000000000001"), "p-b", "Scout"), expired},
		{"policy without principal grants nothing", inProject(iam.UserPrincipal("dora"), "p-a", "InstancesFullAccess"), notGranted},
	} {
		w.expect(t, tc.req, tc.want)
	}
	d, err := w.ev.Check(w.ctx, rvTarget{org: w.org}.req(iam.UserPrincipal("ana"), "BillingManager", office))
	require.NoError(t, err)
	assert.True(t, d.Allowed, "a conditional group grant holds in the office context")
	d, err = w.ev.Check(w.ctx, rvTarget{org: w.org}.req(iam.UserPrincipal("ana"), "BillingManager", iam.Request{}))
	require.NoError(t, err)
	assert.False(t, d.Allowed, "a conditional group grant fails without an IP")
}

// TestReverseWhoCanAgreesWithCheck: for every target, permission and
// condition context, WhoCan lists exactly the users and applications that
// Check allows, users first, then by ID, never a locked user, and fails
// exactly as Check fails.
func TestReverseWhoCanAgreesWithCheck(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	nonEmpty := 0
	for _, cname := range sortedMapKeys(w.contexts) {
		c := w.contexts[cname]
		for _, tg := range w.targets {
			for _, perm := range w.permsFor(cname) {
				q := tg.req(iam.Principal{}, perm, c)
				got, err := w.ev.WhoCan(w.ctx, q)
				var want []iam.Principal
				var checkErr error
				for _, a := range w.actors {
					d, cerr := w.ev.Check(w.ctx, tg.req(a, perm, c))
					if cerr != nil {
						checkErr = cerr
						continue
					}
					if d.Allowed {
						want = append(want, a)
					}
				}
				where := fmt.Sprintf("[%s] WhoCan(%s, %s)", cname, tg, perm)
				if checkErr != nil {
					require.Error(t, err, "%s: Check fails with %v", where, checkErr)
					require.Equal(t, rvErrClass(checkErr), rvErrClass(err), "%s: Check fails with %v, WhoCan with %v", where, checkErr, err)
					continue
				}
				require.NoError(t, err, where)
				require.True(t, slices.IsSortedFunc(got, comparePrincipals), "%s: not sorted by type then ID: %v", where, got)
				slices.SortFunc(want, comparePrincipals)
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("%s disagrees with Check (-Check +WhoCan):\n%s", where, diff)
				}
				for _, p := range got {
					require.NotEqual(t, iam.UserPrincipal("carl"), p, "%s lists a locked user", where)
					require.Contains(t, []iam.PrincipalType{iam.PrincipalUser, iam.PrincipalApplication}, p.Type, where)
				}
				if len(got) > 1 {
					nonEmpty++
				}
			}
		}
	}
	require.Greater(t, nonEmpty, 100, "the world should give many non-trivial WhoCan answers")
}

// TestReverseWhoCanDetails pins WhoCan's documented properties on known
// answers.
func TestReverseWhoCanDetails(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	who := func(q iam.Request) []iam.Principal {
		t.Helper()
		got, err := w.ev.WhoCan(w.ctx, q)
		require.NoError(t, err)
		return got
	}
	// InstancesReadOnly is granted to every user on all projects: every
	// unlocked user of acme (owner included), no application, no locked
	// user, nobody of globex.
	got := who(iam.Request{ProjectID: "p-b", Permission: "InstancesServerList"})
	assert.Equal(t, []iam.Principal{
		iam.UserPrincipal("acme-owner"), iam.UserPrincipal("ana"), iam.UserPrincipal("bob"), iam.UserPrincipal("dora"),
	}, got)
	// Users first, then applications, each sorted by ID; explicit group
	// members (app-ci), the managed application through its explicit
	// group.
	got = who(iam.Request{ProjectID: "p-b", Permission: "ObjectStorageBucketsRead"})
	assert.Equal(t, []iam.Principal{
		iam.UserPrincipal("acme-owner"), iam.UserPrincipal("ana"), iam.UserPrincipal("bob"),
		iam.ApplicationPrincipal("app-ci"), iam.ApplicationPrincipal("app-mgd"),
	}, got)
	// The all-applications group: never the managed application.
	got = who(iam.Request{ProjectID: "p-c", Permission: "ContainersFullAccess"})
	assert.Equal(t, []iam.Principal{
		iam.UserPrincipal("acme-owner"), iam.ApplicationPrincipal("app-bot"), iam.ApplicationPrincipal("app-ci"),
	}, got)
	// Only the owner: a set nobody is granted. A policy without a
	// principal, and one on an empty group, add no one.
	got = who(iam.Request{ProjectID: "p-a", Permission: "AllProductsFullAccess"})
	assert.Equal(t, []iam.Principal{iam.UserPrincipal("acme-owner")}, got)
	// req.Principal is ignored.
	got2, err := w.ev.WhoCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("gus"), ProjectID: "p-a", Permission: "AllProductsFullAccess"})
	require.NoError(t, err)
	assert.Equal(t, got, got2)
	// Errors: as Check's, in its order.
	_, err = w.ev.WhoCan(w.ctx, iam.Request{Permission: "InstancesFullAccess"})
	require.ErrorIs(t, err, iam.ErrInvalid)
	_, err = w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "p-a", OrganizationID: w.org, Permission: "InstancesFullAccess"})
	require.ErrorIs(t, err, iam.ErrInvalid)
	_, err = w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "nope", Permission: "InstancesFullAccess"})
	require.ErrorIs(t, err, iam.ErrNotFound)
	_, err = w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "p-a", Permission: "InstanceFullAccess"})
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
	_, err = w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "p-a", Permission: "IAMManager"})
	require.ErrorIs(t, err, iam.ErrScopeMismatch)
	_, err = w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "p-a", Permission: "instance:*:read"})
	require.ErrorIs(t, err, iam.ErrInvalid)
	// A write is seen at once: locking a user drops it.
	u, err := w.store.GetUser(w.ctx, "ana")
	require.NoError(t, err)
	u.Locked = true
	_, err = w.store.UpdateUser(w.ctx, u)
	require.NoError(t, err)
	got = who(iam.Request{ProjectID: "p-b", Permission: "InstancesServerList"})
	assert.NotContains(t, got, iam.UserPrincipal("ana"))
}

// TestReverseWhatCanAgreesWithCheck: for every principal, target and
// condition context, WhatCan lists exactly the set names of the target's
// catalogue that Check allows, sorted, without duplicates.
func TestReverseWhatCanAgreesWithCheck(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	for _, cname := range sortedMapKeys(w.contexts) {
		c := w.contexts[cname]
		for _, p := range w.principals {
			for _, tg := range w.targets {
				where := fmt.Sprintf("[%s] WhatCan(%s, %s)", cname, p, tg)
				got, err := w.ev.WhatCan(w.ctx, tg.req(p, "", c))
				require.NoError(t, err, where)
				require.True(t, slices.IsSorted(got), "%s: not sorted: %v", where, got)
				require.Equal(t, len(got), len(slices.Compact(slices.Clone(got))), "%s: duplicates: %v", where, got)
				var want []string
				for _, name := range w.setNames[tg.org] {
					d, err := w.ev.Check(w.ctx, tg.req(p, name, c))
					if err != nil {
						require.ErrorIs(t, err, iam.ErrScopeMismatch, "%s: Check(%s)", where, name)
						continue
					}
					if d.Allowed {
						want = append(want, name)
					}
				}
				slices.Sort(want)
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("%s disagrees with Check (-Check +WhatCan):\n%s", where, diff)
				}
			}
		}
	}
}

// TestReverseWhatCanDetails pins a few answers: includes expanded, the
// organization lists organization sets and sets held in all projects.
func TestReverseWhatCanDetails(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	what := func(q iam.Request) []string {
		t.Helper()
		got, err := w.ev.WhatCan(w.ctx, q)
		require.NoError(t, err)
		return got
	}
	got := what(iam.Request{Principal: iam.UserPrincipal("bob"), ProjectID: "p-a"})
	assert.Contains(t, got, "DeployAll")
	assert.Contains(t, got, "Scout", "includes are expanded")
	assert.Contains(t, got, "InstancesServerCreate", "includes of catalogue sets are expanded")
	assert.Contains(t, got, "ObjectStorageBucketsRead", "XReadOnly includes are expanded")
	assert.NotContains(t, got, "IAMReadOnly", "an organization set is not held in a project")
	got = what(iam.Request{Principal: iam.UserPrincipal("bob"), OrganizationID: w.org})
	assert.Contains(t, got, "IAMReadOnly")
	assert.Contains(t, got, "IAMUserReadOnly")
	assert.Contains(t, got, "InstancesReadOnly", "a set held in all projects is held at the organization")
	assert.NotContains(t, got, "Scout", "a set held in listed projects is not held at the organization")
	assert.Empty(t, what(iam.Request{Principal: iam.UserPrincipal("carl"), ProjectID: "p-a"}), "a locked user holds nothing")
	assert.Empty(t, what(iam.Request{Principal: iam.UserPrincipal("gus"), ProjectID: "p-a"}), "another organization's user holds nothing")
	assert.Empty(t, what(iam.Request{Principal: iam.APIKeyPrincipal("KEYBOB00000000000001"), ProjectID: "p-b"}), "an expired key holds nothing")
	owner := what(iam.Request{Principal: iam.UserPrincipal(w.owner), OrganizationID: w.org})
	assert.Len(t, owner, len(w.setNames[w.org]), "the owner holds every set at the organization")
	_, err := w.ev.WhatCan(w.ctx, iam.Request{ProjectID: "p-a"})
	require.ErrorIs(t, err, iam.ErrInvalid)
	_, err = w.ev.WhatCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("nobody"), ProjectID: "p-a"})
	require.ErrorIs(t, err, iam.ErrNotFound)
	_, err = w.ev.WhatCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "nope"})
	require.ErrorIs(t, err, iam.ErrNotFound)
}

// TestReverseWhereCanAgreesWithCheck: for every principal, permission and
// condition context, WhereCan lists exactly the projects of the caller's
// organization where Check allows, sorted, and fails as Check fails.
func TestReverseWhereCanAgreesWithCheck(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	nonTrivial := 0
	for _, cname := range sortedMapKeys(w.contexts) {
		c := w.contexts[cname]
		for _, p := range w.principals {
			org := w.orgOf[p]
			for _, perm := range w.permsFor(cname) {
				where := fmt.Sprintf("[%s] WhereCan(%s, %s)", cname, p, perm)
				q := c
				q.Principal, q.Permission = p, perm
				got, err := w.ev.WhereCan(w.ctx, q)
				var want []string
				var checkErr error
				for _, project := range w.projects[org] {
					d, cerr := w.ev.Check(w.ctx, rvTarget{org: org, project: project}.req(p, perm, c))
					if cerr != nil {
						checkErr = cerr
						continue
					}
					if d.Allowed {
						want = append(want, project)
					}
				}
				if checkErr != nil {
					require.Error(t, err, "%s: Check fails with %v", where, checkErr)
					require.Equal(t, rvErrClass(checkErr), rvErrClass(err), "%s: Check fails with %v, WhereCan with %v", where, checkErr, err)
					continue
				}
				require.NoError(t, err, where)
				require.True(t, slices.IsSorted(got), "%s: not sorted: %v", where, got)
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("%s disagrees with Check (-Check +WhereCan):\n%s", where, diff)
				}
				if len(got) > 0 && len(got) < len(w.projects[org]) {
					nonTrivial++
				}
			}
		}
	}
	require.Greater(t, nonTrivial, 50, "the world should give many partial WhereCan answers")
}

// TestReverseWhereCanDetails pins WhereCan's documented properties.
func TestReverseWhereCanDetails(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	where := func(q iam.Request) []string {
		t.Helper()
		got, err := w.ev.WhereCan(w.ctx, q)
		require.NoError(t, err)
		return got
	}
	// ana holds InstancesFullAccess in p-a, and in p-b during Paris office
	// hours; the clock (Thursday 12:00 UTC) is in them, 19:00 UTC is not.
	evening := rvMonday10.Add(9 * time.Hour)
	assert.Equal(t, []string{"p-a", "p-b"}, where(iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "InstancesServerDelete"}))
	assert.Equal(t, []string{"p-a"}, where(iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "InstancesServerDelete", Time: evening}))
	assert.Equal(t, []string{"p-a", "p-b"}, where(iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "deploy:release:create"}))
	assert.Equal(t, []string{"acme", "p-a", "p-b", "p-c"}, where(iam.Request{Principal: iam.UserPrincipal("dora"), Permission: "InstancesServerList"}), "all projects")
	assert.Equal(t, []string{"acme", "p-a", "p-b", "p-c"}, where(iam.Request{Principal: iam.UserPrincipal(w.owner), Permission: "AllProductsFullAccess"}), "the owner: every project")
	assert.Equal(t, []string{}, where(iam.Request{Principal: iam.UserPrincipal("carl"), Permission: "InstancesServerList"}), "a locked user: none, as an empty list")
	assert.Equal(t, []string{"p-a"}, where(iam.Request{Principal: iam.APIKeyPrincipal("KEYANA00000000000001"), Permission: "InstancesServerDelete", Time: evening}), "a key: its bearer's")
	assert.Equal(t, []string{"g-x"}, where(iam.Request{Principal: iam.GroupPrincipal("g-all"), Permission: "GlobexOps"}), "a group: its own policies")
	_, err := w.ev.WhereCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "p-a", Permission: "InstancesFullAccess"})
	require.ErrorIs(t, err, iam.ErrInvalid, "a target is not asked for")
	_, err = w.ev.WhereCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "IAMManager"})
	require.ErrorIs(t, err, iam.ErrScopeMismatch)
	_, err = w.ev.WhereCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "NoSuchSet"})
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
	_, err = w.ev.WhereCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("nobody"), Permission: "InstancesFullAccess"})
	require.ErrorIs(t, err, iam.ErrNotFound)
	_, err = w.ev.WhereCan(w.ctx, iam.Request{Principal: iam.APIKeyPrincipal("NOSUCHKEY00000000001"), Permission: "InstancesFullAccess"})
	require.ErrorIs(t, err, iam.ErrNotFound)
	// A project created later is covered at once by a rule on the
	// organization.
	w.project(w.org, "p-new")
	assert.Contains(t, where(iam.Request{Principal: iam.UserPrincipal("dora"), Permission: "InstancesServerList"}), "p-new")
}

// allRequests is every principal x target x permission of perms in one
// condition context.
//
// A set name unknown to the target's organization fails before the
// principal is read, and costs a "did you mean" search: it is asked for the
// first principal only.
func (w *rvWorld) allRequests(c iam.Request, perms []string) []iam.Request {
	known := map[string]map[string]bool{}
	for org, names := range w.setNames {
		known[org] = map[string]bool{}
		for _, n := range names {
			known[org][n] = true
		}
	}
	var out []iam.Request
	for i, p := range w.principals {
		for _, tg := range w.targets {
			for _, perm := range perms {
				if i > 0 && !iam.IsPermission(perm) && !known[tg.org][perm] {
					continue
				}
				out = append(out, tg.req(p, perm, c))
			}
		}
	}
	return out
}

// TestReverseCheckBatchAgreesWithCheck: CheckBatch returns, for each
// request, exactly what Check returns, errors included.
func TestReverseCheckBatchAgreesWithCheck(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	// Every request in the primary context (CheckBatch and Check share the
	// conditions' code; the other contexts are the reverse queries' work).
	for _, cname := range []string{primaryContext} {
		reqs := w.allRequests(w.contexts[cname], w.perms)
		// Malformed and unknown requests ride along.
		reqs = append(reqs,
			iam.Request{ProjectID: "p-a", Permission: "InstancesFullAccess"},
			iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "InstancesFullAccess"},
			iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "nope", Permission: "InstancesFullAccess"},
			iam.Request{Principal: iam.UserPrincipal("nobody"), ProjectID: "p-a", Permission: "InstancesFullAccess"},
			iam.Request{Principal: iam.APIKeyPrincipal("NOSUCHKEY00000000001"), ProjectID: "p-a", Permission: "InstancesFullAccess"},
			iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "p-a", Permission: "instance:*:create"},
		)
		res := w.ev.CheckBatch(w.ctx, reqs)
		require.Len(t, res, len(reqs))
		allowed := 0
		for i, req := range reqs {
			d, err := w.ev.Check(w.ctx, req)
			got := res[i]
			if d != got.Decision || (err == nil) != (got.Err == nil) ||
				err != nil && (err.Error() != got.Err.Error() || rvErrClass(err) != rvErrClass(got.Err) || got.Decision.Allowed) {
				t.Fatalf("[%s] request %d %+v: CheckBatch answers %+v, %v; Check %+v, %v", cname, i, req, got.Decision, got.Err, d, err)
			}
			if d.Allowed {
				allowed++
			}
		}
		require.Greater(t, allowed, 500, "[%s] the batch should hold many allows", cname)
	}
	require.Empty(t, w.ev.CheckBatch(w.ctx, nil))
}

// TestReverseCheckBatchOneState: a batch answers every request against one
// state of the index, and its decisions carry that revision.
func TestReverseCheckBatchOneState(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	reqs := []iam.Request{
		inProject(iam.UserPrincipal("ana"), "p-a", "InstancesFullAccess"),
		inProject(iam.UserPrincipal("dora"), "p-a", "InstancesServerList"),
		atOrg(iam.UserPrincipal("bob"), w.org, "IAMReadOnly"),
	}
	res := w.ev.CheckBatch(w.ctx, reqs)
	rev := w.ev.Revision()
	for i, r := range res {
		require.NoError(t, r.Err)
		require.True(t, r.Decision.Allowed, "request %d", i)
		require.Equal(t, rev, r.Decision.Revision, "request %d", i)
	}
}
