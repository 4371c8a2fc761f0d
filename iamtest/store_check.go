package iamtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/internal/testkit"
)

// storeT is one running case of the Store conformance suite: the store
// under test and the assertions the cases make on it. Every assertion
// stops the case (Fatalf) when it fails.
type storeT struct {
	testkit.T // a *testing.T's subtest, or CheckStore's record
	ctx       context.Context
	store     iam.Store
}

func newStoreT(r testkit.T, ctx context.Context, s iam.Store) *storeT {
	return &storeT{T: r, ctx: ctx, store: s}
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
	if !testkit.Equal(want, got, false) {
		t.Fatalf("%s\nwant %#v\n got %#v", msg(what), want, got)
	}
}

// equalEmpty is equal, with nil and empty slices and maps taken alike.
func (t *storeT) equalEmpty(want, got any, what ...any) {
	t.Helper()
	if !testkit.Equal(want, got, true) {
		t.Fatalf("%s\nwant %#v\n got %#v", msg(what), want, got)
	}
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
func (t *storeT) dump() testkit.Contents {
	t.Helper()
	return testkit.Dump(t, t.store)
}

// unchanged asserts that the store's content and revision are what
// before recorded.
func (t *storeT) unchanged(before testkit.Contents, what ...any) {
	t.Helper()
	if diff := testkit.DiffContents(before, t.dump()); diff != "" {
		t.Fatalf("%sa rejected write changed the store: %s", msg(what), diff)
	}
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

// world is the case's store filled with organization "acme" and its
// owner "acme-owner" (testkit.World), with an Evaluator on it whose clock
// the case controls.
type world struct {
	*storeT
	*testkit.World
	clock *Clock
}

// worldStart is where a world's clock stands.
var worldStart = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// world fills the case's store with organization "acme" and its owner,
// and builds an Evaluator on it, closed when the case ends.
func (t *storeT) world() *world {
	t.Helper()
	clock := NewClock(worldStart)
	return &world{storeT: t, World: testkit.NewWorldOn(t, clock, t.store), clock: clock}
}

// evaluator builds another Evaluator on the case's store, closed when the
// case ends.
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

// Rules, requests and expected outcomes.
var onProjects, onOrg, ids, inProject, atOrg = testkit.OnProjects, testkit.OnOrg, testkit.IDs, testkit.InProject, testkit.AtOrg

var (
	granted, ownerAllow, notGranted, locked = testkit.Granted, testkit.OwnerAllow, testkit.NotGranted, testkit.Locked
	isNotFound, isUnknown                   = testkit.IsNotFound, testkit.IsUnknown
)

// checkCase is a named request and the outcome it must have.
type checkCase struct {
	name string
	req  iam.Request
	want testkit.Outcome
}

// expect checks req with ev and asserts its outcome, and that the answer
// is no older than revision floor (0: any).
func (t *storeT) expect(ev *iam.Evaluator, req iam.Request, want testkit.Outcome, floor uint64, what ...any) {
	t.Helper()
	d, err := ev.Check(t.ctx, req)
	testkit.RequireOutcome(t, req, d, err, want, msg(what))
	if floor > 0 && d.Revision <= floor {
		t.Fatalf("%s%+v: the answer (revision %d) predates the write (after revision %d)", msg(what), req, d.Revision, floor)
	}
}

// expect checks req with the world's Evaluator.
func (w *world) expect(req iam.Request, want testkit.Outcome, what ...any) {
	w.Helper()
	w.storeT.expect(w.Ev, req, want, 0, what...)
}

// expectAll runs the checks of cases with the world's Evaluator.
func (w *world) expectAll(cases []checkCase) {
	w.Helper()
	for _, c := range cases {
		w.expect(c.req, c.want, c.name)
	}
}
