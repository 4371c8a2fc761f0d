package iam_test

// Helpers shared by the black-box tests: small worlds built through the
// public Store API, a full dump of a store for "nothing changed"
// assertions, and short-hands for checks.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// world is one store with an Evaluator following it and one organization
// ("acme", with its owner "acme-owner") ready to fill.
type world struct {
	t     testing.TB
	ctx   context.Context
	store *iam.MemoryStore
	ev    *iam.Evaluator
	clock *testClock
	org   string
	owner string
}

// testClock is an injectable clock, safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

var clockStart = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// newWorld returns a store holding organization "acme" (with its default
// project "acme") and its owner "acme-owner", and an Evaluator on it whose
// clock the test controls.
func newWorld(t testing.TB, opts ...iam.Option) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{
		t:     t,
		ctx:   ctx,
		store: iam.NewMemoryStore(opts...),
		clock: &testClock{now: clockStart},
		org:   "acme",
		owner: "acme-owner",
	}
	w.addOrg("acme", "acme-owner")
	ev, err := iam.NewEvaluator(ctx, w.store, iam.WithClock(w.clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })
	w.ev = ev
	return w
}

// addOrg creates an organization and its owner (skipped when owner is "").
func (w *world) addOrg(id, owner string) {
	w.t.Helper()
	_, err := w.store.CreateOrganization(w.ctx, iam.Organization{ID: id, Name: "Org " + id})
	require.NoError(w.t, err)
	if owner != "" {
		_, err = w.store.CreateUser(w.ctx, iam.User{ID: owner, OrganizationID: id, Email: owner + "@" + id + ".test", Type: iam.UserOwner})
		require.NoError(w.t, err)
	}
}

func (w *world) project(org, id string) string {
	w.t.Helper()
	p, err := w.store.CreateProject(w.ctx, iam.Project{ID: id, OrganizationID: org, Name: "project " + id})
	require.NoError(w.t, err)
	return p.ID
}

func (w *world) user(org, id string) string {
	w.t.Helper()
	u, err := w.store.CreateUser(w.ctx, iam.User{ID: id, OrganizationID: org, Email: id + "@" + org + ".test"})
	require.NoError(w.t, err)
	return u.ID
}

func (w *world) app(org, id string, managed bool) string {
	w.t.Helper()
	a, err := w.store.CreateApplication(w.ctx, iam.Application{ID: id, OrganizationID: org, Name: "app " + id, Managed: managed})
	require.NoError(w.t, err)
	return a.ID
}

func (w *world) group(g iam.Group) string {
	w.t.Helper()
	if g.Name == "" {
		g.Name = "group " + g.ID
	}
	out, err := w.store.CreateGroup(w.ctx, g)
	require.NoError(w.t, err)
	return out.ID
}

func (w *world) policy(org, id string, p iam.Principal, rules ...iam.Rule) string {
	w.t.Helper()
	out, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: id, OrganizationID: org, Name: "policy " + id, Principal: p, Rules: rules})
	require.NoError(w.t, err)
	return out.ID
}

func (w *world) set(ps iam.PermissionSet) {
	w.t.Helper()
	_, err := w.store.CreatePermissionSet(w.ctx, ps)
	require.NoError(w.t, err)
}

func (w *world) key(k iam.APIKey) iam.APIKey {
	w.t.Helper()
	out, err := w.store.CreateAPIKey(w.ctx, k)
	require.NoError(w.t, err)
	return out
}

// onProjects and onOrg build rules.
func onProjects(projects []string, sets ...string) iam.Rule {
	return iam.Rule{Scope: iam.ProjectsScope(projects...), PermissionSets: sets}
}

func onOrg(org string, sets ...string) iam.Rule {
	return iam.Rule{Scope: iam.OrganizationScope(org), PermissionSets: sets}
}

func ids(s ...string) []string { return s }

// inProject and atOrg build requests.
func inProject(p iam.Principal, project, permission string) iam.Request {
	return iam.Request{Principal: p, ProjectID: project, Permission: permission}
}

func atOrg(p iam.Principal, org, permission string) iam.Request {
	return iam.Request{Principal: p, OrganizationID: org, Permission: permission}
}

// check runs req and asserts the contract that Allowed is false whenever
// err != nil.
func (w *world) check(req iam.Request) (iam.Decision, error) {
	w.t.Helper()
	d, err := w.ev.Check(w.ctx, req)
	if err != nil {
		require.False(w.t, d.Allowed, "Allowed must be false whenever err != nil (%v)", err)
	}
	return d, err
}

// outcome is what a check is expected to give: an allow or a deny with a
// reason, or an error matching a sentinel.
type outcome struct {
	allowed bool
	reason  iam.Reason
	err     error // a sentinel; nil: no error
}

