package iam_test

// Conditions (rule 7 of docs/semantics.md) through the Evaluator, with the CEL
// engine: each variable, inIpRange, the documented examples, conditional
// and unconditional rules side by side, false and failing conditions, the
// reverse queries, Explain, and stores or evaluators without an engine.

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/conditions"
)

// cdWorld is a world with conditions on, projects A and B, and the user
// "u" whose only grants the test gives.
func newCDWorld(t testing.TB) *world {
	t.Helper()
	w := newWorld(t, iam.WithConditions(conditions.New()))
	w.project(w.org, "A")
	w.project(w.org, "B")
	w.user(w.org, "u")
	return w
}

// cdGrantWhen gives user u the set InstancesServerCreate in project A when
// cond holds, replacing its previous conditional policy.
func cdGrantWhen(t testing.TB, w *world, cond string) {
	t.Helper()
	pol := iam.Policy{ID: "pol-cond", OrganizationID: w.org, Name: "conditional", Principal: iam.UserPrincipal("u"),
		Rules: []iam.Rule{{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesServerCreate"}, Condition: cond}}}
	if _, err := w.store.GetPolicy(w.ctx, "pol-cond"); err == nil {
		_, err = w.store.UpdatePolicy(w.ctx, pol)
		require.NoError(t, err, "condition %s", cond)
		return
	}
	_, err := w.store.CreatePolicy(w.ctx, pol)
	require.NoError(t, err, "condition %s", cond)
}

// cdCase is a request context and whether the condition holds in it.
type cdCase struct {
	name string
	ctx  iam.Request // the condition context (Principal, target, permission are filled in)
	want bool
}

// cdRun asserts, for each case, Check's answer for u in A (set name and
// triple), Explain's agreement, and that project B (no rule) is denied.
func cdRun(t *testing.T, w *world, cond string, cases []cdCase) {
	t.Helper()
	cdGrantWhen(t, w, cond)
	for _, tc := range cases {
		for _, perm := range []string{"InstancesServerCreate", "instance:server:create"} {
			req := tc.ctx
			req.Principal, req.ProjectID, req.Permission = iam.UserPrincipal("u"), "A", perm
			d, err := w.ev.Check(w.ctx, req)
			require.NoError(t, err)
			if tc.want {
				require.True(t, d.Allowed, "%s: %s should hold for %s", tc.name, cond, perm)
				require.Equal(t, iam.ReasonGranted, d.Reason)
			} else {
				require.False(t, d.Allowed, "%s: %s should not hold for %s", tc.name, cond, perm)
				require.Equal(t, iam.ReasonNotGranted, d.Reason)
			}
			x, err := w.ev.Explain(w.ctx, req)
			require.NoError(t, err)
			require.Equal(t, d, x.Decision, "%s: Explain agrees with Check", tc.name)
			if tc.want {
				require.Len(t, x.Grants, 1)
				require.Equal(t, cond, x.Grants[0].Condition, "Explain shows the condition")
				require.Contains(t, x.String(), " when "+cond)
			} else {
				require.Contains(t, x.Denial, cond, "%s: the denial names the condition", tc.name)
			}
			req.ProjectID = "B"
			d, err = w.ev.Check(w.ctx, req)
			require.NoError(t, err)
			require.False(t, d.Allowed, "%s: a condition never widens the rule's scope", tc.name)
		}
	}
}

func TestConditionalRequestIP(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	ip := netip.MustParseAddr
	// The documented example: IP equality.
	cdRun(t, w, `request.ip == "203.0.113.7"`, []cdCase{
		{"that IP", iam.Request{IP: ip("203.0.113.7")}, true},
		{"IPv4-mapped IPv6 shows as IPv4", iam.Request{IP: ip("::ffff:203.0.113.7")}, true},
		{"another IP", iam.Request{IP: ip("203.0.113.8")}, false},
		{"no IP", iam.Request{}, false},
	})
	cdRun(t, w, `request.ip == "2001:db8::1"`, []cdCase{
		{"IPv6", iam.Request{IP: ip("2001:db8::1")}, true},
		{"IPv6 zone dropped", iam.Request{IP: ip("2001:db8::1%eth0")}, true},
		{"other IPv6", iam.Request{IP: ip("2001:db8::2")}, false},
	})
	cdRun(t, w, `request.ip == ""`, []cdCase{
		{"no IP is the empty string", iam.Request{}, true},
		{"an IP", iam.Request{IP: ip("10.0.0.1")}, false},
	})
}

func TestConditionalInIPRange(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	ip := netip.MustParseAddr
	cdRun(t, w, `inIpRange(request.ip, "192.168.0.0/16")`, []cdCase{
		{"inside", iam.Request{IP: ip("192.168.4.5")}, true},
		{"edge", iam.Request{IP: ip("192.168.255.255")}, true},
		{"outside", iam.Request{IP: ip("192.169.0.1")}, false},
		{"mapped IPv6 inside", iam.Request{IP: ip("::ffff:192.168.1.1")}, true},
		{"IPv6 never in an IPv4 subnet", iam.Request{IP: ip("2001:db8::1")}, false},
		{"no IP: a runtime error grants nothing", iam.Request{}, false},
	})
	cdRun(t, w, `!inIpRange(request.ip, "10.0.0.0/8")`, []cdCase{
		{"outside, negated", iam.Request{IP: ip("192.0.2.1")}, true},
		{"inside, negated", iam.Request{IP: ip("10.1.1.1")}, false},
		{"no IP: the error grants nothing, negated or not", iam.Request{}, false},
	})
	cdRun(t, w, `inIpRange(request.ip, "2001:db8::/32")`, []cdCase{
		{"IPv6 inside", iam.Request{IP: ip("2001:db8:1::5")}, true},
		{"IPv6 outside", iam.Request{IP: ip("2001:db9::1")}, false},
		{"IPv4 never in an IPv6 subnet", iam.Request{IP: ip("192.0.2.1")}, false},
	})
}

// TestConditionalRequestTime: the documented office-hours example, with a
// fixed Request.Time and with the Evaluator's clock when it is zero.
func TestConditionalRequestTime(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	const office = `request.time.getDayOfWeek("Europe/Paris") >= 1 && request.time.getDayOfWeek("Europe/Paris") <= 5 && ` +
		`request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18`
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm
	}
	cdRun(t, w, office, []cdCase{
		{"Monday 09:30 Paris, winter (08:30 UTC)", iam.Request{Time: at("2026-01-05T08:30:00Z")}, true},
		{"Monday 08:30 Paris, winter (07:30 UTC)", iam.Request{Time: at("2026-01-05T07:30:00Z")}, false},
		{"Monday 17:59 Paris, winter", iam.Request{Time: at("2026-01-05T16:59:00Z")}, true},
		{"Monday 18:00 Paris, winter", iam.Request{Time: at("2026-01-05T17:00:00Z")}, false},
		{"Monday 09:30 Paris, summer (07:30 UTC)", iam.Request{Time: at("2026-07-06T07:30:00Z")}, true},
		{"Monday 18:30 Paris, summer (16:30 UTC)", iam.Request{Time: at("2026-07-06T16:30:00Z")}, false},
		{"Saturday noon Paris", iam.Request{Time: at("2026-01-10T11:00:00Z")}, false},
		{"Friday 23:30 UTC is Saturday in Paris", iam.Request{Time: at("2026-01-09T23:30:00Z")}, false},
		{"Sunday 23:30 UTC is Monday 00:30 in Paris, before hours", iam.Request{Time: at("2026-01-11T23:30:00Z")}, false},
		{"a time in another zone is the same instant", iam.Request{Time: at("2026-01-05T10:30:00+02:00")}, true},
	})
	// A zero Request.Time is the Evaluator's clock, in Check, Explain and
	// the reverse queries alike.
	w.clock.Set(at("2026-01-07T10:00:00Z")) // Wednesday 11:00 Paris
	w.expect(t, inProject(iam.UserPrincipal("u"), "A", "InstancesServerCreate"), granted)
	who, err := w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "A", Permission: "InstancesServerCreate"})
	require.NoError(t, err)
	assert.Contains(t, who, iam.UserPrincipal("u"))
	w.clock.Set(at("2026-01-07T20:00:00Z")) // Wednesday 21:00 Paris
	w.expect(t, inProject(iam.UserPrincipal("u"), "A", "InstancesServerCreate"), notGranted)
	who, err = w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "A", Permission: "InstancesServerCreate"})
	require.NoError(t, err)
	assert.NotContains(t, who, iam.UserPrincipal("u"))
	x, err := w.ev.Explain(w.ctx, inProject(iam.UserPrincipal("u"), "A", "InstancesServerCreate"))
	require.NoError(t, err)
	assert.False(t, x.Decision.Allowed)
	// Other accessors and a fixed offset.
	cdRun(t, w, `request.time.getFullYear() == 2026 && request.time.getMonth() == 0 && request.time.getHours("+01:00") == 9`, []cdCase{
		{"January 2026, 09:xx at +01:00", iam.Request{Time: at("2026-01-05T08:10:00Z")}, true},
		{"February", iam.Request{Time: at("2026-02-05T08:10:00Z")}, false},
	})
	cdRun(t, w, `request.time < timestamp("2026-06-01T00:00:00Z")`, []cdCase{
		{"before", iam.Request{Time: at("2026-05-31T23:59:59Z")}, true},
		{"at", iam.Request{Time: at("2026-06-01T00:00:00Z")}, false},
	})
}

