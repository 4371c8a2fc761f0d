package iam_test

// Explain: the decision and every grant behind it, or, for a deny, why in
// words a person can act on; its Decision always Check's; String() fit for
// a log line and a terminal.

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// xpWorld is a small world for Explain, with conditions on:
//
//	acme: projects A, B, C; users ana (in devs), dora (no explicit group),
//	carl (locked); application app; group devs {ana}, everyone (all
//	users); custom sets Scout, DeployAll (includes Scout).
func newXPWorld(t testing.TB) *world {
	t.Helper()
	w := newWorld(t, iam.WithConditions(conditions.New()))
	for _, p := range []string{"A", "B", "C"} {
		w.project(w.org, p)
	}
	w.user(w.org, "ana")
	w.user(w.org, "dora")
	_, err := w.store.CreateUser(w.ctx, iam.User{ID: "carl", OrganizationID: w.org, Email: "carl@acme.test", Locked: true})
	require.NoError(t, err)
	w.app(w.org, "app", false)
	w.set(iam.PermissionSet{Name: "Scout", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"deploy:release:read"}})
	w.set(iam.PermissionSet{Name: "DeployAll", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"deploy:release:create"}, Includes: []string{"Scout"}})
	w.group(iam.Group{ID: "devs", OrganizationID: w.org, UserIDs: []string{"ana"}})
	w.group(iam.Group{ID: "everyone", OrganizationID: w.org, AllUsers: true})
	return w
}

func xpExplain(w *world, req iam.Request) iam.Explanation {
	w.t.Helper()
	x, err := w.ev.Explain(w.ctx, req)
	require.NoError(w.t, err, "Explain(%+v)", req)
	d, err := w.ev.Check(w.ctx, req)
	require.NoError(w.t, err, "Check(%+v)", req)
	require.Equal(w.t, d, x.Decision, "Explain's decision must be Check's for %+v", req)
	return x
}

