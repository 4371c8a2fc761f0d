// Package testkit holds what the repository's tests share: the root
// package's tests, the test harnesses under internal/ and the Store
// conformance suite of iamtest. It gives a small world built through the
// public Store API with an Evaluator on it, rules and requests in one
// call, expected outcomes, the dump of a store for "nothing changed"
// assertions, and the fixed clock and file helpers of the fuzz and
// invariant tests. It imports only the standard library and iam's own
// packages, as iamtest does; the clock it takes is iamtest's.
package testkit

import (
	"context"
	"errors"
	"time"

	"github.com/iamkit/iam"
)

// T is what the helpers report to: a testing.TB, or the record of
// iamtest.CheckStore.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(f func())
}

// Clock is a clock the test moves: an *iamtest.Clock.
type Clock interface {
	Now() time.Time
	Set(t time.Time)
}

// World is one store with an Evaluator following it and one organization
// ("acme", with its owner "acme-owner") ready to fill.
type World struct {
	T     T
	Ctx   context.Context
	Store iam.Store
	Ev    *iam.Evaluator
	Clock Clock // the Evaluator's clock
	Org   string
	Owner string
}

// ClockStart is where the tests start a World's clock.
var ClockStart = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// NewWorld returns a World on a new MemoryStore made with opts (see
// NewWorldOn).
func NewWorld(t T, clock Clock, opts ...iam.Option) *World {
	t.Helper()
	return NewWorldOn(t, clock, iam.NewMemoryStore(opts...))
}

// NewWorldOn fills store, which must hold no organization "acme", with
// organization "acme" (and its default project "acme") and its owner
// "acme-owner", and builds an Evaluator on it that reads clock, closed
// when the test ends.
func NewWorldOn(t T, clock Clock, store iam.Store) *World {
	t.Helper()
	ctx := context.Background()
	w := &World{T: t, Ctx: ctx, Store: store, Clock: clock, Org: "acme", Owner: "acme-owner"}
	w.AddOrg("acme", "acme-owner")
	ev, err := iam.NewEvaluator(ctx, w.Store, iam.WithClock(clock.Now))
	ok(t, err, "NewEvaluator")
	t.Cleanup(func() {
		if err := ev.Close(); err != nil {
			t.Errorf("closing the Evaluator: %v", err)
		}
	})
	w.Ev = ev
	return w
}

// ok stops the test when err is not nil.
func ok(t T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// AddOrg creates an organization and its owner (skipped when owner is "").
func (w *World) AddOrg(id, owner string) {
	w.T.Helper()
	_, err := w.Store.CreateOrganization(w.Ctx, iam.Organization{ID: id, Name: "Org " + id})
	ok(w.T, err, "create organization "+id)
	if owner != "" {
		_, err = w.Store.CreateUser(w.Ctx, iam.User{ID: owner, OrganizationID: id, Email: owner + "@" + id + ".test", Type: iam.UserOwner})
		ok(w.T, err, "create owner "+owner)
	}
}

// Project creates a project and returns its ID.
func (w *World) Project(org, id string) string {
	w.T.Helper()
	p, err := w.Store.CreateProject(w.Ctx, iam.Project{ID: id, OrganizationID: org, Name: "project " + id})
	ok(w.T, err, "create project "+id)
	return p.ID
}

// User creates a member and returns its ID.
func (w *World) User(org, id string) string {
	w.T.Helper()
	u, err := w.Store.CreateUser(w.Ctx, iam.User{ID: id, OrganizationID: org, Email: id + "@" + org + ".test"})
	ok(w.T, err, "create user "+id)
	return u.ID
}

// App creates an application and returns its ID.
func (w *World) App(org, id string, managed bool) string {
	w.T.Helper()
	a, err := w.Store.CreateApplication(w.Ctx, iam.Application{ID: id, OrganizationID: org, Name: "app " + id, Managed: managed})
	ok(w.T, err, "create application "+id)
	return a.ID
}

// Group creates g ("group <ID>" when it has no name) and returns its ID.
func (w *World) Group(g iam.Group) string {
	w.T.Helper()
	if g.Name == "" {
		g.Name = "group " + g.ID
	}
	out, err := w.Store.CreateGroup(w.Ctx, g)
	ok(w.T, err, "create group "+g.ID)
	return out.ID
}

// Policy creates a policy and returns its ID.
func (w *World) Policy(org, id string, p iam.Principal, rules ...iam.Rule) string {
	w.T.Helper()
	out, err := w.Store.CreatePolicy(w.Ctx, iam.Policy{ID: id, OrganizationID: org, Name: "policy " + id, Principal: p, Rules: rules})
	ok(w.T, err, "create policy "+id)
	return out.ID
}

// Set creates a permission set.
func (w *World) Set(ps iam.PermissionSet) {
	w.T.Helper()
	_, err := w.Store.CreatePermissionSet(w.Ctx, ps)
	ok(w.T, err, "create permission set "+ps.Name)
}

// Key creates an API key and returns it, with its secret.
func (w *World) Key(k iam.APIKey) iam.APIKey {
	w.T.Helper()
	out, err := w.Store.CreateAPIKey(w.Ctx, k)
	ok(w.T, err, "create API key "+k.AccessKey)
	return out
}

// OnProjects builds a rule on projects.
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
	if err != nil && d.Allowed {
		w.T.Fatalf("Allowed must be false whenever err != nil (%v)", err)
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

// RequireOutcome asserts that a check of req answered d, err as want
// says: for an error, one matching want's sentinel and no other of the
// check's sentinels, and in every case Allowed false whenever err != nil.
// what prefixes the failure messages.
func RequireOutcome(t T, req iam.Request, d iam.Decision, err error, want Outcome, what string) {
	t.Helper()
	if err != nil && d.Allowed {
		t.Fatalf("%srequest %+v: Allowed must be false whenever err != nil (%v)", what, req, err)
	}
	if want.Err != nil {
		if !errors.Is(err, want.Err) {
			t.Fatalf("%srequest %+v: want %v, got %+v, %v", what, req, want, d, err)
		}
		for _, other := range []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch} {
			if other != want.Err && errors.Is(err, other) {
				t.Fatalf("%srequest %+v: want only %v, got %v", what, req, want.Err, err)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("%srequest %+v: want %v, got the error %v", what, req, want, err)
	}
	if d.Allowed != want.Allowed || d.Reason != want.Reason {
		t.Fatalf("%srequest %+v: want %v, got %+v", what, req, want, d)
	}
}

// Expect checks req with the World's Evaluator and asserts its outcome
// (RequireOutcome).
func (w *World) Expect(t T, req iam.Request, want Outcome) {
	t.Helper()
	d, err := w.Ev.Check(w.Ctx, req)
	RequireOutcome(t, req, d, err, want, "")
}

// RequireValidation asserts that err is a *iam.ValidationError reached by
// errors.As, matching ErrInvalid, with the given field path when field is
// not empty.
func RequireValidation(t T, err error, field string) *iam.ValidationError {
	t.Helper()
	var ve *iam.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *iam.ValidationError, got %T %v", err, err)
	}
	if !errors.Is(err, iam.ErrInvalid) {
		t.Fatalf("the ValidationError %v does not match iam.ErrInvalid", err)
	}
	if field != "" && ve.Field != field {
		t.Fatalf("want the field path %q, got %q in %v", field, ve.Field, err)
	}
	return ve
}