func TestConditionalUserAgent(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	// The documented example.
	cdRun(t, w, `request.user_agent.contains("terraform/")`, []cdCase{
		{"terraform", iam.Request{UserAgent: "terraform/1.7.0 (+https://www.terraform.io) terraform-provider-scaleway/2.40"}, true},
		{"in the middle", iam.Request{UserAgent: "HashiCorp terraform/1.5"}, true},
		{"case matters", iam.Request{UserAgent: "Terraform/1.7.0"}, false},
		{"curl", iam.Request{UserAgent: "curl/8.5.0"}, false},
		{"none", iam.Request{}, false},
	})
	cdRun(t, w, `request.user_agent.startsWith("scw-cli/") && size(request.user_agent) <= 255`, []cdCase{
		{"cli", iam.Request{UserAgent: "scw-cli/2.30"}, true},
		{"a long agent is cut to 255 bytes", iam.Request{UserAgent: "scw-cli/" + strings.Repeat("x", 1000)}, true},
	})
	cdRun(t, w, `request.user_agent.endsWith("tail")`, []cdCase{
		{"the tail of a long agent is cut off", iam.Request{UserAgent: strings.Repeat("x", 300) + "tail"}, false},
		{"a short one keeps it", iam.Request{UserAgent: "head tail"}, true},
	})
}