// xpFirstLine returns s up to its first newline.
func xpFirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestExplainAllow(t *testing.T) {
	t.Parallel()
	w := newXPWorld(t)
	ana, dora := iam.UserPrincipal("ana"), iam.UserPrincipal("dora")
	app := iam.ApplicationPrincipal("app")
	w.policy(w.org, "pol-ana", ana, onProjects(ids("A"), "InstancesServerCreate"))
	w.policy(w.org, "pol-devs", iam.GroupPrincipal("devs"),
		onProjects(ids("C"), "ContainersReadOnly"),
		onProjects(ids("A", "B"), "InstancesFullAccess", "DeployAll"))
	w.policy(w.org, "pol-everyone", iam.GroupPrincipal("everyone"), onOrg(w.org, "ObjectStorageReadOnly"))
	w.policy(w.org, "pol-app", app, onOrg(w.org, "BillingReadOnly"), onProjects(ids("B"), "RelationalDatabasesReadOnly"))

	for _, tc := range []struct {
		name    string
		req     iam.Request
		want    []iam.Grant
		phrases []string // String() must contain each
	}{
		{
			name: "all-users group, through an include",
			req:  inProject(dora, "A", "ObjectStorageBucketsRead"),
			want: []iam.Grant{{PolicyID: "pol-everyone", PolicyName: "policy pol-everyone", Rule: 0, PermissionSet: "ObjectStorageReadOnly", Via: "ObjectStorageBucketsRead", Principal: iam.GroupPrincipal("everyone"), Scope: iam.GrantScope{AllProjects: true}}},
			phrases: []string{
				"ALLOW user:dora ObjectStorageBucketsRead in project A",
				`policy "policy pol-everyone" (pol-everyone) rule 0 grants ObjectStorageReadOnly (which includes ObjectStorageBucketsRead) to group:everyone in all projects`,
			},
		},
		{
			name: "the caller's own policy, every grant listed",
			req:  inProject(ana, "A", "InstancesServerCreate"),
			want: []iam.Grant{
				{PolicyID: "pol-ana", PolicyName: "policy pol-ana", Rule: 0, PermissionSet: "InstancesServerCreate", Principal: ana, Scope: iam.GrantScope{ProjectID: "A"}},
				{PolicyID: "pol-devs", PolicyName: "policy pol-devs", Rule: 1, PermissionSet: "InstancesFullAccess", Via: "InstancesServerCreate", Principal: iam.GroupPrincipal("devs"), Scope: iam.GrantScope{ProjectID: "A"}},
			},
			phrases: []string{
				"ALLOW user:ana InstancesServerCreate in project A",
				"(pol-ana) rule 0 grants InstancesServerCreate to user:ana in project A",
				"(pol-devs) rule 1 grants InstancesFullAccess (which includes InstancesServerCreate) to group:devs in project A",
			},
		},
		{
			name:    "explicit group, set named by the rule",
			req:     inProject(ana, "C", "ContainersReadOnly"),
			want:    []iam.Grant{{PolicyID: "pol-devs", PolicyName: "policy pol-devs", Rule: 0, PermissionSet: "ContainersReadOnly", Principal: iam.GroupPrincipal("devs"), Scope: iam.GrantScope{ProjectID: "C"}}},
			phrases: []string{"to group:devs in project C"},
		},
		{
			name:    "custom include",
			req:     inProject(ana, "B", "Scout"),
			want:    []iam.Grant{{PolicyID: "pol-devs", PolicyName: "policy pol-devs", Rule: 1, PermissionSet: "DeployAll", Via: "Scout", Principal: iam.GroupPrincipal("devs"), Scope: iam.GrantScope{ProjectID: "B"}}},
			phrases: []string{"grants DeployAll (which includes Scout)"},
		},
		{
			name:    "triple through a set that names it",
			req:     inProject(ana, "A", "deploy:release:create"),
			want:    []iam.Grant{{PolicyID: "pol-devs", PolicyName: "policy pol-devs", Rule: 1, PermissionSet: "DeployAll", Principal: iam.GroupPrincipal("devs"), Scope: iam.GrantScope{ProjectID: "A"}}},
			phrases: []string{"ALLOW user:ana deploy:release:create in project A", "grants DeployAll to group:devs"},
		},
		{
			name:    "triple through an include",
			req:     inProject(ana, "A", "deploy:release:read"),
			want:    []iam.Grant{{PolicyID: "pol-devs", PolicyName: "policy pol-devs", Rule: 1, PermissionSet: "DeployAll", Via: "Scout", Principal: iam.GroupPrincipal("devs"), Scope: iam.GrantScope{ProjectID: "A"}}},
			phrases: []string{"grants DeployAll (which includes Scout)"},
		},
		{
			name:    "all-projects rule, asked in a project created later",
			req:     inProject(dora, "late", "ObjectStorageReadOnly"),
			want:    []iam.Grant{{PolicyID: "pol-everyone", PolicyName: "policy pol-everyone", Rule: 0, PermissionSet: "ObjectStorageReadOnly", Principal: iam.GroupPrincipal("everyone"), Scope: iam.GrantScope{AllProjects: true}}},
			phrases: []string{"in all projects"},
		},
		{
			name:    "all-projects rule, asked at the organization",
			req:     atOrg(dora, w.org, "ObjectStorageReadOnly"),
			want:    []iam.Grant{{PolicyID: "pol-everyone", PolicyName: "policy pol-everyone", Rule: 0, PermissionSet: "ObjectStorageReadOnly", Principal: iam.GroupPrincipal("everyone"), Scope: iam.GrantScope{AllProjects: true}}},
			phrases: []string{"ALLOW user:dora ObjectStorageReadOnly in organization acme"},
		},
		{
			name:    "organization set at the organization",
			req:     atOrg(app, w.org, "BillingReadOnly"),
			want:    []iam.Grant{{PolicyID: "pol-app", PolicyName: "policy pol-app", Rule: 0, PermissionSet: "BillingReadOnly", Principal: app, Scope: iam.GrantScope{Organization: true}}},
			phrases: []string{"ALLOW application:app BillingReadOnly in organization acme", "to application:app in the organization"},
		},
		{
			name: "organization triple at the organization",
			req:  atOrg(app, w.org, "billing:invoice:read"),
			want: []iam.Grant{{PolicyID: "pol-app", PolicyName: "policy pol-app", Rule: 0, PermissionSet: "BillingReadOnly", Principal: app, Scope: iam.GrantScope{Organization: true}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.ProjectID == "late" {
				w.project(w.org, "late")
			}
			x := xpExplain(w, tc.req)
			require.True(t, x.Decision.Allowed)
			require.Equal(t, iam.ReasonGranted, x.Decision.Reason)
			require.Equal(t, w.ev.Revision(), x.Decision.Revision)
			if diff := gocmp.Diff(tc.want, x.Grants); diff != "" {
				t.Errorf("grants (-want +got):\n%s", diff)
			}
			assert.Empty(t, x.Denial, "an allow has no denial")
			assert.Empty(t, x.HeldIn)
			assert.Empty(t, x.Related)
			s := x.String()
			assert.True(t, strings.HasPrefix(s, "ALLOW "), "first line: %q", xpFirstLine(s))
			assert.Equal(t, len(tc.want)+1, strings.Count(s, "\n")+1, "one line for the decision, one per grant:\n%s", s)
			for _, p := range tc.phrases {
				assert.Contains(t, s, p)
			}
			assert.Equal(t, tc.req, x.Request, "the explanation carries the request")
		})
	}
}

// TestExplainTripleViaAllProjects: a triple granted by a rule on the
// organization names the set and the scope all projects; Via, when set,
// is a set inside the named set's includes that has a matching pattern.
func TestExplainTripleViaAllProjects(t *testing.T) {
	t.Parallel()
	w := newXPWorld(t)
	w.policy(w.org, "pol-dora", iam.UserPrincipal("dora"), onOrg(w.org, "InstancesFullAccess"))
	x := xpExplain(w, inProject(iam.UserPrincipal("dora"), "B", "instance:server:create"))
	require.True(t, x.Decision.Allowed)
	require.Len(t, x.Grants, 1)
	g := x.Grants[0]
	assert.Equal(t, "pol-dora", g.PolicyID)
	assert.Equal(t, "InstancesFullAccess", g.PermissionSet)
	assert.Equal(t, iam.GrantScope{AllProjects: true}, g.Scope)
	assert.Equal(t, iam.UserPrincipal("dora"), g.Principal)
	if g.Via != "" {
		ps, err := w.store.GetPermissionSet(w.ctx, "", g.Via)
		require.NoError(t, err)
		assert.True(t, slices.ContainsFunc(ps.Permissions, func(p string) bool { return iam.MatchPermission(p, "instance:server:create") }),
			"Via %s must hold a pattern matching the triple", g.Via)
	}
}

func TestExplainOwner(t *testing.T) {
	t.Parallel()
	w := newXPWorld(t)
	owner := iam.UserPrincipal(w.owner)
	for _, req := range []iam.Request{
		inProject(owner, "A", "InstancesFullAccess"),
		atOrg(owner, w.org, "OrganizationManager"),
		atOrg(owner, w.org, "iam:policy:delete"),
	} {
		x := xpExplain(w, req)
		require.True(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonOwner, x.Decision.Reason)
		require.Equal(t, []iam.Grant{{Owner: true}}, x.Grants)
		s := x.String()
		assert.True(t, strings.HasPrefix(s, "ALLOW user:acme-owner "), s)
		assert.Contains(t, s, "because owner of the organization")
		assert.Empty(t, x.Denial)
	}
}

func TestExplainDeny(t *testing.T) {
	t.Parallel()
	w := newXPWorld(t)
	w.addOrg("globex", "globex-owner")
	ana, dora, carl := iam.UserPrincipal("ana"), iam.UserPrincipal("dora"), iam.UserPrincipal("carl")
	w.policy(w.org, "pol-ana", ana,
		onProjects(ids("A", "C"), "InstancesFullAccess"),
		onProjects(ids("B"), "InstancesReadOnly", "ObjectStorageBucketsRead"))
	w.policy(w.org, "pol-carl", carl, onOrg(w.org, "AllProductsFullAccess"))
	w.policy(w.org, "pol-dora", dora, iam.Rule{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"ContainersFullAccess"}, Condition: `request.ip == "203.0.113.7"`})
	soon := clockStart.Add(time.Hour)
	key := w.key(iam.APIKey{OrganizationID: w.org, Bearer: ana, ExpiresAt: soon})

	t.Run("nothing grants it", func(t *testing.T) {
		x := xpExplain(w, inProject(dora, "B", "InstancesServerCreate"))
		require.False(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonNotGranted, x.Decision.Reason)
		assert.Empty(t, x.Grants)
		assert.Equal(t, "no policy grants it to the caller or to its groups", x.Denial)
		assert.Empty(t, x.HeldIn)
		assert.Empty(t, x.Related)
		assert.Equal(t, "DENY user:dora InstancesServerCreate in project B\n  no policy grants it to the caller or to its groups", x.String())
	})
	t.Run("held elsewhere", func(t *testing.T) {
		x := xpExplain(w, inProject(ana, "B", "InstancesServerCreate"))
		require.False(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonNotGranted, x.Decision.Reason)
		assert.Empty(t, x.Grants)
		assert.NotEmpty(t, x.Denial)
		assert.Equal(t, []string{"A", "C"}, x.HeldIn)
		s := x.String()
		assert.True(t, strings.HasPrefix(s, "DENY user:ana InstancesServerCreate in project B\n"), s)
		assert.Contains(t, s, "it is held in: A, C")
	})
	t.Run("held elsewhere, a triple", func(t *testing.T) {
		x := xpExplain(w, inProject(ana, "acme", "instance:server:delete"))
		require.False(t, x.Decision.Allowed)
		assert.Equal(t, []string{"A", "C"}, x.HeldIn)
	})
	t.Run("held in projects, asked at the organization", func(t *testing.T) {
		x := xpExplain(w, atOrg(ana, w.org, "InstancesFullAccess"))
		require.False(t, x.Decision.Allowed, "rules listing projects never grant an organization-wide request")
		assert.Equal(t, []string{"A", "C"}, x.HeldIn)
	})
	t.Run("related sets held here", func(t *testing.T) {
		x := xpExplain(w, inProject(ana, "B", "InstancesFullAccess"))
		require.False(t, x.Decision.Allowed)
		assert.Contains(t, x.Related, "InstancesReadOnly")
		assert.NotContains(t, x.Related, "InstancesServerList", "only the outermost sets are named: InstancesReadOnly includes it")
		assert.NotContains(t, x.Related, "ObjectStorageBucketsRead", "a set of another service is not related")
		assert.True(t, slices.IsSorted(x.Related))
		assert.Equal(t, []string{"A", "C"}, x.HeldIn)
		assert.Contains(t, x.String(), "\n  related sets held here: ")
		assert.Contains(t, xpLastLine(x.String()), "InstancesReadOnly")
	})
	t.Run("related sets for a triple", func(t *testing.T) {
		x := xpExplain(w, inProject(ana, "B", "object-storage:bucket:delete"))
		require.False(t, x.Decision.Allowed)
		assert.Equal(t, []string{"ObjectStorageBucketsRead"}, x.Related)
		assert.Empty(t, x.HeldIn)
	})
	t.Run("locked user", func(t *testing.T) {
		x := xpExplain(w, inProject(carl, "A", "InstancesFullAccess"))
		require.False(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonLocked, x.Decision.Reason)
		assert.Empty(t, x.Grants, "a locked user's grants are not shown as granting")
		assert.Contains(t, x.Denial, "locked")
		assert.Contains(t, x.Denial, "unlock")
		assert.True(t, strings.HasPrefix(x.String(), "DENY user:carl InstancesFullAccess in project A\n"), x.String())
	})
	t.Run("expired key", func(t *testing.T) {
		req := inProject(iam.APIKeyPrincipal(key.AccessKey), "A", "InstancesFullAccess")
		x := xpExplain(w, req)
		require.True(t, x.Decision.Allowed, "not yet expired")
		require.Len(t, x.Grants, 1)
		assert.Equal(t, ana, x.Grants[0].Principal, "a key's grants are its bearer's")
		w.clock.Set(soon)
		defer w.clock.Set(clockStart)
		x = xpExplain(w, req)
		require.False(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonExpired, x.Decision.Reason)
		assert.Empty(t, x.Grants)
		assert.Contains(t, x.Denial, key.AccessKey)
		assert.Contains(t, x.Denial, "expired")
		assert.NotContains(t, x.String(), key.Secret)
		assert.True(t, strings.HasPrefix(x.String(), "DENY api_key:"+key.AccessKey+" InstancesFullAccess in project A\n"), x.String())
	})
	t.Run("other organization", func(t *testing.T) {
		x := xpExplain(w, atOrg(ana, "globex", "BillingReadOnly"))
		require.False(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonOtherOrganization, x.Decision.Reason)
		// It names neither organization: the caller's is not for the
		// target's to learn, nor the target's for the caller's.
		assert.Contains(t, x.Denial, "different organizations")
		assert.NotContains(t, x.Denial, "acme")
		assert.NotContains(t, x.Denial, "globex")
		assert.Empty(t, x.Grants)
		x = xpExplain(w, inProject(iam.UserPrincipal("globex-owner"), "A", "InstancesFullAccess"))
		require.Equal(t, iam.ReasonOtherOrganization, x.Decision.Reason, "another organization's owner owns nothing here")
		assert.Empty(t, x.Grants)
	})
	t.Run("conditional rule false", func(t *testing.T) {
		x := xpExplain(w, inProject(dora, "A", "ContainersFullAccess"))
		require.False(t, x.Decision.Allowed)
		require.Equal(t, iam.ReasonNotGranted, x.Decision.Reason)
		assert.Empty(t, x.Grants)
		assert.Contains(t, x.Denial, "pol-dora")
		assert.Contains(t, x.Denial, `request.ip == "203.0.113.7"`, "the denial shows the condition")
		assert.Contains(t, x.Denial, "false")
		assert.Contains(t, x.String(), `request.ip == "203.0.113.7"`)
	})
	t.Run("conditional rule true", func(t *testing.T) {
		req := inProject(dora, "A", "ContainersFullAccess")
		req.IP = xpAddr(t, "203.0.113.7")
		x := xpExplain(w, req)
		require.True(t, x.Decision.Allowed)
		require.Equal(t, []iam.Grant{{PolicyID: "pol-dora", PolicyName: "policy pol-dora", PermissionSet: "ContainersFullAccess", Principal: dora, Scope: iam.GrantScope{ProjectID: "A"}, Condition: `request.ip == "203.0.113.7"`}}, x.Grants)
		assert.Contains(t, x.String(), `to user:dora in project A when request.ip == "203.0.113.7"`)
	})
	t.Run("errors are Check's", func(t *testing.T) {
		for _, req := range []iam.Request{
			{ProjectID: "A", Permission: "InstancesFullAccess"},
			inProject(ana, "nope", "InstancesFullAccess"),
			inProject(ana, "A", "InstanceFullAccess"),
			inProject(ana, "A", "IAMManager"),
			inProject(iam.UserPrincipal("nobody"), "A", "InstancesFullAccess"),
			inProject(iam.GroupPrincipal("ana"), "A", "InstancesFullAccess"),
			inProject(ana, "A", "instance:*:create"),
		} {
			_, cerr := w.ev.Check(w.ctx, req)
			require.Error(t, cerr)
			x, err := w.ev.Explain(w.ctx, req)
			require.Error(t, err, "%+v", req)
			assert.Equal(t, cerr.Error(), err.Error())
			assert.Equal(t, rvErrClass(cerr), rvErrClass(err))
			assert.False(t, x.Decision.Allowed)
		}
	})
}

