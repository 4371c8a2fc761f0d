package iam_test

// One table test per evaluation rule of docs/semantics.md, and the order
// of Check's errors ("The order of a check" there). Every case is named
// after what it rules out, and would fail if the rule were broken.

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

type checkCase struct {
	name string
	req  iam.Request
	want outcome
}

// runChecks runs each case as a parallel subtest; the world must not change
// while they run.
func runChecks(t *testing.T, w *world, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w.expect(t, tc.req, tc.want)
		})
	}
}

// concreteTriples lists the known triples of a catalogue: every declared
// permission, and for the patterns of services that declare none, a
// concrete triple each matches (each "*" replaced by a segment of its
// own).
func concreteTriples(sets []iam.PermissionSet) []string {
	seen := map[string]bool{}
	declared := map[string]bool{}
	var out []string
	for _, ps := range sets {
		for _, d := range ps.Declared {
			declared[strings.Split(d, ":")[0]] = true
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	for _, ps := range sets {
		for _, p := range ps.Permissions {
			if declared[strings.Split(p, ":")[0]] {
				continue
			}
			segs := strings.Split(p, ":")
			for i, s := range segs {
				if s == "*" {
					segs[i] = "zz" + []string{"svc", "res", "act"}[i]
				}
			}
			c := strings.Join(segs, ":")
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// knownInProjects is a reference for "a project-scoped set has a pattern
// matching the triple", written against the public API only.
func knownInProjects(sets []iam.PermissionSet, triple string) bool {
	for _, ps := range sets {
		if ps.ScopeType != iam.ScopeProjects {
			continue
		}
		for _, p := range ps.Permissions {
			if iam.MatchPermission(p, triple) {
				return true
			}
		}
	}
	return false
}

// Rule 1: every principal starts with nothing.
func TestRule1DefaultDeny(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	u := iam.UserPrincipal(w.user(w.org, "fresh-user"))
	a := iam.ApplicationPrincipal(w.app(w.org, "fresh-app", false))
	g := iam.GroupPrincipal(w.group(iam.Group{ID: "fresh-group", OrganizationID: w.org, UserIDs: ids("fresh-user")}))
	k := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: u, DefaultProjectID: "p1"}).AccessKey)
	// Policies that grant nothing: no principal, and no rules.
	w.policy(w.org, "no-principal", iam.Principal{}, onOrg(w.org, "AllProductsFullAccess"), onOrg(w.org, "OrganizationManager", "IAMManager"))
	w.policy(w.org, "no-rules", u)

	cat, err := w.store.ListPermissionSets(w.ctx, "")
	require.NoError(t, err)
	triples := concreteTriples(cat)
	require.Greater(t, len(triples), 200)

	callers := map[string]iam.Principal{"user": u, "application": a, "group": g, "API key": k}
	for name, p := range callers {
		t.Run(name+" holds no catalogue set", func(t *testing.T) {
			t.Parallel()
			for _, ps := range cat {
				w.expect(t, atOrg(p, w.org, ps.Name), notGranted)
				if ps.ScopeType == iam.ScopeProjects {
					w.expect(t, inProject(p, "p1", ps.Name), notGranted)
					w.expect(t, inProject(p, w.org, ps.Name), notGranted)
				}
			}
		})
		t.Run(name+" holds no catalogue triple", func(t *testing.T) {
			t.Parallel()
			for _, tr := range triples {
				w.expect(t, atOrg(p, w.org, tr), notGranted)
				if knownInProjects(cat, tr) {
					w.expect(t, inProject(p, "p1", tr), notGranted)
				}
			}
		})
	}
}

// Rule 2: the owner is allowed every known permission in its own
// organization, and nothing in any other.
func TestRule2Owner(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.set(iam.PermissionSet{Name: "AcmeWidgets", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"widget:*:*"}})
	w.set(iam.PermissionSet{Name: "AcmeSettings", OrganizationID: w.org, ScopeType: iam.ScopeOrganization, Permissions: []string{"settings:*:*"}})
	w.addOrg("beta", "beta-owner")
	w.project("beta", "bp1")
	w.set(iam.PermissionSet{Name: "BetaWidgets", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"bwidget:*:*"}})
	owner := iam.UserPrincipal(w.owner)

	cat, err := w.store.ListPermissionSets(w.ctx, "")
	require.NoError(t, err)
	require.Len(t, cat, 202)
	triples := concreteTriples(cat)

	t.Run("every catalogue set, in projects and at the organization", func(t *testing.T) {
		t.Parallel()
		for _, ps := range cat {
			w.expect(t, atOrg(owner, w.org, ps.Name), ownerAllow)
			if ps.ScopeType == iam.ScopeProjects {
				w.expect(t, inProject(owner, "p1", ps.Name), ownerAllow)
				w.expect(t, inProject(owner, w.org, ps.Name), ownerAllow)
			} else {
				w.expect(t, inProject(owner, "p1", ps.Name), isMismatch)
			}
		}
	})
	t.Run("every catalogue triple, in projects and at the organization", func(t *testing.T) {
		t.Parallel()
		for _, tr := range triples {
			w.expect(t, atOrg(owner, w.org, tr), ownerAllow)
			if knownInProjects(cat, tr) {
				w.expect(t, inProject(owner, "p1", tr), ownerAllow)
			} else {
				w.expect(t, inProject(owner, "p1", tr), isMismatch)
			}
		}
	})
	t.Run("every catalogue set and triple in another organization", func(t *testing.T) {
		t.Parallel()
		for _, ps := range cat {
			w.expect(t, atOrg(owner, "beta", ps.Name), otherOrg)
			if ps.ScopeType == iam.ScopeProjects {
				w.expect(t, inProject(owner, "bp1", ps.Name), otherOrg)
			}
		}
		for _, tr := range triples {
			w.expect(t, atOrg(owner, "beta", tr), otherOrg)
		}
	})

	runChecks(t, w, []checkCase{
		{"own custom project set in a project", inProject(owner, "p1", "AcmeWidgets"), ownerAllow},
		{"own custom triple in a project", inProject(owner, "p1", "widget:gear:spin"), ownerAllow},
		{"own custom organization set at the organization", atOrg(owner, w.org, "AcmeSettings"), ownerAllow},
		{"own custom organization triple at the organization", atOrg(owner, w.org, "settings:mode:update"), ownerAllow},
		{"default project", inProject(owner, w.org, "InstancesFullAccess"), ownerAllow},
		{"unknown set is still an error", inProject(owner, "p1", "NoSuchSet"), isUnknown},
		{"unknown triple is still an error", inProject(owner, "p1", "nosuch:thing:do"), isUnknown},
		{"unknown triple at the organization is still an error", atOrg(owner, w.org, "nosuch:thing:do"), isUnknown},
		{"another organization's custom set is unknown here", inProject(owner, "p1", "BetaWidgets"), isUnknown},
		{"organization set in a project is still a mismatch", inProject(owner, "p1", "IAMManager"), isMismatch},
		{"own organization custom set in a project is still a mismatch", inProject(owner, "p1", "AcmeSettings"), isMismatch},
		{"organization triple in a project is still a mismatch", inProject(owner, "p1", "iam:user:create"), isMismatch},
		{"another organization's project", inProject(owner, "bp1", "InstancesFullAccess"), otherOrg},
		{"another organization's default project", inProject(owner, "beta", "InstancesFullAccess"), otherOrg},
		{"another organization's level", atOrg(owner, "beta", "IAMManager"), otherOrg},
		{"another organization's custom set", inProject(owner, "bp1", "BetaWidgets"), otherOrg},
		{"the other owner here", inProject(iam.UserPrincipal("beta-owner"), "p1", "InstancesFullAccess"), otherOrg},
		{"the owner's API key", inProject(iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: owner}).AccessKey), "p1", "InstancesFullAccess"), ownerAllow},
	})
}