func TestConditionalResource(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	// The documented example.
	cdRun(t, w, `has(resource.id) && resource.name.startsWith("prod-")`, []cdCase{
		{"a prod resource", iam.Request{Resource: &iam.Resource{ID: "srv-1", Name: "prod-web"}}, true},
		{"a dev resource", iam.Request{Resource: &iam.Resource{ID: "srv-2", Name: "dev-web"}}, false},
		{"a list request: no resource, has() is false", iam.Request{}, false},
		{"an id without a name: reading it is a runtime error", iam.Request{Resource: &iam.Resource{ID: "srv-3"}}, false},
	})
	cdRun(t, w, `resource.id == "srv-1"`, []cdCase{
		{"that id", iam.Request{Resource: &iam.Resource{ID: "srv-1"}}, true},
		{"another id", iam.Request{Resource: &iam.Resource{ID: "srv-2"}}, false},
		{"no resource: a runtime error grants nothing", iam.Request{}, false},
		{"an empty resource has no id", iam.Request{Resource: &iam.Resource{}}, false},
	})
	cdRun(t, w, `!has(resource.id)`, []cdCase{
		{"list requests only", iam.Request{}, true},
		{"not on a resource", iam.Request{Resource: &iam.Resource{ID: "srv-1"}}, false},
	})
	cdRun(t, w, `has(resource.locality) && resource.locality in ["fr-par-1", "fr-par-2"]`, []cdCase{
		{"Paris 1", iam.Request{Resource: &iam.Resource{ID: "x", Locality: "fr-par-1"}}, true},
		{"Amsterdam", iam.Request{Resource: &iam.Resource{ID: "x", Locality: "nl-ams-1"}}, false},
		{"no locality", iam.Request{Resource: &iam.Resource{ID: "x"}}, false},
	})
	cdRun(t, w, `has(resource.name) && resource.name.matches("^db-[0-9]+$")`, []cdCase{
		{"matches", iam.Request{Resource: &iam.Resource{Name: "db-42"}}, true},
		{"does not", iam.Request{Resource: &iam.Resource{Name: "db-x"}}, false},
	})
}