// TestExplainStringLogLine: the first line alone reads as a log line; the
// whole reads well in a terminal (indented reasons, no trailing newline).
func TestExplainStringLogLine(t *testing.T) {
	t.Parallel()
	w := newXPWorld(t)
	w.policy(w.org, "pol-unnamed", iam.UserPrincipal("dora"), onProjects(ids("A"), "Scout"))
	p, err := w.store.GetPolicy(w.ctx, "pol-unnamed")
	require.NoError(t, err)
	p.Name = ""
	_, err = w.store.UpdatePolicy(w.ctx, p)
	require.NoError(t, err)
	x := xpExplain(w, inProject(iam.UserPrincipal("dora"), "A", "Scout"))
	assert.Equal(t, "ALLOW user:dora Scout in project A\n  because policy pol-unnamed rule 0 grants Scout to user:dora in project A", x.String(),
		"a policy without a name is shown by its ID")
	for _, req := range []iam.Request{
		inProject(iam.UserPrincipal("dora"), "B", "Scout"),
		inProject(iam.UserPrincipal("carl"), "B", "Scout"),
		atOrg(iam.UserPrincipal("dora"), w.org, "BillingReadOnly"),
	} {
		s := xpExplain(w, req).String()
		assert.True(t, strings.HasPrefix(s, "DENY "), s)
		assert.False(t, strings.HasSuffix(s, "\n"), "no trailing newline: %q", s)
		for i, line := range strings.Split(s, "\n") {
			if i > 0 {
				assert.True(t, strings.HasPrefix(line, "  "), "reasons are indented: %q", line)
			}
		}
	}
	assert.Equal(t, "project A", iam.GrantScope{ProjectID: "A"}.String())
	assert.Equal(t, "all projects", iam.GrantScope{AllProjects: true}.String())
	assert.Equal(t, "the organization", iam.GrantScope{Organization: true}.String())
}

