package iamtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/storedump"
)

// storeT is one running case of the Store conformance suite: the store
// under test and the assertions the cases make on it. Every assertion
// stops the case (Fatalf) when it fails.
type storeT struct {
	reporter
	ctx   context.Context
	store iam.Store
}

func newStoreT(r reporter, ctx context.Context, s iam.Store) *storeT {
	return &storeT{reporter: r, ctx: ctx, store: s}
}

// msg renders the optional "what" of an assertion.
func msg(what []any) string {
	if len(what) == 0 {
		return ""
	}
	if f, ok := what[0].(string); ok {
		return fmt.Sprintf(f, what[1:]...) + ": "
	}
	return fmt.Sprint(what...) + ": "
}

// ok fails the case when err is not nil.
func (t *storeT) ok(err error, what ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%sunexpected error: %v", msg(what), err)
	}
}

// is fails the case unless errors.Is(err, target).
func (t *storeT) is(err, target error, what ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%swant an error matching %v, got %v", msg(what), target, err)
	}
}

// isNot fails the case when errors.Is(err, target).
func (t *storeT) isNot(err, target error, what ...any) {
	t.Helper()
	if errors.Is(err, target) {
		t.Fatalf("%swant no error matching %v, got %v", msg(what), target, err)
	}
}

// fails fails the case when err is nil.
func (t *storeT) fails(err error, what ...any) {
	t.Helper()
	if err == nil {
		t.Fatalf("%swant an error, got none", msg(what))
	}
}

// check fails the case unless cond holds.
func (t *storeT) check(cond bool, what ...any) {
	t.Helper()
	if !cond {
		t.Fatalf("%sdoes not hold", msg(what))
	}
}

// equal fails the case unless want and got are deeply equal, times
// compared as instants (time.Time.Equal).
func (t *storeT) equal(want, got any, what ...any) {
	t.Helper()
	if !deepEqual(want, got, false) {
		t.Fatalf("%s\nwant %#v\n got %#v", msg(what), want, got)
	}
}

// equalEmpty is equal, with nil and empty slices and maps taken alike.
func (t *storeT) equalEmpty(want, got any, what ...any) {
	t.Helper()
	if !deepEqual(want, got, true) {
		t.Fatalf("%s\nwant %#v\n got %#v", msg(what), want, got)
	}
}

// deepEqual is reflect.DeepEqual with times compared as instants and, when
// emptyIsNil, nil and empty slices and maps taken alike.
func deepEqual(a, b any, emptyIsNil bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(normalize(reflect.ValueOf(a), emptyIsNil).Interface(), normalize(reflect.ValueOf(b), emptyIsNil).Interface())
}

var timeType = reflect.TypeFor[time.Time]()

// normalize returns a copy of v in which every time is in UTC with no
// monotonic reading and, when emptyIsNil, every empty slice or map is nil.
func normalize(v reflect.Value, emptyIsNil bool) reflect.Value {
	switch v.Kind() {
	case reflect.Slice:
		if v.IsNil() || (emptyIsNil && v.Len() == 0) {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(normalize(v.Index(i), emptyIsNil))
		}
		return out
	case reflect.Map:
		if v.IsNil() || (emptyIsNil && v.Len() == 0) {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), normalize(it.Value(), emptyIsNil))
		}
		return out
	case reflect.Struct:
		if v.Type() == timeType {
			return reflect.ValueOf(v.Interface().(time.Time).UTC().Round(0))
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(normalize(v.Field(i), emptyIsNil))
			}
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(normalize(v.Elem(), emptyIsNil))
		return out
	}
	return v
}

// revision returns the store's revision.
func (t *storeT) revision() uint64 {
	t.Helper()
	rev, err := t.store.Revision(t.ctx)
	t.ok(err, "Revision")
	return rev
}

// step asserts that write succeeds and moves the revision by exactly one.
func (t *storeT) step(what string, write func() error) {
	t.Helper()
	before := t.revision()
	t.ok(write(), what)
	t.equal(before+1, t.revision(), "%s: one write, one revision", what)
}

// dump reads the store's whole content and revision.
func (t *storeT) dump() storedump.Dump {
	t.Helper()
	d, err := storedump.Read(t.ctx, t.store)
	t.ok(err, "reading the whole store")
	return d
}