// TestConditionalAndUnconditional: a conditional and an unconditional rule
// on the same set: the unconditional one wins whatever the condition; a
// false or failing condition grants nothing on its own.
func TestConditionalAndUnconditional(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	u := iam.UserPrincipal("u")
	w.policy(w.org, "pol-cond", u,
		iam.Rule{Scope: iam.ProjectsScope("A", "B"), PermissionSets: []string{"ContainersFullAccess"}, Condition: `request.ip == "203.0.113.7"`},
		iam.Rule{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"BillingReadOnly"}, Condition: `resource.id == "x"`})
	w.policy(w.org, "pol-plain", u, onProjects(ids("A"), "ContainersFullAccess"))

	for _, ip := range []string{"", "203.0.113.7", "198.51.100.1"} {
		req := inProject(u, "A", "ContainersFullAccess")
		if ip != "" {
			req.IP = netip.MustParseAddr(ip)
		}
		w.expect(t, req, granted)
		x, err := w.ev.Explain(w.ctx, req)
		require.NoError(t, err)
		require.True(t, x.Decision.Allowed)
		var plain int
		for _, g := range x.Grants {
			if g.Condition == "" {
				plain++
				assert.Equal(t, "pol-plain", g.PolicyID)
			} else {
				assert.Equal(t, "203.0.113.7", ip, "a conditional grant is listed only when its condition holds")
			}
		}
		assert.Equal(t, 1, plain, "the unconditional grant is always listed")
	}
	// In B only the conditional rule applies.
	w.expect(t, inProject(u, "B", "ContainersFullAccess"), notGranted)
	w.expect(t, iam.Request{Principal: u, ProjectID: "B", Permission: "ContainersFullAccess", IP: netip.MustParseAddr("203.0.113.7")}, granted)
	w.expect(t, iam.Request{Principal: u, ProjectID: "B", Permission: "containers:namespace:create", IP: netip.MustParseAddr("203.0.113.7")}, granted)
	w.expect(t, iam.Request{Principal: u, ProjectID: "B", Permission: "ContainersReadOnly", IP: netip.MustParseAddr("203.0.113.7")}, granted)
	// A failing condition (no resource) grants nothing; a true one does.
	w.expect(t, atOrg(u, w.org, "BillingReadOnly"), notGranted)
	w.expect(t, iam.Request{Principal: u, OrganizationID: w.org, Permission: "BillingReadOnly", Resource: &iam.Resource{ID: "x"}}, granted)
	// A condition that is always false.
	w.policy(w.org, "pol-never", u, iam.Rule{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"AllProductsFullAccess"}, Condition: `1 == 2`})
	w.expect(t, inProject(u, "B", "InstancesServerList"), notGranted)
	w.expect(t, atOrg(u, w.org, "AllProductsFullAccess"), notGranted)
	what, err := w.ev.WhatCan(w.ctx, iam.Request{Principal: u, ProjectID: "B"})
	require.NoError(t, err)
	assert.Empty(t, what, "nothing unconditional is held in B")
}

// TestConditionalGroups: conditions on group policies, the special groups
// included, apply to their members.
func TestConditionalGroups(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	w.app(w.org, "bot", false)
	w.group(iam.Group{ID: "all", OrganizationID: w.org, AllUsers: true, AllApplications: true})
	w.policy(w.org, "pol-all", iam.GroupPrincipal("all"),
		iam.Rule{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"InstancesReadOnly"}, Condition: `inIpRange(request.ip, "10.0.0.0/8")`})
	in := netip.MustParseAddr("10.2.3.4")
	for _, p := range []iam.Principal{iam.UserPrincipal("u"), iam.ApplicationPrincipal("bot"), iam.GroupPrincipal("all")} {
		w.expect(t, inProject(p, "A", "InstancesServerList"), notGranted)
		w.expect(t, iam.Request{Principal: p, ProjectID: "A", Permission: "InstancesServerList", IP: in}, granted)
		w.expect(t, iam.Request{Principal: p, OrganizationID: w.org, Permission: "InstancesServerList", IP: in}, granted)
	}
}