// TestExplainAgreesWithCheck: over every principal, target and permission
// of the reverse-query world, Explain's Decision is Check's (errors
// included), an allow lists grants that name the target, a deny says why.
func TestExplainAgreesWithCheck(t *testing.T) {
	t.Parallel()
	w := newRVWorld(t)
	for _, cname := range sortedMapKeys(w.contexts) {
		c := w.contexts[cname]
		perms := w.perms
		if cname != primaryContext {
			perms = slices.Collect(func(yield func(string) bool) {
				for _, p := range w.perms {
					if w.focus[p] && !yield(p) {
						return
					}
				}
			})
		}
		for _, req := range w.allRequests(c, perms) {
			d, cerr := w.ev.Check(w.ctx, req)
			x, err := w.ev.Explain(w.ctx, req)
			if cerr != nil || err != nil {
				if cerr == nil || err == nil || cerr.Error() != err.Error() {
					t.Fatalf("[%s] %+v: Check fails with %v, Explain with %v", cname, req, cerr, err)
				}
				continue
			}
			if d != x.Decision {
				t.Fatalf("[%s] %+v: Check answers %+v, Explain %+v\n%s", cname, req, d, x.Decision, x)
			}
			s := x.String()
			switch {
			case d.Allowed && (len(x.Grants) == 0 || x.Denial != "" || !strings.HasPrefix(s, "ALLOW ")):
				t.Fatalf("[%s] %+v: an allow without grants, or with a denial:\n%s", cname, req, s)
			case !d.Allowed && (len(x.Grants) != 0 || x.Denial == "" || !strings.HasPrefix(s, "DENY ")):
				t.Fatalf("[%s] %+v: a deny with grants, or without a reason:\n%s", cname, req, s)
			}
			for _, g := range x.Grants {
				if g.Owner {
					continue
				}
				if req.ProjectID != "" && g.Scope.ProjectID != "" && g.Scope.ProjectID != req.ProjectID {
					t.Fatalf("[%s] %+v: a grant in another project: %v", cname, req, g)
				}
				if g.Condition != "" && !d.Allowed {
					t.Fatalf("[%s] %+v: a conditional grant in a deny: %v", cname, req, g)
				}
			}
			if req.ProjectID != "" && slices.Contains(x.HeldIn, req.ProjectID) {
				t.Fatalf("[%s] %+v: denied, yet held in the very project it asks:\n%s", cname, req, s)
			}
		}
	}
}

func xpAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	require.NoError(t, err)
	return a
}

// xpLastLine returns s from its last newline.
func xpLastLine(s string) string {
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// BenchmarkExplainSmall explains an allow through a group and an include,
// and a deny with its context, in a small world.
func BenchmarkExplainSmall(b *testing.B) {
	w := newXPWorld(b)
	w.policy(w.org, "pol-devs", iam.GroupPrincipal("devs"), onProjects(ids("A", "B"), "InstancesFullAccess", "DeployAll"))
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		req  iam.Request
		want bool
	}{
		{"allow", inProject(iam.UserPrincipal("ana"), "A", "InstancesServerCreate"), true},
		{"deny", inProject(iam.UserPrincipal("ana"), "C", "InstancesServerCreate"), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x, err := w.ev.Explain(ctx, bc.req)
				if err != nil {
					b.Fatal(err)
				}
				if x.Decision.Allowed != bc.want {
					b.Fatalf("got %v", x)
				}
			}
		})
	}
}
