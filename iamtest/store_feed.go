package iamtest

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/iamkit/iam"
)

var feedCases = []storeCase{
	{"SubscribersGetEveryChangeInOrderWithItsCascades", testSubscribe},
	{"ChangesReplaysTheFeed", testChangesReplaysTheFeed},
	{"RevokedGrantNeverSurvivesAPanickingSubscriber", testPanickingSubscriber},
}

type eventKey struct {
	Op   iam.Op
	Kind iam.Kind
	ID   string
}

func eventKeys(c iam.Change) []eventKey {
	out := make([]eventKey, len(c.Events))
	for i, ev := range c.Events {
		out[i] = eventKey{ev.Op, ev.Kind, ev.ID}
	}
	return out
}

// sortedKeys sorts event keys by kind, operation and ID: a Change lists
// its events in the order they were applied, which is the store's own.
func sortedKeys(ks []eventKey) []eventKey {
	return slices.SortedFunc(slices.Values(ks), func(a, b eventKey) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Op, b.Op), strings.Compare(a.ID, b.ID))
	})
}

// testSubscribe: Subscribe delivers every committed Change in revision
// order, before the write returns, with its cascades; cancel stops
// delivery.
func testSubscribe(t *storeT) {
	w := t.world()
	w.Project(w.Org, "p1")
	w.User(w.Org, "u")
	w.User(w.Org, "u2")
	w.Group(iam.Group{ID: "g", OrganizationID: w.Org, UserIDs: ids("u", "u2")})
	w.Policy(w.Org, "pol", iam.UserPrincipal("u"), onProjects(ids("p1"), "InstancesFullAccess"))
	w.Policy(w.Org, "p1-only", iam.UserPrincipal("u2"), onProjects(ids("p1"), "InstancesServerRead"))
	w.Key(iam.APIKey{AccessKey: "k", OrganizationID: w.Org, Bearer: iam.UserPrincipal("u"), DefaultProjectID: "p1"})

	var got []iam.Change
	cancel := w.store.Subscribe(func(c iam.Change) { got = append(got, c) })
	var late []iam.Change
	cancelLate := w.store.Subscribe(func(c iam.Change) { late = append(late, c) })
	start := w.revision()

	w.Project(w.Org, "p2")
	w.equal(1, len(got), "delivered before the write returned")
	w.ok(w.store.DeleteProject(w.ctx, "p1"), "DeleteProject")
	w.ok(w.store.DeleteUser(w.ctx, "u"), "DeleteUser")
	_, err := w.store.CreateUser(w.ctx, iam.User{ID: "bad", OrganizationID: w.Org, Email: "x"})
	w.fails(err, "an invalid user")
	cancelLate()
	cancelLate() // twice is harmless
	w.ok(w.store.DeleteGroup(w.ctx, "g"), "DeleteGroup")

	w.equal(4, len(got), "one change per successful write, none for the rejected one")
	for i, c := range got {
		w.equal(start+uint64(i)+1, c.Revision, "changes come in revision order")
	}
	w.equal(3, len(late), "cancel stops delivery")

	w.equal([]eventKey{{iam.OpPut, iam.KindProject, "p2"}}, eventKeys(got[0]), "creating a project")
	w.equal(sortedKeys([]eventKey{
		{iam.OpPut, iam.KindPolicy, "pol"},
		{iam.OpPut, iam.KindPolicy, "p1-only"},
		{iam.OpPut, iam.KindAPIKey, "k"},
		{iam.OpDelete, iam.KindProject, "p1"},
	}), sortedKeys(eventKeys(got[1])), "deleting a project lists the policies and keys it touched")
	w.equal(sortedKeys([]eventKey{
		{iam.OpDelete, iam.KindAPIKey, "k"},
		{iam.OpPut, iam.KindGroup, "g"},
		{iam.OpPut, iam.KindPolicy, "pol"},
		{iam.OpDelete, iam.KindUser, "u"},
	}), sortedKeys(eventKeys(got[2])), "deleting a user lists its keys, groups and policies")
	w.equal([]eventKey{{iam.OpDelete, iam.KindGroup, "g"}}, sortedKeys(eventKeys(got[3])), "deleting a group")

	// Values after OpPut are the stored entities; nil after OpDelete.
	for _, c := range got {
		for _, ev := range c.Events {
			w.equal(w.Org, ev.OrganizationID, "%+v: the event's organization", ev)
			if ev.Op == iam.OpDelete {
				w.check(ev.Value == nil, "%+v: no value after a delete", ev)
				continue
			}
			w.check(ev.Value != nil, "%+v: the value after a put", ev)
			switch v := ev.Value.(type) {
			case iam.Policy:
				stored, err := w.store.GetPolicy(w.ctx, v.ID)
				w.ok(err, "GetPolicy")
				if v.ID == "pol" && ev.Kind == iam.KindPolicy && c.Revision == got[2].Revision {
					w.check(v.Principal.IsZero(), "the deleted user's policy lost its principal")
					w.equalEmpty(stored, v, "the event's value is the stored policy")
				}
			case iam.APIKey:
				w.equal(w.Org, v.DefaultProjectID, "the key's default project was reset")
			case iam.Group:
				if c.Revision == got[2].Revision {
					w.equal([]string{"u2"}, v.UserIDs, "the deleted user left the group")
				}
			case iam.Project:
				w.equal("p2", v.ID, "the project created")
			default:
				w.Fatalf("unexpected value %T in %+v", v, ev)
			}
		}
	}
	cancel()
	w.Project(w.Org, "p3")
	w.equal(4, len(got), "cancel stops delivery")
}