// TestConditionalReverseQueries: WhoCan, WhatCan and WhereCan honour
// conditions for the request's context.
func TestConditionalReverseQueries(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	u := iam.UserPrincipal("u")
	w.user(w.org, "v")
	w.policy(w.org, "pol-u", u,
		iam.Rule{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesFullAccess"}, Condition: `request.ip == "203.0.113.7"`},
		iam.Rule{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"ContainersReadOnly"}, Condition: `request.user_agent.contains("terraform/")`},
		iam.Rule{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"BillingReadOnly"}, Condition: `has(resource.id)`})
	w.policy(w.org, "pol-v", iam.UserPrincipal("v"), onProjects(ids("B"), "InstancesServerCreate"))
	good := netip.MustParseAddr("203.0.113.7")

	// WhoCan.
	who := func(q iam.Request) []iam.Principal {
		t.Helper()
		got, err := w.ev.WhoCan(w.ctx, q)
		require.NoError(t, err)
		return got
	}
	owner := iam.UserPrincipal(w.owner)
	assert.Equal(t, []iam.Principal{owner}, who(iam.Request{ProjectID: "A", Permission: "InstancesServerCreate"}))
	assert.Equal(t, []iam.Principal{owner, u}, who(iam.Request{ProjectID: "A", Permission: "InstancesServerCreate", IP: good}))
	assert.Equal(t, []iam.Principal{owner, u}, who(iam.Request{ProjectID: "A", Permission: "instance:server:create", IP: good}))
	assert.Equal(t, []iam.Principal{owner, iam.UserPrincipal("v")}, who(iam.Request{ProjectID: "B", Permission: "InstancesServerCreate", IP: good}), "a condition never widens a rule's scope")
	assert.Equal(t, []iam.Principal{owner, u}, who(iam.Request{OrganizationID: w.org, Permission: "ContainersReadOnly", UserAgent: "terraform/1.7"}))
	assert.Equal(t, []iam.Principal{owner}, who(iam.Request{OrganizationID: w.org, Permission: "ContainersReadOnly", UserAgent: "curl"}))
	assert.Equal(t, []iam.Principal{owner, u}, who(iam.Request{OrganizationID: w.org, Permission: "BillingReadOnly", Resource: &iam.Resource{ID: "inv-1"}}))
	assert.Equal(t, []iam.Principal{owner}, who(iam.Request{OrganizationID: w.org, Permission: "BillingReadOnly"}))

	// WhatCan.
	what := func(q iam.Request) []string {
		t.Helper()
		got, err := w.ev.WhatCan(w.ctx, q)
		require.NoError(t, err)
		return got
	}
	assert.Empty(t, what(iam.Request{Principal: u, ProjectID: "A"}))
	got := what(iam.Request{Principal: u, ProjectID: "A", IP: good})
	assert.Contains(t, got, "InstancesFullAccess")
	assert.Contains(t, got, "InstancesServerCreate", "includes of a conditional grant are expanded")
	assert.NotContains(t, got, "ContainersReadOnly")
	assert.Empty(t, what(iam.Request{Principal: u, ProjectID: "B", IP: good}))
	got = what(iam.Request{Principal: u, ProjectID: "B", UserAgent: "terraform/1.7"})
	assert.Contains(t, got, "ContainersReadOnly")
	assert.NotContains(t, got, "InstancesFullAccess")
	got = what(iam.Request{Principal: u, OrganizationID: w.org, UserAgent: "terraform/1.7", Resource: &iam.Resource{ID: "x"}})
	assert.Contains(t, got, "ContainersReadOnly")
	assert.Contains(t, got, "BillingReadOnly")

	// WhereCan.
	where := func(q iam.Request) []string {
		t.Helper()
		got, err := w.ev.WhereCan(w.ctx, q)
		require.NoError(t, err)
		return got
	}
	assert.Empty(t, where(iam.Request{Principal: u, Permission: "InstancesServerCreate"}))
	assert.Equal(t, []string{"A"}, where(iam.Request{Principal: u, Permission: "InstancesServerCreate", IP: good}))
	assert.Equal(t, []string{"A"}, where(iam.Request{Principal: u, Permission: "instance:server:create", IP: good}))
	assert.Empty(t, where(iam.Request{Principal: u, Permission: "ContainersReadOnly"}))
	assert.Equal(t, []string{"A", "B", "acme"}, cdSorted(where(iam.Request{Principal: u, Permission: "ContainersReadOnly", UserAgent: "terraform/1.7"})))
	assert.Equal(t, []string{"A", "B", "acme"}, cdSorted(where(iam.Request{Principal: u, Permission: "containers:namespace:list", UserAgent: "terraform/1.7"})))

	// Each answer agrees with Check in the same context.
	for _, c := range []iam.Request{{}, {IP: good}, {UserAgent: "terraform/1.7"}, {IP: good, UserAgent: "terraform/", Resource: &iam.Resource{ID: "x"}}} {
		for _, perm := range []string{"InstancesFullAccess", "InstancesServerCreate", "ContainersReadOnly", "containers:namespace:list"} {
			q := c
			q.Principal, q.Permission = u, perm
			places := where(q)
			for _, project := range []string{"A", "B", "acme"} {
				r := c
				r.Principal, r.ProjectID, r.Permission = u, project, perm
				d, err := w.ev.Check(w.ctx, r)
				require.NoError(t, err)
				assert.Equal(t, d.Allowed, slices.Contains(places, project), "WhereCan and Check on %s in %s for %+v", perm, project, c)
			}
		}
	}
}