var (
	granted    = outcome{allowed: true, reason: iam.ReasonGranted}
	ownerAllow = outcome{allowed: true, reason: iam.ReasonOwner}
	notGranted = outcome{reason: iam.ReasonNotGranted}
	otherOrg   = outcome{reason: iam.ReasonOtherOrganization}
	locked     = outcome{reason: iam.ReasonLocked}
	expired    = outcome{reason: iam.ReasonExpired}
	isInvalid  = outcome{err: iam.ErrInvalid}
	isNotFound = outcome{err: iam.ErrNotFound}
	isUnknown  = outcome{err: iam.ErrUnknownPermission}
	isMismatch = outcome{err: iam.ErrScopeMismatch}
)

func (o outcome) String() string {
	if o.err != nil {
		return "error " + o.err.Error()
	}
	if o.allowed {
		return "allowed (" + o.reason.String() + ")"
	}
	return "denied (" + o.reason.String() + ")"
}

// expect checks req and asserts its outcome.
func (w *world) expect(t testing.TB, req iam.Request, want outcome) {
	t.Helper()
	d, err := w.ev.Check(w.ctx, req)
	if err != nil {
		require.False(t, d.Allowed, "Allowed must be false whenever err != nil (%v)", err)
	}
	if want.err != nil {
		require.Error(t, err, "request %+v: want %v, got %+v", req, want, d)
		require.ErrorIs(t, err, want.err, "request %+v", req)
		for _, other := range []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch} {
			if other != want.err {
				require.NotErrorIs(t, err, other, "request %+v: want only %v", req, want.err)
			}
		}
		return
	}
	require.NoError(t, err, "request %+v: want %v", req, want)
	require.Equal(t, want.allowed, d.Allowed, "request %+v: want %v, got %+v", req, want, d)
	require.Equal(t, want.reason, d.Reason, "request %+v: want %v, got reason %v", req, want, d.Reason)
}

// dump is the whole content of a store as its List methods show it, and
// its revision.
type dump struct {
	Revision      uint64
	Organizations []iam.Organization
	Catalogue     int
	Orgs          map[string]orgDump
}

type orgDump struct {
	Projects       []iam.Project
	Users          []iam.User
	Applications   []iam.Application
	Groups         []iam.Group
	Policies       []iam.Policy
	PermissionSets []iam.PermissionSet
	APIKeys        []iam.APIKey
}

func dumpStore(t testing.TB, s iam.Store) dump {
	t.Helper()
	ctx := context.Background()
	rev, err := s.Revision(ctx)
	require.NoError(t, err)
	orgs, err := s.ListOrganizations(ctx)
	require.NoError(t, err)
	cat, err := s.ListPermissionSets(ctx, "")
	require.NoError(t, err)
	d := dump{Revision: rev, Organizations: orgs, Catalogue: len(cat), Orgs: map[string]orgDump{}}
	for _, o := range orgs {
		var od orgDump
		od.Projects, err = s.ListProjects(ctx, o.ID)
		require.NoError(t, err)
		od.Users, err = s.ListUsers(ctx, o.ID)
		require.NoError(t, err)
		od.Applications, err = s.ListApplications(ctx, o.ID)
		require.NoError(t, err)
		od.Groups, err = s.ListGroups(ctx, o.ID)
		require.NoError(t, err)
		od.Policies, err = s.ListPolicies(ctx, o.ID)
		require.NoError(t, err)
		od.PermissionSets, err = s.ListPermissionSets(ctx, o.ID)
		require.NoError(t, err)
		od.APIKeys, err = s.ListAPIKeys(ctx, o.ID)
		require.NoError(t, err)
		d.Orgs[o.ID] = od
	}
	return d
}

// requireUnchanged asserts that the store's full dump and revision are
// what before recorded.
func requireUnchanged(t testing.TB, s iam.Store, before dump) {
	t.Helper()
	after := dumpStore(t, s)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("a rejected write changed the store (-before +after):\n%s", diff)
	}
}

// requireValidation asserts that err is a *iam.ValidationError reached by
// errors.As, matching ErrInvalid, with the given field path.
func requireValidation(t testing.TB, err error, field string) *iam.ValidationError {
	t.Helper()
	require.Error(t, err)
	var ve *iam.ValidationError
	require.True(t, errors.As(err, &ve), "errors.As(%T %q, *iam.ValidationError) is false", err, err)
	require.ErrorIs(t, err, iam.ErrInvalid)
	if field != "" {
		require.Equal(t, field, ve.Field, "field path of %v", err)
	}
	return ve
}