// Rule 3: the caller holds the union of the rules of its own policies and
// of every group it belongs to, the special groups included; order never
// matters.
func TestRule3Union(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.project(w.org, "p2")
	u1 := iam.UserPrincipal(w.user(w.org, "u1"))
	u2 := iam.UserPrincipal(w.user(w.org, "u2"))
	a1 := iam.ApplicationPrincipal(w.app(w.org, "a1", false))
	a2 := iam.ApplicationPrincipal(w.app(w.org, "a2", false))
	managed := iam.ApplicationPrincipal(w.app(w.org, "managed", true))
	team := iam.GroupPrincipal(w.group(iam.Group{ID: "team", OrganizationID: w.org, UserIDs: ids("u1"), ApplicationIDs: ids("a2")}))
	everyone := iam.GroupPrincipal(w.group(iam.Group{ID: "everyone", OrganizationID: w.org, AllUsers: true}))
	robots := iam.GroupPrincipal(w.group(iam.Group{ID: "robots", OrganizationID: w.org, AllApplications: true}))

	w.policy(w.org, "u1-own-a", u1, onProjects(ids("p1"), "InstancesServerCreate"))
	w.policy(w.org, "u1-own-b", u1, onProjects(ids("p1"), "InstancesServerRead"), onProjects(ids("p2"), "InstancesServerWrite"))
	w.policy(w.org, "pol-team", team, onProjects(ids("p1"), "InstancesServerDelete"))
	w.policy(w.org, "pol-everyone", everyone, onProjects(ids("p1"), "InstancesServerStart"))
	w.policy(w.org, "pol-robots", robots, onProjects(ids("p1"), "InstancesServerStop"))
	w.policy(w.org, "a1-own", a1, onProjects(ids("p1"), "InstancesIpCreate"))

	runChecks(t, w, []checkCase{
		{"own policy", inProject(u1, "p1", "InstancesServerCreate"), granted},
		{"own policy by triple", inProject(u1, "p1", "instance:server:create"), granted},
		{"second own policy adds up", inProject(u1, "p1", "InstancesServerRead"), granted},
		{"second rule of second policy adds up", inProject(u1, "p2", "InstancesServerWrite"), granted},
		{"own rule is per project", inProject(u1, "p2", "InstancesServerCreate"), notGranted},
		{"explicit group", inProject(u1, "p1", "InstancesServerDelete"), granted},
		{"explicit group by triple", inProject(u1, "p1", "instance:server:delete"), granted},
		{"explicit group, application member", inProject(a2, "p1", "InstancesServerDelete"), granted},
		{"explicit group, not a member", inProject(u2, "p1", "InstancesServerDelete"), notGranted},
		{"explicit group, application not a member", inProject(a1, "p1", "InstancesServerDelete"), notGranted},
		{"all-users group, member of nothing else", inProject(u2, "p1", "InstancesServerStart"), granted},
		{"all-users group, also explicit member elsewhere", inProject(u1, "p1", "InstancesServerStart"), granted},
		{"all-users group excludes applications", inProject(a1, "p1", "InstancesServerStart"), notGranted},
		{"all-users group applies to the owner too (allowed as owner)", inProject(iam.UserPrincipal(w.owner), "p1", "InstancesServerStart"), ownerAllow},
		{"all-applications group", inProject(a1, "p1", "InstancesServerStop"), granted},
		{"all-applications group, explicit group member too", inProject(a2, "p1", "InstancesServerStop"), granted},
		{"all-applications group excludes managed applications", inProject(managed, "p1", "InstancesServerStop"), notGranted},
		{"all-applications group excludes users", inProject(u1, "p1", "InstancesServerStop"), notGranted},
		{"another principal's own policy is not shared", inProject(u2, "p1", "InstancesServerCreate"), notGranted},
		{"an application's own policy", inProject(a1, "p1", "InstancesIpCreate"), granted},
		{"an application's own policy is not the group's", inProject(a2, "p1", "InstancesIpCreate"), notGranted},
		{"group caller: the group's own policies", inProject(team, "p1", "InstancesServerDelete"), granted},
		{"group caller: not its members' policies", inProject(team, "p1", "InstancesServerCreate"), notGranted},
		{"group caller: not the all-users group's policies", inProject(team, "p1", "InstancesServerStart"), notGranted},
		{"all-users group as caller", inProject(everyone, "p1", "InstancesServerStart"), granted},
		{"all-applications group as caller", inProject(robots, "p1", "InstancesServerStop"), granted},
		{"no grant holds an unrelated set", inProject(u1, "p1", "InstancesFullAccess"), notGranted},
	})
}