// TestConditionalStoreWithoutConditions: a store without an engine rejects
// every write carrying a condition, naming the rule and how to switch
// conditions on, and changes nothing.
func TestConditionalStoreWithoutConditions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.project(w.org, "A")
	w.user(w.org, "u")
	before := dumpStore(t, w.store)
	_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "pol", OrganizationID: w.org, Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{
		onProjects(ids("A"), "InstancesFullAccess"),
		{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"ContainersReadOnly"}, Condition: `request.ip == "203.0.113.7"`},
	}})
	ve := requireValidation(t, err, "rules[1].condition")
	assert.Contains(t, err.Error(), "rules[1]", "the error names the rule")
	assert.Contains(t, err.Error(), "iam.WithConditions(conditions.New())", "the error says how to switch conditions on")
	assert.Equal(t, "pol", ve.ID)
	requireUnchanged(t, w.store, before)

	// An update bringing a condition in, and an atomic write, alike.
	w.policy(w.org, "plain", iam.UserPrincipal("u"), onProjects(ids("A"), "InstancesFullAccess"))
	before = dumpStore(t, w.store)
	p, err := w.store.GetPolicy(w.ctx, "plain")
	require.NoError(t, err)
	p.Rules[0].Condition = "true"
	_, err = w.store.UpdatePolicy(w.ctx, p)
	requireValidation(t, err, "rules[0].condition")
	err = w.store.Atomic(w.ctx, func(tx iam.Tx) error {
		_, err := tx.CreatePolicy(w.ctx, iam.Policy{ID: "pol2", OrganizationID: w.org, Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{
			{Scope: iam.OrganizationScope(w.org), PermissionSets: []string{"BillingReadOnly"}, Condition: "true"},
		}})
		return err
	})
	requireValidation(t, err, "rules[0].condition")
	requireUnchanged(t, w.store, before)
	w.expect(t, inProject(iam.UserPrincipal("u"), "A", "InstancesFullAccess"), granted)
}

// TestConditionalCompileErrors: with conditions on, an expression that
// does not compile is invalid at write time and says where.
func TestConditionalCompileErrors(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	before := dumpStore(t, w.store)
	for _, expr := range []string{
		`request.agent == "x"`,                 // undeclared variable
		`request.ip ==`,                        // syntax
		`request.ip`,                           // not a bool
		`resource.zone == "x"`,                 // unknown resource field
		`inIpRange(request.ip, "10.0.0.0/33")`, // invalid literal subnet
		`request.time.getHours("Mars/Base") == 1`,
	} {
		_, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "bad", OrganizationID: w.org, Principal: iam.UserPrincipal("u"), Rules: []iam.Rule{
			{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesFullAccess"}, Condition: expr},
		}})
		requireValidation(t, err, "rules[0].condition")
		assert.Contains(t, err.Error(), "does not compile", expr)
	}
	requireUnchanged(t, w.store, before)
}