// feedWorld is a world with a project "web" and a user "ana" that policy
// "ana-web" allows InstancesFullAccess in "web".
func (t *storeT) feedWorld() *world {
	t.Helper()
	w := t.world()
	w.Project(w.Org, "web")
	w.User(w.Org, "ana")
	w.Policy(w.Org, "ana-web", iam.UserPrincipal("ana"), onProjects(ids("web"), "InstancesFullAccess"))
	return w
}

var anaInWeb = inProject(iam.UserPrincipal("ana"), "web", "InstancesFullAccess")

// touch makes one unrelated write (a new tag on the owner), so that the
// revision moves on.
func (w *world) touch(n int) {
	w.Helper()
	u, err := w.store.GetUser(w.ctx, w.Owner)
	w.ok(err, "GetUser")
	u.Tags = []string{"touch-" + string(rune('a'+n%26))}
	_, err = w.store.UpdateUser(w.ctx, u)
	w.ok(err, "UpdateUser")
}

// testChangesReplaysTheFeed: Changes gives back exactly what the
// subscribers were given, in order, from any revision the log still
// holds, also from inside a subscriber during the delivery; past what it
// holds, ErrCompacted.
func testChangesReplaysTheFeed(t *storeT) {
	w := t.feedWorld()
	start := w.revision()
	var fed []iam.Change
	var inside [][]iam.Change
	var insideErr error
	cancel := w.store.Subscribe(func(ch iam.Change) {
		got, err := w.store.Changes(w.ctx, ch.Revision-1)
		fed = append(fed, ch)
		inside = append(inside, got)
		insideErr = errors.Join(insideErr, err)
	})
	defer cancel()
	w.ok(w.store.DeletePolicy(w.ctx, "ana-web"), "DeletePolicy")
	w.touch(0)
	w.ok(w.store.DeleteUser(w.ctx, "ana"), "DeleteUser")
	w.ok(insideErr, "Changes from inside a subscriber")

	got, err := w.store.Changes(w.ctx, start)
	w.ok(err, "Changes")
	w.equal(fed, got, "Changes gives what the subscribers were given")
	for i, c := range inside {
		w.equal([]iam.Change{fed[i]}, c, "during its delivery, the log already holds the change")
	}
	got, err = w.store.Changes(w.ctx, start+2)
	w.ok(err, "Changes")
	w.equal(fed[2:], got, "Changes from a later revision")
	got, err = w.store.Changes(w.ctx, start+3)
	w.ok(err, "Changes")
	w.check(len(got) == 0, "nothing after the latest revision, got %d changes", len(got))

	// Many writes later, the log holds all of them, or says it does not.
	const more = 1025
	for i := range more {
		w.touch(i)
	}
	got, err = w.store.Changes(w.ctx, start+3)
	if err != nil {
		w.is(err, iam.ErrCompacted, "Changes past what the log holds")
	} else {
		w.equal(more, len(got), "Changes holds every change, or says it does not")
		for i, c := range got {
			w.equal(start+4+uint64(i), c.Revision, "Changes in revision order")
		}
	}
}