// unchanged asserts that the store's content and revision are what
// before recorded.
func (t *storeT) unchanged(before storedump.Dump, what ...any) {
	t.Helper()
	after := t.dump()
	if !deepEqual(before, after, false) {
		t.Fatalf("%sa rejected write changed the store: %s", msg(what), dumpDiff(before, after))
	}
}

// dumpDiff tells the first difference between two dumps.
func dumpDiff(before, after storedump.Dump) string {
	if before.Revision != after.Revision {
		return fmt.Sprintf("the revision moved from %d to %d", before.Revision, after.Revision)
	}
	if !deepEqual(before.Organizations, after.Organizations, false) || before.Catalogue != after.Catalogue {
		return fmt.Sprintf("the organizations went from %+v (catalogue of %d sets) to %+v (catalogue of %d sets)",
			before.Organizations, before.Catalogue, after.Organizations, after.Catalogue)
	}
	for id, b := range before.Orgs {
		a := after.Orgs[id]
		bv, av := reflect.ValueOf(b), reflect.ValueOf(a)
		for i := range bv.NumField() {
			if !deepEqual(bv.Field(i).Interface(), av.Field(i).Interface(), false) {
				return fmt.Sprintf("organization %s: %s went from %+v to %+v", id, bv.Type().Field(i).Name, bv.Field(i).Interface(), av.Field(i).Interface())
			}
		}
	}
	return fmt.Sprintf("went from %+v to %+v", before, after)
}

// validation asserts that err is a *iam.ValidationError, reached with
// errors.As, that matches iam.ErrInvalid, with the given field path when
// field is not empty.
func (t *storeT) validation(err error, field string, what ...any) *iam.ValidationError {
	t.Helper()
	var ve *iam.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%swant a *iam.ValidationError, got %T %v", msg(what), err, err)
	}
	t.is(err, iam.ErrInvalid, what...)
	if field != "" && ve.Field != field {
		t.Fatalf("%swant the field %q, got %q in %v", msg(what), field, ve.Field, err)
	}
	return ve
}

// world is a store with one organization, "acme", and its owner
// "acme-owner", and an Evaluator on it whose clock the case controls.
type world struct {
	*storeT
	ev    *iam.Evaluator
	clock *Clock
	org   string
	owner string
}

// worldStart is where a world's clock stands.
var worldStart = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// world fills the case's store with organization "acme" and its owner,
// and builds an Evaluator on it, closed when the case ends.
func (t *storeT) world() *world {
	t.Helper()
	w := &world{storeT: t, clock: NewClock(worldStart), org: "acme", owner: "acme-owner"}
	w.addOrg("acme", "acme-owner")
	w.ev = t.evaluator(w.clock)
	return w
}

// evaluator builds an Evaluator on the case's store, closed when the case
// ends.
func (t *storeT) evaluator(clock *Clock) *iam.Evaluator {
	t.Helper()
	ev, err := iam.NewEvaluator(t.ctx, t.store, iam.WithClock(clock.Now))
	t.ok(err, "NewEvaluator")
	t.Cleanup(func() {
		if err := ev.Close(); err != nil {
			t.Errorf("closing the Evaluator: %v", err)
		}
	})
	return ev
}

// addOrg creates an organization and its owner (none when owner is "").
func (w *world) addOrg(id, owner string) {
	w.Helper()
	_, err := w.store.CreateOrganization(w.ctx, iam.Organization{ID: id, Name: "Org " + id})
	w.ok(err, "create organization %s", id)
	if owner != "" {
		_, err = w.store.CreateUser(w.ctx, iam.User{ID: owner, OrganizationID: id, Email: owner + "@" + id + ".test", Type: iam.UserOwner})
		w.ok(err, "create owner %s", owner)
	}
}

func (w *world) project(org, id string) string {
	w.Helper()
	p, err := w.store.CreateProject(w.ctx, iam.Project{ID: id, OrganizationID: org, Name: "project " + id})
	w.ok(err, "create project %s", id)
	return p.ID
}