// TestConditionalEvaluatorEngines: the Evaluator takes the store's engine
// by default; WithConditions overrides it, and with nil no condition
// grants (Explain says why).
func TestConditionalEvaluatorEngines(t *testing.T) {
	t.Parallel()
	w := newCDWorld(t)
	cdGrantWhen(t, w, `request.ip == "203.0.113.7"`)
	req := iam.Request{Principal: iam.UserPrincipal("u"), ProjectID: "A", Permission: "InstancesServerCreate", IP: netip.MustParseAddr("203.0.113.7")}
	w.expect(t, req, granted)

	none, err := iam.NewEvaluator(w.ctx, w.store, iam.WithConditions(nil))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, none.Close()) })
	d, err := none.Check(w.ctx, req)
	require.NoError(t, err)
	assert.False(t, d.Allowed, "without an engine a rule with a condition grants nothing")
	x, err := none.Explain(w.ctx, req)
	require.NoError(t, err)
	assert.False(t, x.Decision.Allowed)
	assert.Contains(t, x.Denial, "no condition engine")
	assert.Contains(t, x.Denial, "pol-cond")
	who, err := none.WhoCan(w.ctx, iam.Request{ProjectID: "A", Permission: "InstancesServerCreate", IP: req.IP})
	require.NoError(t, err)
	assert.NotContains(t, who, iam.UserPrincipal("u"))
	what, err := none.WhatCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("u"), ProjectID: "A", IP: req.IP})
	require.NoError(t, err)
	assert.Empty(t, what)
	where, err := none.WhereCan(w.ctx, iam.Request{Principal: iam.UserPrincipal("u"), Permission: "InstancesServerCreate", IP: req.IP})
	require.NoError(t, err)
	assert.Empty(t, where)

	// Another engine: this one holds every condition.
	always, err := iam.NewEvaluator(w.ctx, w.store, iam.WithConditions(cdConstEngine(true)))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, always.Close()) })
	req.IP = netip.Addr{}
	d, err = always.Check(w.ctx, req)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "the Evaluator's own engine decides")
	w.expect(t, req, notGranted)
}

type cdConstEngine bool

func (e cdConstEngine) Compile(string) (iam.Condition, error) { return e, nil }
func (e cdConstEngine) Eval(*iam.Request) (bool, error)       { return bool(e), nil }

// TestConditionalOffTheFastPath: an unconditional check allocates nothing
// even when the caller has conditional rules, and a conditional rule adds
// nothing to the unconditional grants.
func TestConditionalOffTheFastPath(t *testing.T) {
	w := newCDWorld(t)
	u := iam.UserPrincipal("u")
	w.policy(w.org, "pol", u,
		onProjects(ids("A"), "InstancesFullAccess"),
		iam.Rule{Scope: iam.ProjectsScope("B"), PermissionSets: []string{"InstancesFullAccess"}, Condition: `request.ip == "203.0.113.7"`})
	allow := inProject(u, "A", "InstancesServerCreate")
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		d, err := w.ev.Check(ctx, allow)
		if err != nil || !d.Allowed {
			panic("want an allow")
		}
	})
	assert.Zero(t, allocs, "an unconditional allow allocates nothing, conditional rules beside it or not")
	w.expect(t, inProject(u, "B", "InstancesServerCreate"), notGranted)
	w.expect(t, iam.Request{Principal: u, ProjectID: "B", Permission: "InstancesServerCreate", IP: netip.MustParseAddr("203.0.113.7")}, granted)
}

// BenchmarkConditionalCheck: a check allowed only through a condition (the
// slow path), and the same user's unconditional allow for comparison.
func BenchmarkConditionalCheck(b *testing.B) {
	w := newCDWorld(b)
	u := iam.UserPrincipal("u")
	w.policy(w.org, "pol", u,
		onProjects(ids("A"), "ContainersFullAccess"),
		iam.Rule{Scope: iam.ProjectsScope("A"), PermissionSets: []string{"InstancesFullAccess"}, Condition: `request.ip == "203.0.113.7"`},
		iam.Rule{Scope: iam.ProjectsScope("B"), PermissionSets: []string{"InstancesFullAccess"},
			Condition: `request.time.getDayOfWeek("Europe/Paris") >= 1 && request.time.getDayOfWeek("Europe/Paris") <= 5 && request.time.getHours("Europe/Paris") >= 9 && request.time.getHours("Europe/Paris") < 18`})
	ctx := context.Background()
	monday := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		req  iam.Request
		want bool
	}{
		{"ip", iam.Request{Principal: u, ProjectID: "A", Permission: "InstancesServerCreate", IP: netip.MustParseAddr("203.0.113.7"), Time: monday}, true},
		{"office-hours", iam.Request{Principal: u, ProjectID: "B", Permission: "InstancesServerCreate", Time: monday}, true},
		{"ip-false", iam.Request{Principal: u, ProjectID: "A", Permission: "InstancesServerCreate", IP: netip.MustParseAddr("198.51.100.1"), Time: monday}, false},
		{"unconditional", iam.Request{Principal: u, ProjectID: "A", Permission: "ContainersFullAccess", Time: monday}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := w.ev.Check(ctx, bc.req)
				if err != nil || d.Allowed != bc.want {
					b.Fatalf("got %+v, %v", d, err)
				}
			}
		})
	}
}

func cdSorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