// Rule 3: rule and policy order never matter, and nothing denies.
func TestRule3OrderIrrelevant(t *testing.T) {
	t.Parallel()
	type pol struct {
		id    string
		rules []iam.Rule
	}
	policies := []pol{
		{"narrow", []iam.Rule{onProjects(ids("p1"), "InstancesServerRead"), onProjects(ids("p2"), "InstancesServerCreate")}},
		{"broad", []iam.Rule{onOrg("acme", "InstancesFullAccess"), onOrg("acme", "IAMUserReadOnly"), onProjects(ids("p1", "p2"), "ObjectStorageReadOnly")}},
		{"overlap", []iam.Rule{onProjects(ids("p2"), "InstancesServerRead"), onOrg("acme", "BillingReadOnly")}},
	}
	reverse := func(s []iam.Rule) []iam.Rule {
		out := make([]iam.Rule, len(s))
		for i, r := range s {
			out[len(s)-1-i] = r
		}
		return out
	}
	build := func(reversed bool) *world {
		w := newWorld(t)
		w.project(w.org, "p1")
		w.project(w.org, "p2")
		w.user(w.org, "u")
		for i := range policies {
			p := policies[i]
			rules := p.rules
			if reversed {
				p = policies[len(policies)-1-i]
				rules = reverse(p.rules)
			}
			require.NotEmpty(t, rules)
			w.policy(w.org, p.id, iam.UserPrincipal("u"), rules...)
		}
		return w
	}
	forward, backward := build(false), build(true)
	perms := []string{"InstancesServerRead", "InstancesServerCreate", "InstancesFullAccess", "ObjectStorageReadOnly", "ContainersReadOnly",
		"instance:server:read", "instance:volume:delete", "IAMUserReadOnly", "IAMManager", "BillingReadOnly", "BillingManager", "iam:user:read", "iam:user:create"}
	allowedSomewhere := 0
	for _, perm := range perms {
		for _, target := range []iam.Request{inProject(iam.UserPrincipal("u"), "p1", perm), inProject(iam.UserPrincipal("u"), "p2", perm), atOrg(iam.UserPrincipal("u"), "acme", perm)} {
			d1, err1 := forward.check(target)
			d2, err2 := backward.check(target)
			require.Equal(t, err1 == nil, err2 == nil, "%+v: %v vs %v", target, err1, err2)
			if err1 != nil {
				continue
			}
			assert.Equal(t, d1.Allowed, d2.Allowed, "%+v", target)
			assert.Equal(t, d1.Reason, d2.Reason, "%+v", target)
			if d1.Allowed {
				allowedSomewhere++
			}
		}
	}
	require.Greater(t, allowedSomewhere, 5, "the worlds must grant something for the comparison to mean anything")
	// No deny: the narrow grant never takes away what the broad one gives.
	forward.expect(t, inProject(iam.UserPrincipal("u"), "p1", "InstancesServerDelete"), granted)
}

// Rule 4: nothing crosses the organization boundary.
func TestRule4OrganizationBoundary(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.addOrg("beta", "beta-owner")
	w.project("beta", "bp1")
	u := iam.UserPrincipal(w.user(w.org, "u"))
	a := iam.ApplicationPrincipal(w.app(w.org, "a", false))
	g := iam.GroupPrincipal(w.group(iam.Group{ID: "g", OrganizationID: w.org, UserIDs: ids("u"), ApplicationIDs: ids("a")}))
	all := iam.GroupPrincipal(w.group(iam.Group{ID: "all", OrganizationID: w.org, AllUsers: true, AllApplications: true}))
	k := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: a}).AccessKey)
	for _, p := range []iam.Principal{u, a, g, all} {
		w.policy(w.org, "wide-"+p.ID, p, onOrg(w.org, "AllProductsFullAccess"), onOrg(w.org, "OrganizationManager", "IAMManager", "BillingManager"))
	}
	bu := iam.UserPrincipal(w.user("beta", "beta-user"))
	w.policy("beta", "beta-wide", bu, onOrg("beta", "AllProductsFullAccess"))

	runChecks(t, w, []checkCase{
		{"sanity: user granted at home", inProject(u, "p1", "InstancesFullAccess"), granted},
		{"user in another organization's project", inProject(u, "bp1", "InstancesFullAccess"), otherOrg},
		{"user in another organization's default project", inProject(u, "beta", "InstancesFullAccess"), otherOrg},
		{"user at another organization", atOrg(u, "beta", "IAMManager"), otherOrg},
		{"user, triple, in another organization's project", inProject(u, "bp1", "instance:server:create"), otherOrg},
		{"application in another organization's project", inProject(a, "bp1", "InstancesFullAccess"), otherOrg},
		{"application at another organization", atOrg(a, "beta", "BillingManager"), otherOrg},
		{"API key in another organization's project", inProject(k, "bp1", "InstancesFullAccess"), otherOrg},
		{"group in another organization's project", inProject(g, "bp1", "InstancesFullAccess"), otherOrg},
		{"all-users group in another organization's project", inProject(all, "bp1", "InstancesFullAccess"), otherOrg},
		{"other organization's user here", inProject(bu, "p1", "InstancesFullAccess"), otherOrg},
		{"other organization's owner here", atOrg(iam.UserPrincipal("beta-owner"), w.org, "IAMManager"), otherOrg},
	})
}

