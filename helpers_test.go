package iam_test

// The root tests' short names for the helpers they share with the test
// harnesses under internal/ (internal/testkit): small worlds built through
// the public Store API, a full dump of a store for "nothing changed"
// assertions, and short-hands for checks.

import (
	"context"
	"testing"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/iamtest"
	"github.com/iamkit/iam/internal/testkit"
)

// world is a testkit.World under the names the root's tests use: one
// store with an Evaluator following it and one organization ("acme", with
// its owner "acme-owner") ready to fill.
type world struct {
	*testkit.World
	t     testing.TB
	ctx   context.Context
	store *iam.MemoryStore
	ev    *iam.Evaluator
	clock *iamtest.Clock
	org   string
	owner string
}

var clockStart = testkit.ClockStart

// newWorld returns a store made with opts holding organization "acme"
// (with its default project "acme") and its owner "acme-owner", and an
// Evaluator on it whose clock the test controls.
func newWorld(t testing.TB, opts ...iam.Option) *world {
	t.Helper()
	clock := iamtest.NewClock(clockStart)
	store := iam.NewMemoryStore(opts...)
	k := testkit.NewWorldOn(t, clock, store)
	return &world{World: k, t: t, ctx: k.Ctx, store: store, ev: k.Ev, clock: clock, org: k.Org, owner: k.Owner}
}

func (w *world) addOrg(id, owner string)       { w.t.Helper(); w.AddOrg(id, owner) }
func (w *world) project(org, id string) string { w.t.Helper(); return w.Project(org, id) }
func (w *world) user(org, id string) string    { w.t.Helper(); return w.User(org, id) }
func (w *world) app(org, id string, managed bool) string {
	w.t.Helper()
	return w.App(org, id, managed)
}
func (w *world) group(g iam.Group) string                    { w.t.Helper(); return w.Group(g) }
func (w *world) set(ps iam.PermissionSet)                    { w.t.Helper(); w.Set(ps) }
func (w *world) key(k iam.APIKey) iam.APIKey                 { w.t.Helper(); return w.Key(k) }
func (w *world) check(req iam.Request) (iam.Decision, error) { w.t.Helper(); return w.Check(req) }
func (w *world) expect(t testing.TB, req iam.Request, want outcome) {
	t.Helper()
	w.Expect(t, req, want)
}

func (w *world) policy(org, id string, p iam.Principal, rules ...iam.Rule) string {
	w.t.Helper()
	return w.Policy(org, id, p, rules...)
}

// Rules and requests.
var onProjects, onOrg, ids, inProject, atOrg = testkit.OnProjects, testkit.OnOrg, testkit.IDs, testkit.InProject, testkit.AtOrg

// Expected outcomes.
type outcome = testkit.Outcome

var (
	granted, ownerAllow, notGranted, otherOrg    = testkit.Granted, testkit.OwnerAllow, testkit.NotGranted, testkit.OtherOrg
	locked, expired                              = testkit.Locked, testkit.Expired
	isInvalid, isNotFound, isUnknown, isMismatch = testkit.IsInvalid, testkit.IsNotFound, testkit.IsUnknown, testkit.IsMismatch
)

// dump is the whole content of a store as its List methods show it, and
// its revision.
type dump = testkit.Contents

var dumpStore, requireUnchanged, requireValidation = testkit.Dump, testkit.RequireUnchanged, testkit.RequireValidation