// testPanickingSubscriber: a subscriber registered before the Evaluator
// panics on every change. Deleting a policy still commits, still reaches
// the Evaluator and every other subscriber, and the writer learns of the
// failure through ErrDelivery.
func testPanickingSubscriber(t *storeT) {
	w := t.feedWorld()
	cancelBad := w.store.Subscribe(func(iam.Change) { panic("subscriber bug") })
	defer cancelBad()
	ev := w.evaluator(w.clock)
	var seen []uint64
	cancelLate := w.store.Subscribe(func(ch iam.Change) { seen = append(seen, ch.Revision) })
	defer cancelLate()

	dec, err := ev.Check(w.ctx, anaInWeb)
	w.ok(err, "Check")
	w.check(dec.Allowed, "ana is allowed before the delete")

	before := w.revision()
	err = w.store.DeletePolicy(w.ctx, "ana-web")
	w.is(err, iam.ErrDelivery, "the writer learns that a subscriber failed")
	var de *iam.DeliveryError
	if !errors.As(err, &de) {
		w.Fatalf("want a *iam.DeliveryError, got %T %v", err, err)
	}
	w.equal(before+1, de.Revision, "the DeliveryError's revision")
	w.equal(1, len(de.Failures), "one subscriber failed")
	w.check(strings.Contains(de.Failures[0].Error(), "subscriber bug"), "the failure tells the panic: %v", de.Failures[0])
	w.equal(before+1, w.revision(), "the write committed")
	_, err = w.store.GetPolicy(w.ctx, "ana-web")
	w.is(err, iam.ErrNotFound, "the deleted policy")

	dec, err = ev.Check(w.ctx, anaInWeb)
	w.ok(err, "Check")
	w.check(!dec.Allowed, "the revoked grant survived a panicking subscriber")
	w.equal(before+1, dec.Revision, "the answer's revision")
	w.equal(before+1, ev.Revision(), "the Evaluator's revision")
	w.equal([]uint64{before + 1}, seen, "a later subscriber was told")

	// A create that lands returns what it stored along with ErrDelivery:
	// the caller needs the ID it was given.
	p, err := w.store.CreatePolicy(w.ctx, iam.Policy{OrganizationID: w.Org, Principal: iam.UserPrincipal("ana"),
		Rules: []iam.Rule{onProjects(ids("web"), "InstancesFullAccess")}})
	w.is(err, iam.ErrDelivery, "a create whose delivery failed")
	w.check(p.ID != "", "the create returns the stored policy, its ID filled in")
	dec, err = ev.Check(w.ctx, anaInWeb)
	w.ok(err, "Check")
	w.check(dec.Allowed, "the new grant reached the Evaluator")
	w.equal(before+2, dec.Revision, "the answer's revision")

	// An Atomic write lands likewise.
	err = w.store.Atomic(w.ctx, func(tx iam.Tx) error { return tx.DeletePolicy(w.ctx, p.ID) })
	w.is(err, iam.ErrDelivery, "an Atomic whose delivery failed")
	w.equal(before+3, w.revision(), "the Atomic write committed")
	w.storeT.expect(ev, anaInWeb, notGranted, before+2, "after the Atomic delete")

	// A rejected write is not a delivery failure: nothing was delivered.
	err = w.store.DeletePolicy(w.ctx, "ana-web")
	w.is(err, iam.ErrNotFound, "deleting the policy again")
	w.isNot(err, iam.ErrDelivery, "a rejected write")
}