// Rule 5: a rule's scope and its sets' scope type decide where it grants.
func TestRule5ScopeAndScopeType(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, p := range []string{"p1", "p2", "p3"} {
		w.project(w.org, p)
	}
	listed := iam.UserPrincipal(w.user(w.org, "listed"))
	orgWide := iam.UserPrincipal(w.user(w.org, "org-wide"))
	orgLevel := iam.UserPrincipal(w.user(w.org, "org-level"))
	w.policy(w.org, "pol-listed", listed, onProjects(ids("p1", "p2"), "InstancesServerCreate"))
	w.policy(w.org, "pol-org-wide", orgWide, onOrg(w.org, "InstancesServerDelete"))
	w.policy(w.org, "pol-org-level", orgLevel, onOrg(w.org, "IAMUserReadOnly"))

	before := dumpStore(t, w.store)
	_, err := w.store.CreatePolicy(w.ctx, iam.Policy{OrganizationID: w.org, Principal: listed, Rules: []iam.Rule{onProjects(ids("p1"), "IAMUserReadOnly")}})
	requireValidation(t, err, "rules[0].permission_sets[0]")
	require.ErrorIs(t, err, iam.ErrScopeMismatch)
	requireUnchanged(t, w.store, before)

	runChecks(t, w, []checkCase{
		{"projects rule: first listed project", inProject(listed, "p1", "InstancesServerCreate"), granted},
		{"projects rule: second listed project", inProject(listed, "p2", "InstancesServerCreate"), granted},
		{"projects rule: unlisted project", inProject(listed, "p3", "InstancesServerCreate"), notGranted},
		{"projects rule: unlisted default project", inProject(listed, w.org, "InstancesServerCreate"), notGranted},
		{"projects rule: not at the organization", atOrg(listed, w.org, "InstancesServerCreate"), notGranted},
		{"projects rule: triple in a listed project", inProject(listed, "p2", "instance:server:create"), granted},
		{"projects rule: triple in an unlisted project", inProject(listed, "p3", "instance:server:create"), notGranted},
		{"organization rule, project sets: every project", inProject(orgWide, "p3", "InstancesServerDelete"), granted},
		{"organization rule, project sets: default project", inProject(orgWide, w.org, "InstancesServerDelete"), granted},
		{"organization rule, project sets: at the organization", atOrg(orgWide, w.org, "InstancesServerDelete"), granted},
		{"organization rule, project sets: triple in a project", inProject(orgWide, "p1", "instance:server:delete"), granted},
		{"organization rule, project sets: not an organization set", atOrg(orgWide, w.org, "IAMUserReadOnly"), notGranted},
		{"organization rule, organization sets: at the organization", atOrg(orgLevel, w.org, "IAMUserReadOnly"), granted},
		{"organization rule, organization sets: triple at the organization", atOrg(orgLevel, w.org, "iam:user:read"), granted},
		{"organization rule, organization sets: asked in a project", inProject(orgLevel, "p1", "IAMUserReadOnly"), isMismatch},
		{"organization rule, organization sets: grant nothing in projects", inProject(orgLevel, "p1", "InstancesServerDelete"), notGranted},
		{"organization rule, organization sets: only what they hold", atOrg(orgLevel, w.org, "iam:user:create"), notGranted},
	})
}

// Rule 5: a rule on the organization covers projects created after it,
// at once.
func TestRule5FutureProjects(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	orgWide := iam.UserPrincipal(w.user(w.org, "org-wide"))
	listed := iam.UserPrincipal(w.user(w.org, "listed"))
	app := iam.ApplicationPrincipal(w.app(w.org, "app", false))
	all := w.group(iam.Group{ID: "all", OrganizationID: w.org, AllApplications: true})
	w.policy(w.org, "pol-org-wide", orgWide, onOrg(w.org, "InstancesFullAccess"))
	w.policy(w.org, "pol-listed", listed, onProjects(ids("p1"), "InstancesFullAccess"))
	w.policy(w.org, "apps", iam.GroupPrincipal(all), onOrg(w.org, "ContainersReadOnly"))

	for i := range 5 {
		id := "later-" + string(rune('a'+i))
		w.project(w.org, id)
		w.expect(t, inProject(orgWide, id, "InstancesServerCreate"), granted)
		w.expect(t, inProject(orgWide, id, "instance:server:create"), granted)
		w.expect(t, inProject(app, id, "ContainersReadOnly"), granted)
		w.expect(t, inProject(listed, id, "InstancesServerCreate"), notGranted)
	}
	w.expect(t, inProject(listed, "p1", "InstancesServerCreate"), granted)
}

