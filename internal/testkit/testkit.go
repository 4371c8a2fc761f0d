// Package testkit holds what the repository's own tests share, in the
// root package and in the test harnesses under internal/: a small world
// built through the public Store API with an Evaluator on it, rules and
// requests in one call, expected outcomes, the store dump for "nothing
// changed" assertions, and the fixed clock and file helpers of the fuzz
// and invariant tests. Only tests import it.
package testkit

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamtest"
	"github.com/iamkit/iam/internal/gen"
	"github.com/iamkit/iam/internal/storedump"
)

// World is one store with an Evaluator following it and one organization
// ("acme", with its owner "acme-owner") ready to fill.
type World struct {
	T     testing.TB
	Ctx   context.Context
	Store *iam.MemoryStore
	Ev    *iam.Evaluator
	Clock *iamtest.Clock // the Evaluator's clock, at ClockStart
	Org   string
	Owner string
}

// ClockStart is where a World's clock starts.
var ClockStart = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// NewWorld returns a store made with opts holding organization "acme"
// (with its default project "acme") and its owner "acme-owner", and an
// Evaluator on it whose clock the test controls, closed with the test.
func NewWorld(t testing.TB, opts ...iam.Option) *World {
	t.Helper()
	ctx := context.Background()
	w := &World{
		T:     t,
		Ctx:   ctx,
		Store: iam.NewMemoryStore(opts...),
		Clock: iamtest.NewClock(ClockStart),
		Org:   "acme",
		Owner: "acme-owner",
	}
	w.AddOrg("acme", "acme-owner")
	ev, err := iam.NewEvaluator(ctx, w.Store, iam.WithClock(w.Clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ev.Close()) })
	w.Ev = ev
	return w
}

// AddOrg creates an organization and its owner (skipped when owner is "").
func (w *World) AddOrg(id, owner string) {
	w.T.Helper()
	_, err := w.Store.CreateOrganization(w.Ctx, iam.Organization{ID: id, Name: "Org " + id})
	require.NoError(w.T, err)
	if owner != "" {
		_, err = w.Store.CreateUser(w.Ctx, iam.User{ID: owner, OrganizationID: id, Email: owner + "@" + id + ".test", Type: iam.UserOwner})
		require.NoError(w.T, err)
	}
}

// Project creates a project and returns its ID.
func (w *World) Project(org, id string) string {
	w.T.Helper()
	p, err := w.Store.CreateProject(w.Ctx, iam.Project{ID: id, OrganizationID: org, Name: "project " + id})
	require.NoError(w.T, err)
	return p.ID
}

// User creates a member and returns its ID.
func (w *World) User(org, id string) string {
	w.T.Helper()
	u, err := w.Store.CreateUser(w.Ctx, iam.User{ID: id, OrganizationID: org, Email: id + "@" + org + ".test"})
	require.NoError(w.T, err)
	return u.ID
}

// App creates an application and returns its ID.
func (w *World) App(org, id string, managed bool) string {
	w.T.Helper()
	a, err := w.Store.CreateApplication(w.Ctx, iam.Application{ID: id, OrganizationID: org, Name: "app " + id, Managed: managed})
	require.NoError(w.T, err)
	return a.ID
}

// Group creates g ("group <ID>" when it has no name) and returns its ID.
func (w *World) Group(g iam.Group) string {
	w.T.Helper()
	if g.Name == "" {
		g.Name = "group " + g.ID
	}
	out, err := w.Store.CreateGroup(w.Ctx, g)
	require.NoError(w.T, err)
	return out.ID
}

// Policy creates a policy and returns its ID.
func (w *World) Policy(org, id string, p iam.Principal, rules ...iam.Rule) string {
	w.T.Helper()
	out, err := w.Store.CreatePolicy(w.Ctx, iam.Policy{ID: id, OrganizationID: org, Name: "policy " + id, Principal: p, Rules: rules})
	require.NoError(w.T, err)
	return out.ID
}

// Set creates a permission set.
func (w *World) Set(ps iam.PermissionSet) {
	w.T.Helper()
	_, err := w.Store.CreatePermissionSet(w.Ctx, ps)
	require.NoError(w.T, err)
}

// Key creates an API key and returns it, with its secret.
func (w *World) Key(k iam.APIKey) iam.APIKey {
	w.T.Helper()
	out, err := w.Store.CreateAPIKey(w.Ctx, k)
	require.NoError(w.T, err)
	return out
}

// OnProjects and OnOrg build rules.
func OnProjects(projects []string, sets ...string) iam.Rule {
	return iam.Rule{Scope: iam.ProjectsScope(projects...), PermissionSets: sets}
}

// OnOrg builds a rule on the organization.
func OnOrg(org string, sets ...string) iam.Rule {
	return iam.Rule{Scope: iam.OrganizationScope(org), PermissionSets: sets}
}

// IDs is a list of IDs, for OnProjects and group members.
func IDs(s ...string) []string { return s }

// InProject builds a request in a project.
func InProject(p iam.Principal, project, permission string) iam.Request {
	return iam.Request{Principal: p, ProjectID: project, Permission: permission}
}

// AtOrg builds a request at an organization.
func AtOrg(p iam.Principal, org, permission string) iam.Request {
	return iam.Request{Principal: p, OrganizationID: org, Permission: permission}
}