func (w *world) user(org, id string) string {
	w.Helper()
	u, err := w.store.CreateUser(w.ctx, iam.User{ID: id, OrganizationID: org, Email: id + "@" + org + ".test"})
	w.ok(err, "create user %s", id)
	return u.ID
}

func (w *world) app(org, id string) string {
	w.Helper()
	a, err := w.store.CreateApplication(w.ctx, iam.Application{ID: id, OrganizationID: org, Name: "app " + id})
	w.ok(err, "create application %s", id)
	return a.ID
}

func (w *world) group(g iam.Group) string {
	w.Helper()
	if g.Name == "" {
		g.Name = "group " + g.ID
	}
	out, err := w.store.CreateGroup(w.ctx, g)
	w.ok(err, "create group %s", g.ID)
	return out.ID
}

func (w *world) policy(org, id string, p iam.Principal, rules ...iam.Rule) string {
	w.Helper()
	out, err := w.store.CreatePolicy(w.ctx, iam.Policy{ID: id, OrganizationID: org, Name: "policy " + id, Principal: p, Rules: rules})
	w.ok(err, "create policy %s", id)
	return out.ID
}

func (w *world) set(ps iam.PermissionSet) {
	w.Helper()
	_, err := w.store.CreatePermissionSet(w.ctx, ps)
	w.ok(err, "create permission set %s", ps.Name)
}

func (w *world) key(k iam.APIKey) iam.APIKey {
	w.Helper()
	out, err := w.store.CreateAPIKey(w.ctx, k)
	w.ok(err, "create API key %s", k.AccessKey)
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

// outcome is what a check is expected to give: an allow or a deny with a
// reason, or an error matching a sentinel.
type outcome struct {
	allowed bool
	reason  iam.Reason
	err     error
}

var (
	granted    = outcome{allowed: true, reason: iam.ReasonGranted}
	ownerAllow = outcome{allowed: true, reason: iam.ReasonOwner}
	notGranted = outcome{reason: iam.ReasonNotGranted}
	locked     = outcome{reason: iam.ReasonLocked}
	isNotFound = outcome{err: iam.ErrNotFound}
	isUnknown  = outcome{err: iam.ErrUnknownPermission}
)

func (o outcome) String() string {
	if o.err != nil {
		return "an error matching " + o.err.Error()
	}
	if o.allowed {
		return "allowed (" + o.reason.String() + ")"
	}
	return "denied (" + o.reason.String() + ")"
}

// checkCase is a named request and the outcome it must have.
type checkCase struct {
	name string
	req  iam.Request
	want outcome
}

// expect checks req with ev and asserts its outcome, and that the answer
// is no older than revision floor (0: any).
func (t *storeT) expect(ev *iam.Evaluator, req iam.Request, want outcome, floor uint64, what ...any) {
	t.Helper()
	d, err := ev.Check(t.ctx, req)
	if err != nil && d.Allowed {
		t.Fatalf("%s%+v: Allowed must be false whenever err != nil (%v)", msg(what), req, err)
	}
	if want.err != nil {
		t.is(err, want.err, "%s%+v", msg(what), req)
		for _, other := range []error{iam.ErrInvalid, iam.ErrNotFound, iam.ErrUnknownPermission, iam.ErrScopeMismatch} {
			if other != want.err {
				t.isNot(err, other, "%s%+v: want only %v", msg(what), req, want.err)
			}
		}
		return
	}
	t.ok(err, "%s%+v", msg(what), req)
	if d.Allowed != want.allowed || d.Reason != want.reason {
		t.Fatalf("%s%+v: want %v, got %+v", msg(what), req, want, d)
	}
	if d.Revision <= floor && floor > 0 {
		t.Fatalf("%s%+v: the answer (revision %d) predates the write (after revision %d)", msg(what), req, d.Revision, floor)
	}
}

// expect checks req with the world's Evaluator.
func (w *world) expect(req iam.Request, want outcome, what ...any) {
	w.Helper()
	w.storeT.expect(w.ev, req, want, 0, what...)
}

// expectAll runs the checks of cases with the world's Evaluator.
func (w *world) expectAll(cases []checkCase) {
	w.Helper()
	for _, c := range cases {
		w.expect(c.req, c.want, c.name)
	}
}