// Rule 6: how a requested permission matches the granted sets.
func TestRule6PermissionMatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, p := range []string{"p1", "p2"} {
		w.project(w.org, p)
	}
	org := w.org
	w.set(iam.PermissionSet{Name: "AppRead", OrganizationID: org, ScopeType: iam.ScopeProjects, Permissions: []string{"app:*:read"}})
	w.set(iam.PermissionSet{Name: "AppWidgetAll", OrganizationID: org, ScopeType: iam.ScopeProjects, Permissions: []string{"app:widget:*"}})
	w.set(iam.PermissionSet{Name: "AppBundle", OrganizationID: org, ScopeType: iam.ScopeProjects, Includes: []string{"AppRead"}})
	w.set(iam.PermissionSet{Name: "AppTop", OrganizationID: org, ScopeType: iam.ScopeProjects, Includes: []string{"AppBundle"}})
	w.set(iam.PermissionSet{Name: "AppSettings", OrganizationID: org, ScopeType: iam.ScopeOrganization, Permissions: []string{"appadmin:settings:*"}})
	w.set(iam.PermissionSet{Name: "AppWidgetOrg", OrganizationID: org, ScopeType: iam.ScopeOrganization, Permissions: []string{"appadmin:widget:*"}})
	w.set(iam.PermissionSet{Name: "AppSettingsPlus", OrganizationID: org, ScopeType: iam.ScopeOrganization, Includes: []string{"AppSettings", "IAMUserReadOnly"}})

	grant := func(id string, rules ...iam.Rule) iam.Principal {
		p := iam.UserPrincipal(w.user(org, id))
		w.policy(org, "pol-"+id, p, rules...)
		return p
	}
	read := grant("u-read", onProjects(ids("p1"), "AppRead"))
	top := grant("u-top", onProjects(ids("p1"), "AppTop"))
	widgetOrg := grant("u-widget-org", onOrg(org, "AppWidgetOrg"))
	settings := grant("u-settings", onOrg(org, "AppSettings"))
	plus := grant("u-plus", onOrg(org, "AppSettingsPlus"))
	full := grant("u-full", onProjects(ids("p1"), "InstancesFullAccess"))
	create := grant("u-create", onProjects(ids("p1"), "InstancesServerCreate"))
	allProducts := grant("u-all-products", onProjects(ids("p1"), "AllProductsFullAccess"))
	orgRule := grant("u-org-rule", onOrg(org, "InstancesFullAccess", "AppRead"))
	allProjects := grant("u-all-projects", onProjects(ids(org, "p1", "p2"), "InstancesFullAccess", "AppRead"))
	owner := iam.UserPrincipal(w.owner)

	// A pattern with "*" as its service matches every service's
	// permissions, so it would overlap the organization level of Scaleway's
	// catalogue: it lives in a store without the built-in catalogue, beside
	// organization-scoped sets that it does not overlap.
	bare := newWorld(t, iam.WithCatalogue(nil))
	bare.set(iam.PermissionSet{Name: "HostReadAll", OrganizationID: bare.org, ScopeType: iam.ScopeProjects, Permissions: []string{"*:*:read"}})
	bare.set(iam.PermissionSet{Name: "HostAdmin", OrganizationID: bare.org, ScopeType: iam.ScopeOrganization, Permissions: []string{"admin:config:update"}})
	hostReader := iam.UserPrincipal(bare.user(bare.org, "g-reader"))
	bare.policy(bare.org, "g-read", hostReader, onProjects(ids(bare.org), "HostReadAll"))
	runChecks(t, bare, []checkCase{
		{"star service pattern in its organization", inProject(hostReader, bare.org, "host:doc:read"), granted},
		{"star service pattern matches any service", inProject(hostReader, bare.org, "admin:config:read"), granted},
		{"star service pattern, other action unknown", inProject(hostReader, bare.org, "host:doc:write"), isUnknown},
		{"organization-level beside it, in a project", inProject(hostReader, bare.org, "admin:config:update"), isMismatch},
		{"organization-level beside it, at the organization", atOrg(hostReader, bare.org, "admin:config:update"), notGranted},
	})

	runChecks(t, w, []checkCase{
		// Triples through patterns with "*" segments.
		{"star resource matches a resource", inProject(read, "p1", "app:widget:read"), granted},
		{"star resource matches another resource", inProject(read, "p1", "app:gadget:read"), granted},
		{"star resource, other action, known elsewhere", inProject(read, "p1", "app:widget:delete"), notGranted},
		{"star action, another holder's set", inProject(read, "p1", "app:widget:create"), notGranted},
		{"pattern granted in p1 only", inProject(read, "p2", "app:widget:read"), notGranted},
		{"no prefix match of a segment", inProject(read, "p1", "app:gadget:reads"), isUnknown},
		{"no suffix match of a segment", inProject(read, "p1", "app:gadget:xread"), isUnknown},
		{"no match across ':' (four segments)", inProject(read, "p1", "app:a:b:read"), isInvalid},
		{"another organization's pattern is unknown here", inProject(owner, "p1", "host:doc:read"), isUnknown},
		// Set names through includes.
		{"catalogue set includes a narrower one", inProject(full, "p1", "InstancesServerCreate"), granted},
		{"catalogue set includes a narrower one, by triple", inProject(full, "p1", "instance:server:create"), granted},
		{"narrow set does not include the broader", inProject(create, "p1", "InstancesFullAccess"), notGranted},
		{"narrow set does not include a sibling", inProject(create, "p1", "InstancesServerDelete"), notGranted},
		{"transitive catalogue include", inProject(allProducts, "p1", "InstancesServerCreate"), granted},
		{"transitive catalogue include, by triple", inProject(allProducts, "p1", "instance:server:create"), granted},
		{"transitive catalogue include, middle set", inProject(allProducts, "p1", "InstancesFullAccess"), granted},
		{"custom include of a custom set, two levels", inProject(top, "p1", "AppRead"), granted},
		{"custom include of a custom set, one level", inProject(top, "p1", "AppBundle"), granted},
		{"custom include, triple of an included set", inProject(top, "p1", "app:thing:read"), granted},
		{"custom include, not a set it does not include", inProject(top, "p1", "AppWidgetAll"), notGranted},
		{"custom include, not a triple it does not hold", inProject(top, "p1", "app:widget:create"), notGranted},
		{"custom include is not reversed", inProject(read, "p1", "AppTop"), notGranted},
		{"custom organization set including a catalogue set", atOrg(plus, org, "IAMUserReadOnly"), granted},
		{"custom organization set including a catalogue set, by triple", atOrg(plus, org, "iam:user:read"), granted},
		{"custom organization set including a custom set, by triple", atOrg(plus, org, "appadmin:settings:update"), granted},
		// Unknown permissions are errors, not denies.
		{"unknown set", inProject(full, "p1", "NoSuchSet"), isUnknown},
		{"unknown set near a real name", inProject(full, "p1", "InstanceFullAccess"), isUnknown},
		{"unknown triple", inProject(full, "p1", "nosuch:thing:do"), isUnknown},
		{"unknown action of a known service", inProject(full, "p1", "app:gadget:write"), isUnknown},
		{"unknown set at the organization", atOrg(full, org, "NoSuchSet"), isUnknown},
		// Organization-level permissions in a project.
		{"organization catalogue set in a project", inProject(settings, "p1", "IAMManager"), isMismatch},
		{"organization custom set in a project", inProject(settings, "p1", "AppSettings"), isMismatch},
		{"triple matched only by organization sets, in a project", inProject(settings, "p1", "appadmin:settings:update"), isMismatch},
		{"catalogue triple matched only by organization sets, in a project", inProject(full, "p1", "iam:user:read"), isMismatch},
		{"organization set grants at the organization", atOrg(settings, org, "appadmin:settings:update"), granted},
		// Levels: a grant answers only for permissions of its own level.
		{"organization-scoped set, its triple at the organization", atOrg(widgetOrg, org, "appadmin:widget:create"), granted},
		{"organization-scoped set, a project-level triple at the organization", atOrg(widgetOrg, org, "app:widget:create"), notGranted},
		{"organization-scoped set, a project-level triple in a project", inProject(widgetOrg, "p1", "app:widget:create"), notGranted},
		{"project-scoped set on the organization, an organization-level triple", atOrg(orgRule, org, "appadmin:widget:create"), notGranted},
		{"project-scoped set on the organization, an organization-level set", atOrg(orgRule, org, "AppWidgetOrg"), notGranted},
		// Project-level permissions asked at the organization.
		{"at the organization: owner, set", atOrg(owner, org, "InstancesServerCreate"), ownerAllow},
		{"at the organization: owner, triple", atOrg(owner, org, "instance:server:create"), ownerAllow},
		{"at the organization: organization rule, set", atOrg(orgRule, org, "InstancesServerCreate"), granted},
		{"at the organization: organization rule, triple", atOrg(orgRule, org, "instance:server:create"), granted},
		{"at the organization: organization rule, custom triple", atOrg(orgRule, org, "app:x:read"), granted},
		{"at the organization: one listed project, set", atOrg(full, org, "InstancesServerCreate"), notGranted},
		{"at the organization: one listed project, triple", atOrg(full, org, "instance:server:create"), notGranted},
		{"at the organization: every project listed, set", atOrg(allProjects, org, "InstancesFullAccess"), notGranted},
		{"at the organization: every project listed, included set", atOrg(allProjects, org, "InstancesServerCreate"), notGranted},
		{"at the organization: every project listed, triple", atOrg(allProjects, org, "instance:server:create"), notGranted},
		{"at the organization: every project listed, custom triple", atOrg(allProjects, org, "app:x:read"), notGranted},
		{"sanity: every project listed grants in each project", inProject(allProjects, "p2", "instance:server:create"), granted},
	})

	t.Run("MatchPermission", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			pattern, permission string
			want                bool
		}{
			{"app:*:read", "app:widget:read", true},
			{"*:*:*", "a:b:c", true},
			{"app:widget:*", "app:widget:create", true},
			{"app:*:read", "app:a:b:read", false},
			{"app:widget:*", "app:widget:x:y", false},
			{"*:read", "app:x:read", false},
			{"app:*:read", "app:widget:reads", false},
			{"app:*:read", "app::read", false},
			{"app:*:read", "app:widget:create", false},
			{"inst*:server:read", "instance:server:read", false},
		} {
			assert.Equal(t, tc.want, iam.MatchPermission(tc.pattern, tc.permission), "MatchPermission(%q, %q)", tc.pattern, tc.permission)
		}
	})
}