// Check runs req and asserts the contract that Allowed is false whenever
// err != nil.
func (w *World) Check(req iam.Request) (iam.Decision, error) {
	w.T.Helper()
	d, err := w.Ev.Check(w.Ctx, req)
	if err != nil {
		require.False(w.T, d.Allowed, "Allowed must be false whenever err != nil (%v)", err)
	}
	return d, err
}

// Outcome is what a check is expected to give: an allow or a deny with a
// reason, or an error matching a sentinel.
type Outcome struct {
	Allowed bool
	Reason  iam.Reason
	Err     error // a sentinel; nil: no error
}

// The outcomes the tests expect.
var (
	Granted    = Outcome{Allowed: true, Reason: iam.ReasonGranted}
	OwnerAllow = Outcome{Allowed: true, Reason: iam.ReasonOwner}
	NotGranted = Outcome{Reason: iam.ReasonNotGranted}
	OtherOrg   = Outcome{Reason: iam.ReasonOtherOrganization}
	Locked     = Outcome{Reason: iam.ReasonLocked}
	Expired    = Outcome{Reason: iam.ReasonExpired}
	IsInvalid  = Outcome{Err: iam.ErrInvalid}
	IsNotFound = Outcome{Err: iam.ErrNotFound}
	IsUnknown  = Outcome{Err: iam.ErrUnknownPermission}
	IsMismatch = Outcome{Err: iam.ErrScopeMismatch}
)

func (o Outcome) String() string {
	if o.Err != nil {
		return "error " + o.Err.Error()
	}
	if o.Allowed {
		return "allowed (" + o.Reason.String() + ")"
	}
	return "denied (" + o.Reason.String() + ")"
}

// Expect checks req with the World's Evaluator and asserts its outcome:
// for an error, that it matches want's sentinel and no other of the
// check's sentinels.
func (w *World) Expect(t testing.TB, req iam.Request, want Outcome) {
	t.Helper()
	d, err := w.Ev.Check(w.Ctx, req)
	if err != nil {
		require.False(t, d.Allowed, "Allowed must be false whenever err != nil (%v)", err)
	}
	if want.Err != nil {
		require.Error(t, err, "request %+v: want %v, got %+v", req, want, d)
		require.ErrorIs(t, err, want.Err, "request %+v", req)
		for _, other := range []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch} {
			if other != want.Err {
				require.NotErrorIs(t, err, other, "request %+v: want only %v", req, want.Err)
			}
		}
		return
	}
	require.NoError(t, err, "request %+v: want %v", req, want)
	require.Equal(t, want.Allowed, d.Allowed, "request %+v: want %v, got %+v", req, want, d)
	require.Equal(t, want.Reason, d.Reason, "request %+v: want %v, got reason %v", req, want, d.Reason)
}

// Dump reads the whole content of s and its revision (storedump.Read).
func Dump(t testing.TB, s iam.Store) storedump.Dump {
	t.Helper()
	d, err := storedump.Read(context.Background(), s)
	require.NoError(t, err)
	return d
}

// RequireUnchanged asserts that the store's full dump and revision are
// what before recorded.
func RequireUnchanged(t testing.TB, s iam.Store, before storedump.Dump) {
	t.Helper()
	after := Dump(t, s)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("a rejected write changed the store (-before +after):\n%s", diff)
	}
}

// RequireValidation asserts that err is a *iam.ValidationError reached by
// errors.As, matching ErrInvalid, with the given field path.
func RequireValidation(t testing.TB, err error, field string) *iam.ValidationError {
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

// GenWorld reads the whole store through its public List methods (as
// Dump does), as a gen.World: every organization's entities one after the
// other, custom permission sets only.
func GenWorld(t testing.TB, s iam.Store) *gen.World {
	t.Helper()
	d := Dump(t, s)
	w := &gen.World{Organizations: d.Organizations}
	for _, o := range d.Organizations {
		od := d.Orgs[o.ID]
		w.Projects = append(w.Projects, od.Projects...)
		w.PermissionSets = append(w.PermissionSets, od.PermissionSets...)
		w.Users = append(w.Users, od.Users...)
		w.Applications = append(w.Applications, od.Applications...)
		w.Groups = append(w.Groups, od.Groups...)
		w.Policies = append(w.Policies, od.Policies...)
		w.APIKeys = append(w.APIKeys, od.APIKeys...)
	}
	return w
}

// FixedNow is the instant of FixedClock.
var FixedNow = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)

// FixedClock is the clock of the Evaluators that the fuzz targets and the
// invariants build on the testdata files: API key expiry and conditions
// see the same instant whatever the wall clock says.
func FixedClock() time.Time { return FixedNow }

// ReadFile reads a file, failing the test when it cannot.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// MustLoad loads the world or policy file at path into store.
func MustLoad(t testing.TB, store iam.Store, path string, opts ...iam.LoadOption) {
	t.Helper()
	require.NoError(t, iam.Load(context.Background(), store, path, ReadFile(t, path), opts...), "loading %s", path)
}

// Answer is one Check's outcome, comparable across Evaluators.
type Answer struct {
	Allowed  bool
	Reason   iam.Reason
	Revision uint64
	Err      string // the error's text, "" when none
}

// Answers checks every request of reqs with ev.
func Answers(ctx context.Context, ev *iam.Evaluator, reqs []iam.Request) []Answer {
	out := make([]Answer, len(reqs))
	for i, req := range reqs {
		dec, err := ev.Check(ctx, req)
		out[i] = Answer{Allowed: dec.Allowed, Reason: dec.Reason, Revision: dec.Revision}
		if err != nil {
			out[i].Err = err.Error()
		}
	}
	return out
}