// Rule 8, as far as Check goes: API keys stand for their bearer, expire,
// and locked or deleted bearers get nothing.
func TestRule8Credentials(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.project(w.org, "p2")
	u := iam.UserPrincipal(w.user(w.org, "u"))
	a := iam.ApplicationPrincipal(w.app(w.org, "a", false))
	w.policy(w.org, "pol-u", u, onProjects(ids("p1"), "InstancesServerCreate"))
	w.policy(w.org, "pol-a", a, onOrg(w.org, "ContainersReadOnly"))
	expiry := clockStart.Add(time.Hour)
	uKey := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: u, DefaultProjectID: "p2"}).AccessKey)
	aKey := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: a}).AccessKey)
	ownerKey := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: iam.UserPrincipal(w.owner)}).AccessKey)
	expiring := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: u, ExpiresAt: expiry}).AccessKey)
	lockedUser := iam.UserPrincipal(w.user(w.org, "locked"))
	w.policy(w.org, "pol-locked", lockedUser, onOrg(w.org, "AllProductsFullAccess"), onOrg(w.org, "IAMManager"))
	lockedKey := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: lockedUser}).AccessKey)
	lu, err := w.store.GetUser(w.ctx, "locked")
	require.NoError(t, err)
	lu.Locked = true
	_, err = w.store.UpdateUser(w.ctx, lu)
	require.NoError(t, err)

	t.Run("keys", func(t *testing.T) {
		for _, tc := range []checkCase{
			{"user key holds the bearer's grant", inProject(uKey, "p1", "InstancesServerCreate"), granted},
			{"user key holds the bearer's grant, by triple", inProject(uKey, "p1", "instance:server:create"), granted},
			{"user key holds no more than the bearer", inProject(uKey, "p1", "InstancesServerDelete"), notGranted},
			{"user key's default project grants nothing", inProject(uKey, "p2", "InstancesServerCreate"), notGranted},
			{"application key holds the bearer's grant", inProject(aKey, "p2", "ContainersReadOnly"), granted},
			{"application key holds no more than the bearer", inProject(aKey, "p2", "ContainersFullAccess"), notGranted},
			{"owner's key is the owner", atOrg(ownerKey, w.org, "IAMManager"), ownerAllow},
			{"locked user denied despite grants", inProject(lockedUser, "p1", "InstancesServerCreate"), locked},
			{"locked user denied at the organization", atOrg(lockedUser, w.org, "IAMManager"), locked},
			{"locked user's key denied", inProject(lockedKey, "p1", "InstancesServerCreate"), locked},
			{"locked user, unknown permission still an error", inProject(lockedUser, "p1", "NoSuchSet"), isUnknown},
			{"key not yet expired", inProject(expiring, "p1", "InstancesServerCreate"), granted},
		} {
			w.expect(t, tc.req, tc.want)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		w.clock.Set(expiry.Add(-time.Nanosecond))
		w.expect(t, inProject(expiring, "p1", "InstancesServerCreate"), granted)
		w.clock.Set(expiry)
		w.expect(t, inProject(expiring, "p1", "InstancesServerCreate"), expired)
		w.expect(t, inProject(expiring, "p1", "InstancesServerDelete"), expired)
		w.clock.Set(expiry.Add(24 * time.Hour))
		w.expect(t, inProject(expiring, "p1", "InstancesServerCreate"), expired)
		w.expect(t, inProject(uKey, "p1", "InstancesServerCreate"), granted) // no expiry: never
		w.expect(t, inProject(u, "p1", "InstancesServerCreate"), granted)    // the bearer itself is not expired
		w.clock.Set(clockStart)
	})

	t.Run("unlocking restores the grants", func(t *testing.T) {
		lu.Locked = false
		_, err := w.store.UpdateUser(w.ctx, lu)
		require.NoError(t, err)
		w.expect(t, inProject(lockedUser, "p1", "InstancesServerCreate"), granted)
		w.expect(t, inProject(lockedKey, "p1", "InstancesServerCreate"), granted)
		lu.Locked = true
		_, err = w.store.UpdateUser(w.ctx, lu)
		require.NoError(t, err)
		w.expect(t, inProject(lockedUser, "p1", "InstancesServerCreate"), locked)
	})
}

// Rule 8: deleting a user or an application deletes its keys, removes it
// from its groups, leaves its policies without a principal, and checks for
// it fail at once.
func TestRule8DeletingPrincipals(t *testing.T) {
	t.Parallel()
	for _, kind := range []iam.PrincipalType{iam.PrincipalUser, iam.PrincipalApplication} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.project(w.org, "p1")
			var p, other iam.Principal
			g := iam.Group{ID: "team", OrganizationID: w.org}
			if kind == iam.PrincipalUser {
				p, other = iam.UserPrincipal(w.user(w.org, "doomed")), iam.UserPrincipal(w.user(w.org, "stays"))
				g.UserIDs = ids("stays", "doomed")
			} else {
				p, other = iam.ApplicationPrincipal(w.app(w.org, "doomed", false)), iam.ApplicationPrincipal(w.app(w.org, "stays", false))
				g.ApplicationIDs = ids("stays", "doomed")
			}
			w.group(g)
			w.policy(w.org, "own", p, onProjects(ids("p1"), "InstancesServerCreate"))
			w.policy(w.org, "other", other, onProjects(ids("p1"), "InstancesServerCreate"))
			w.policy(w.org, "pol-team", iam.GroupPrincipal("team"), onProjects(ids("p1"), "InstancesServerDelete"))
			key := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: p}).AccessKey)
			otherKey := iam.APIKeyPrincipal(w.key(iam.APIKey{OrganizationID: w.org, Bearer: other}).AccessKey)
			w.expect(t, inProject(p, "p1", "InstancesServerCreate"), granted)
			w.expect(t, inProject(key, "p1", "InstancesServerDelete"), granted)

			if kind == iam.PrincipalUser {
				require.NoError(t, w.store.DeleteUser(w.ctx, "doomed"))
			} else {
				require.NoError(t, w.store.DeleteApplication(w.ctx, "doomed"))
			}

			w.expect(t, inProject(p, "p1", "InstancesServerCreate"), isNotFound)
			w.expect(t, inProject(p, "p1", "InstancesServerDelete"), isNotFound)
			w.expect(t, inProject(key, "p1", "InstancesServerCreate"), isNotFound)
			w.expect(t, inProject(other, "p1", "InstancesServerDelete"), granted)
			w.expect(t, inProject(otherKey, "p1", "InstancesServerCreate"), granted)

			_, err := w.store.GetAPIKey(w.ctx, key.ID)
			require.ErrorIs(t, err, iam.ErrNotFound)
			keys, err := w.store.ListAPIKeys(w.ctx, w.org)
			require.NoError(t, err)
			require.Len(t, keys, 1)
			require.Equal(t, otherKey.ID, keys[0].AccessKey)

			gotGroup, err := w.store.GetGroup(w.ctx, "team")
			require.NoError(t, err)
			require.Equal(t, []string{"stays"}, append(gotGroup.UserIDs, gotGroup.ApplicationIDs...))

			pol, err := w.store.GetPolicy(w.ctx, "own")
			require.NoError(t, err)
			require.True(t, pol.Principal.IsZero(), "policy principal after deletion: %v", pol.Principal)
			require.Equal(t, iam.Principal{}, pol.Principal)
			require.Len(t, pol.Rules, 1, "the policy keeps its rules")

			// A new principal with the same ID inherits nothing.
			if kind == iam.PrincipalUser {
				w.user(w.org, "doomed")
			} else {
				w.app(w.org, "doomed", false)
			}
			w.expect(t, inProject(p, "p1", "InstancesServerCreate"), notGranted)
			w.expect(t, inProject(p, "p1", "InstancesServerDelete"), notGranted)
			w.expect(t, inProject(key, "p1", "InstancesServerCreate"), isNotFound)
		})
	}
}

// The order in which Check reports what is wrong with a
// request. Each case breaks two things at once where it can; the first in
// the order wins.
func TestCheckErrorOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "p1")
	w.addOrg("beta", "beta-owner")
	w.project("beta", "bp1")
	u := iam.UserPrincipal(w.user(w.org, "u"))
	a := iam.ApplicationPrincipal(w.app(w.org, "a", false))
	w.group(iam.Group{ID: "g", OrganizationID: w.org, UserIDs: ids("u")})
	w.policy(w.org, "pol", u, onProjects(ids("p1"), "InstancesServerCreate"))
	key := w.key(iam.APIKey{OrganizationID: w.org, Bearer: u}).AccessKey
	lockedUser := w.user(w.org, "locked")
	w.policy(w.org, "locked-pol", iam.UserPrincipal(lockedUser), onProjects(ids("p1"), "InstancesServerCreate"))
	lu, err := w.store.GetUser(w.ctx, lockedUser)
	require.NoError(t, err)
	lu.Locked = true
	_, err = w.store.UpdateUser(w.ctx, lu)
	require.NoError(t, err)
	ghost := iam.UserPrincipal("ghost")
	owner := iam.UserPrincipal(w.owner)
	req := func(p iam.Principal, project, org, perm string) iam.Request {
		return iam.Request{Principal: p, ProjectID: project, OrganizationID: org, Permission: perm}
	}

	runChecks(t, w, []checkCase{
		// 1. Malformed requests.
		{"zero principal", req(iam.Principal{}, "p1", "", "InstancesServerCreate"), isInvalid},
		{"zero principal before unknown project", req(iam.Principal{}, "nope", "", "NoSuchSet"), isInvalid},
		{"principal type without ID", req(iam.Principal{Type: iam.PrincipalUser}, "p1", "", "InstancesServerCreate"), isInvalid},
		{"principal ID without type", req(iam.Principal{ID: "u"}, "p1", "", "InstancesServerCreate"), isInvalid},
		{"neither project nor organization", req(u, "", "", "InstancesServerCreate"), isInvalid},
		{"neither target, unknown principal", req(ghost, "", "", "NoSuchSet"), isInvalid},
		{"both project and organization", req(u, "p1", w.org, "InstancesServerCreate"), isInvalid},
		{"both targets, both unknown", req(owner, "nope", "nope", "InstancesServerCreate"), isInvalid},
		{"empty permission", req(owner, "p1", "", ""), isInvalid},
		{"triple with two segments", req(owner, "p1", "", "instance:server"), isInvalid},
		{"triple with four segments", req(owner, "p1", "", "instance:server:create:now"), isInvalid},
		{"triple with an empty segment", req(owner, "p1", "", "instance::create"), isInvalid},
		{"triple with a trailing colon", req(owner, "p1", "", "instance:server:"), isInvalid},
		{"triple in upper case", req(owner, "p1", "", "Instance:Server:Create"), isInvalid},
		{"star in a triple", req(owner, "p1", "", "instance:*:create"), isInvalid},
		{"star as a triple", req(owner, w.org, "", "*:*:*"), isInvalid},
		{"star in a set name", req(owner, "p1", "", "Instances*"), isInvalid},
		{"star alone", req(owner, "p1", "", "*"), isInvalid},
		{"malformed triple before unknown project", req(owner, "nope", "", "instance:server"), isInvalid},
		{"star before unknown organization", req(ghost, "", "nope", "instance:*:create"), isInvalid},
		// 2. Unknown target.
		{"unknown project", req(owner, "nope", "", "InstancesServerCreate"), isNotFound},
		{"unknown organization", req(owner, "", "nope", "IAMManager"), isNotFound},
		{"a project's ID as organization", req(owner, "", "p1", "IAMManager"), isNotFound},
		{"unknown project before unknown permission", req(owner, "nope", "", "NoSuchSet"), isNotFound},
		{"unknown organization before unknown permission and principal", req(ghost, "", "nope", "nosuch:thing:do"), isNotFound},
		// 3. Unknown permission.
		{"unknown permission before unknown principal", req(ghost, "p1", "", "NoSuchSet"), isUnknown},
		{"unknown triple before unknown principal", req(ghost, "", w.org, "nosuch:thing:do"), isUnknown},
		{"unknown permission before another organization's caller", req(iam.UserPrincipal("beta-owner"), "p1", "", "NoSuchSet"), isUnknown},
		{"unknown permission before a locked caller", req(iam.UserPrincipal(lockedUser), "p1", "", "NoSuchSet"), isUnknown},
		// 4. Scope mismatch.
		{"organization set in a project before unknown principal", req(ghost, "p1", "", "IAMManager"), isMismatch},
		{"organization triple in a project before wrong-kind principal", req(iam.GroupPrincipal("u"), "p1", "", "iam:user:read"), isMismatch},
		{"organization set in a project before another organization's caller", req(iam.UserPrincipal("beta-owner"), "p1", "", "IAMManager"), isMismatch},
		// 5. Unknown principal, or an ID of the wrong kind.
		{"unknown user", req(ghost, "p1", "", "InstancesServerCreate"), isNotFound},
		{"unknown application", req(iam.ApplicationPrincipal("ghost"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"unknown group", req(iam.GroupPrincipal("ghost"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"unknown API key", req(iam.APIKeyPrincipal("ghost"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"unknown principal in another organization's project", req(ghost, "bp1", "", "InstancesServerCreate"), isNotFound},
		{"user ID as application", req(iam.ApplicationPrincipal("u"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"user ID as group", req(iam.GroupPrincipal("u"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"user ID as API key", req(iam.APIKeyPrincipal("u"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"application ID as user", req(iam.UserPrincipal(a.ID), "p1", "", "InstancesServerCreate"), isNotFound},
		{"group ID as user", req(iam.UserPrincipal("g"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"API key as user", req(iam.UserPrincipal(key), "p1", "", "InstancesServerCreate"), isNotFound},
		{"policy ID as user", req(iam.UserPrincipal("pol"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"project ID as user", req(iam.UserPrincipal("p1"), "p1", "", "InstancesServerCreate"), isNotFound},
		{"organization ID as user", req(iam.UserPrincipal(w.org), "p1", "", "InstancesServerCreate"), isNotFound},
		// A principal type outside the four kinds is a malformed request.
		{"unknown principal type", req(iam.Principal{Type: 42, ID: "u"}, "p1", "", "InstancesServerCreate"), isInvalid},
		// 6. Then the decision: another organization, locked, owner, grants.
		{"another organization before locked", req(iam.UserPrincipal(lockedUser), "bp1", "", "InstancesServerCreate"), otherOrg},
		{"another organization before owner", req(owner, "bp1", "", "InstancesServerCreate"), otherOrg},
		{"locked before grants", req(iam.UserPrincipal(lockedUser), "p1", "", "InstancesServerCreate"), locked},
		{"owner", req(owner, "p1", "", "InstancesServerCreate"), ownerAllow},
		{"grants", req(u, "p1", "", "InstancesServerCreate"), granted},
		{"grants via key", req(iam.APIKeyPrincipal(key), "p1", "", "InstancesServerCreate"), granted},
		{"nothing granted", req(u, "p1", "", "InstancesServerDelete"), notGranted},
		{"group caller from its own policies", req(iam.GroupPrincipal("g"), "p1", "", "InstancesServerCreate"), notGranted},
	})
}
