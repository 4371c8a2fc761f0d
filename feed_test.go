package iam_test

// The change feed never loses a change, and no query holds up a writer:
// an Evaluator that missed a change catches up (or rebuilds) before it
// answers from a newer revision, one whose own apply failed answers
// nothing rather than an old state, and a reverse query, however slow,
// never delays a write. (That a subscriber that panics stops nothing is
// the Store conformance suite's: iamtest.TestStore.)

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
)

// feedWorld is a store holding organization "acme" (owner "acme-owner"),
// its project "web", and a user "ana" that policy "ana-web" allows
// InstancesFullAccess in "web".
func feedWorld(t *testing.T, opts ...iam.Option) *iam.MemoryStore {
	t.Helper()
	ctx := context.Background()
	store := iam.NewMemoryStore(opts...)
	_, err := store.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
	require.NoError(t, err)
	_, err = store.CreateUser(ctx, iam.User{ID: "acme-owner", OrganizationID: "acme", Email: "owner@acme.test", Type: iam.UserOwner})
	require.NoError(t, err)
	_, err = store.CreateProject(ctx, iam.Project{ID: "web", OrganizationID: "acme", Name: "web"})
	require.NoError(t, err)
	_, err = store.CreateUser(ctx, iam.User{ID: "ana", OrganizationID: "acme", Email: "ana@acme.test"})
	require.NoError(t, err)
	_, err = store.CreatePolicy(ctx, iam.Policy{ID: "ana-web", OrganizationID: "acme", Name: "ana-web", Principal: iam.UserPrincipal("ana"),
		Rules: []iam.Rule{onProjects(ids("web"), "InstancesFullAccess")}})
	require.NoError(t, err)
	return store
}

var anaInWeb = inProject(iam.UserPrincipal("ana"), "web", "InstancesFullAccess")

// feedTouch makes one unrelated write (a new tag on the organization's
// owner), so that a store's revision moves on.
func feedTouch(t *testing.T, store iam.Store, n int) {
	t.Helper()
	ctx := context.Background()
	u, err := store.GetUser(ctx, "acme-owner")
	require.NoError(t, err)
	u.Tags = []string{"touch-" + string(rune('a'+n%26))}
	_, err = store.UpdateUser(ctx, u)
	require.NoError(t, err)
}

func feedRevision(t *testing.T, store iam.Store) uint64 {
	t.Helper()
	rev, err := store.Revision(context.Background())
	require.NoError(t, err)
	return rev
}

// feedStore is a Store that stands between a MemoryStore and the
// Evaluators on it and can tamper with what it delivers (skip a change,
// or deliver a change with a bogus event) and hold up or fail their reads
// of its whole state (Atomic).
type feedStore struct {
	*iam.MemoryStore
	mu        sync.Mutex
	drop      func(rev uint64) bool // skip this change
	corrupt   func(rev uint64) bool // deliver this change with an unreadable event
	gate      chan struct{}         // Atomic waits until it is closed
	failReads int                   // so many Atomic calls fail
}

func (s *feedStore) Atomic(ctx context.Context, fn func(tx iam.Tx) error) error {
	s.mu.Lock()
	gate := s.gate
	fail := s.failReads > 0
	if fail {
		s.failReads--
	}
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if fail {
		return errors.New("connection reset")
	}
	return s.MemoryStore.Atomic(ctx, fn)
}

// hold makes reads of the whole state wait until the returned function is
// called, after failing the first fail of them.
func (s *feedStore) hold(fail int) (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate, s.failReads = gate, fail
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.gate = nil
		s.mu.Unlock()
		close(gate)
	}
}

// feedRequireStale asserts that every query of ev answers ErrStale.
func feedRequireStale(t *testing.T, ev *iam.Evaluator) {
	t.Helper()
	ctx := context.Background()
	var errs []error
	_, err := ev.Check(ctx, anaInWeb)
	errs = append(errs, err)
	for _, r := range ev.CheckBatch(ctx, []iam.Request{anaInWeb}) {
		errs = append(errs, r.Err)
	}
	_, err = ev.Explain(ctx, anaInWeb)
	errs = append(errs, err)
	_, err = ev.WhoCan(ctx, iam.Request{ProjectID: "web", Permission: "InstancesFullAccess"})
	errs = append(errs, err)
	_, err = ev.WhatCan(ctx, iam.Request{Principal: iam.UserPrincipal("ana"), ProjectID: "web"})
	errs = append(errs, err)
	_, err = ev.WhereCan(ctx, iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "InstancesFullAccess"})
	errs = append(errs, err)
	_, err = ev.Authenticate(ctx, "SCWNOSUCHKEY00000000", "secret")
	errs = append(errs, err)
	for i, err := range errs {
		require.ErrorIs(t, err, iam.ErrStale, "query %d", i)
	}
}

func (s *feedStore) Subscribe(fn func(iam.Change)) func() {
	return s.MemoryStore.Subscribe(func(ch iam.Change) {
		s.mu.Lock()
		drop, corrupt := s.drop != nil && s.drop(ch.Revision), s.corrupt != nil && s.corrupt(ch.Revision)
		s.mu.Unlock()
		switch {
		case drop:
			return
		case corrupt:
			bogus := iam.Event{Op: iam.OpPut, Kind: iam.KindPolicy, ID: "bogus", OrganizationID: "acme", Value: "not a policy"}
			ch.Events = append([]iam.Event{bogus}, ch.Events...)
		}
		fn(ch)
	})
}

func (s *feedStore) set(drop, corrupt func(rev uint64) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop, s.corrupt = drop, corrupt
}

// feedRequireNeverAllowed asserts that an Evaluator answers anaInWeb with
// a denial or with ErrStale, never with an allow; it returns whether it
// answered.
func feedRequireNeverAllowed(t *testing.T, ev *iam.Evaluator) bool {
	t.Helper()
	dec, err := ev.Check(context.Background(), anaInWeb)
	if err != nil {
		require.ErrorIs(t, err, iam.ErrStale)
		require.False(t, dec.Allowed)
		return false
	}
	require.False(t, dec.Allowed, "a revoked grant survived")
	return true
}

// feedAwait waits until ev has caught up with the store at rev and
// answers again.
func feedAwait(t *testing.T, ev *iam.Evaluator, rev uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		answered := feedRequireNeverAllowed(t, ev)
		if answered && ev.Revision() == rev {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Evaluator is still at revision %d (answering: %v), the store at %d", ev.Revision(), answered, rev)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDroppedChangeIsCaughtUpBeforeANewerRevision: the change that
// deletes a policy never reaches the Evaluator (a lost notification). The
// next change shows a gap in revisions: the Evaluator reads the missed
// change from the store's log before it publishes the newer revision.
func TestDroppedChangeIsCaughtUpBeforeANewerRevision(t *testing.T) {
	ctx := context.Background()
	store := &feedStore{MemoryStore: feedWorld(t)}
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()

	start := feedRevision(t, store)
	store.set(func(rev uint64) bool { return rev == start+1 }, nil)
	require.NoError(t, store.DeletePolicy(ctx, "ana-web"))
	require.Equal(t, start, ev.Revision(), "the test store did not drop the change")

	feedTouch(t, store, 0)
	dec, err := ev.Check(ctx, anaInWeb)
	require.NoError(t, err)
	require.False(t, dec.Allowed, "the Evaluator published a newer revision without the change it missed")
	require.Equal(t, start+2, dec.Revision)
	require.Equal(t, start+2, ev.Revision())
}

// TestCompactedChangeLogForcesAFullRebuild: the Evaluator misses more
// changes than the store's log keeps, one of them a policy deletion. When
// delivery resumes it cannot catch up from the log: it rebuilds its index
// from the store, and until then it answers nothing rather than an old
// state.
func TestCompactedChangeLogForcesAFullRebuild(t *testing.T) {
	ctx := context.Background()
	store := &feedStore{MemoryStore: feedWorld(t)}
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()

	start := feedRevision(t, store)
	store.set(func(uint64) bool { return true }, nil)
	require.NoError(t, store.DeletePolicy(ctx, "ana-web"))
	for i := range 1100 {
		feedTouch(t, store, i)
	}
	_, err = store.Changes(ctx, start)
	require.ErrorIs(t, err, iam.ErrCompacted, "the log still holds the first missed change: the test proves nothing")
	require.Equal(t, start, ev.Revision())

	// The rebuild's first read fails (a dropped connection), and the
	// second waits: meanwhile the Evaluator answers nothing.
	release := store.hold(1)
	store.set(nil, nil)
	feedTouch(t, store, 0)
	feedRequireStale(t, ev)
	require.Equal(t, start, ev.Revision(), "a stale Evaluator's revision stays at the last one it applied")
	feedTouch(t, store, 1) // changes that come meanwhile are not lost either
	feedRequireStale(t, ev)
	release()
	feedAwait(t, ev, feedRevision(t, store))

	// The rebuilt index follows the store as before.
	_, err = store.CreatePolicy(ctx, iam.Policy{ID: "ana-web-2", OrganizationID: "acme", Principal: iam.UserPrincipal("ana"),
		Rules: []iam.Rule{onProjects(ids("web"), "InstancesFullAccess")}})
	require.NoError(t, err)
	dec, err := ev.Check(ctx, anaInWeb)
	require.NoError(t, err)
	require.True(t, dec.Allowed)
	require.Equal(t, feedRevision(t, store), dec.Revision)
}

// TestFailedApplyNeverAnswersFromAnOldState: the change that deletes a
// policy reaches the Evaluator with an event it cannot read, and its
// apply panics. The Evaluator does not go on answering from the state
// before the change as if it were current: it answers ErrStale until it
// has rebuilt its index from the store, which holds the deletion.
func TestFailedApplyNeverAnswersFromAnOldState(t *testing.T) {
	ctx := context.Background()
	store := &feedStore{MemoryStore: feedWorld(t)}
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()

	start := feedRevision(t, store)
	store.set(nil, func(rev uint64) bool { return rev == start+1 })
	release := store.hold(0)
	err = store.DeletePolicy(ctx, "ana-web")
	require.NoError(t, err, "the Evaluator's own failure is its own: it recovers and rebuilds")
	require.Equal(t, start+1, feedRevision(t, store))
	feedRequireStale(t, ev)
	require.Equal(t, start, ev.Revision())
	release()
	feedAwait(t, ev, start+1)

	// Later changes apply as usual.
	store.set(nil, nil)
	feedTouch(t, store, 1)
	feedAwait(t, ev, start+2)
}

// feedBlockingEngine compiles "block" into a condition whose Eval waits
// until release is closed (announcing itself on entered, once), and any
// other expression into one that holds.
type feedBlockingEngine struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

type feedCond func(*iam.Request) (bool, error)

func (c feedCond) Eval(req *iam.Request) (bool, error) { return c(req) }

func (e *feedBlockingEngine) Compile(expr string) (iam.Condition, error) {
	if expr != "block" {
		return feedCond(func(*iam.Request) (bool, error) { return true, nil }), nil
	}
	return feedCond(func(*iam.Request) (bool, error) {
		e.once.Do(func() { close(e.entered) })
		<-e.release
		return true, nil
	}), nil
}

// TestSlowReverseQueryNeverDelaysAWrite: a WhoCan whose condition blocks
// holds up neither a write to another organization nor a write to its
// own, nor a check; and when it is released its answer is that of the
// state it started from.
func TestSlowReverseQueryNeverDelaysAWrite(t *testing.T) {
	ctx := context.Background()
	engine := &feedBlockingEngine{entered: make(chan struct{}), release: make(chan struct{})}
	store := feedWorld(t, iam.WithConditions(engine))
	_, err := store.CreatePolicy(ctx, iam.Policy{ID: "ana-slow", OrganizationID: "acme", Principal: iam.UserPrincipal("ana"),
		Rules: []iam.Rule{{Scope: iam.ProjectsScope("web"), PermissionSets: []string{"ContainersReadOnly"}, Condition: "block"}}})
	require.NoError(t, err)
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	var released atomic.Bool
	release := func() {
		if released.CompareAndSwap(false, true) {
			close(engine.release)
		}
	}
	defer release()

	type answer struct {
		who []iam.Principal
		err error
	}
	done := make(chan answer, 1)
	go func() {
		who, err := ev.WhoCan(ctx, iam.Request{ProjectID: "web", Permission: "ContainersReadOnly"})
		done <- answer{who, err}
	}()
	select {
	case <-engine.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the WhoCan never reached its condition")
	}

	writes := make(chan error, 1)
	go func() {
		// Another organization, then the query's own: a new user granted
		// the permission unconditionally.
		if _, err := store.CreateOrganization(ctx, iam.Organization{ID: "globex", Name: "Globex"}); err != nil {
			writes <- err
			return
		}
		if _, err := store.CreateUser(ctx, iam.User{ID: "bob", OrganizationID: "acme", Email: "bob@acme.test"}); err != nil {
			writes <- err
			return
		}
		_, err := store.CreatePolicy(ctx, iam.Policy{ID: "bob-web", OrganizationID: "acme", Principal: iam.UserPrincipal("bob"),
			Rules: []iam.Rule{onProjects(ids("web"), "ContainersReadOnly")}})
		writes <- err
	}()
	select {
	case err := <-writes:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		release()
		t.Fatal("a write waited for a slow reverse query")
	}
	dec, err := ev.Check(ctx, inProject(iam.UserPrincipal("bob"), "web", "ContainersReadOnly"))
	require.NoError(t, err)
	require.True(t, dec.Allowed, "the write is visible to checks while the query runs")
	select {
	case <-done:
		t.Fatal("the WhoCan returned before its condition was released")
	default:
	}

	release()
	got := <-done
	require.NoError(t, got.err)
	require.Equal(t, []iam.Principal{iam.UserPrincipal("acme-owner"), iam.UserPrincipal("ana")}, got.who,
		"the answer is that of the state the query started from (bob came later)")
}

// TestSlowWhereCanNeverDelaysAWrite: the same for WhereCan, which
// evaluates the conditions of rules on projects one by one.
func TestSlowWhereCanNeverDelaysAWrite(t *testing.T) {
	ctx := context.Background()
	engine := &feedBlockingEngine{entered: make(chan struct{}), release: make(chan struct{})}
	store := feedWorld(t, iam.WithConditions(engine))
	_, err := store.CreatePolicy(ctx, iam.Policy{ID: "ana-slow", OrganizationID: "acme", Principal: iam.UserPrincipal("ana"),
		Rules: []iam.Rule{{Scope: iam.ProjectsScope("web"), PermissionSets: []string{"ContainersReadOnly"}, Condition: "block"}}})
	require.NoError(t, err)
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()
	var once sync.Once
	release := func() { once.Do(func() { close(engine.release) }) }
	defer release()

	type answer struct {
		where []string
		err   error
	}
	done := make(chan answer, 1)
	go func() {
		where, err := ev.WhereCan(ctx, iam.Request{Principal: iam.UserPrincipal("ana"), Permission: "ContainersReadOnly"})
		done <- answer{where, err}
	}()
	select {
	case <-engine.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the WhereCan never reached its condition")
	}
	writes := make(chan error, 1)
	go func() {
		if _, err := store.CreateOrganization(ctx, iam.Organization{ID: "globex", Name: "Globex"}); err != nil {
			writes <- err
			return
		}
		_, err := store.CreateProject(ctx, iam.Project{ID: "api", OrganizationID: "acme", Name: "api"})
		writes <- err
	}()
	select {
	case err := <-writes:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		release()
		t.Fatal("a write waited for a slow WhereCan")
	}
	release()
	got := <-done
	require.NoError(t, got.err)
	require.Equal(t, []string{"web"}, got.where)
}

// TestMemoryStoreChangeLogKeepsTheLast1024Changes: the MemoryStore's log
// of changes (what Changes replays, as the conformance suite checks)
// holds the last 1024 changes; further back, ErrCompacted.
func TestMemoryStoreChangeLogKeepsTheLast1024Changes(t *testing.T) {
	ctx := context.Background()
	store := feedWorld(t)
	start := feedRevision(t, store)
	for i := range 1028 {
		feedTouch(t, store, i)
	}
	_, err := store.Changes(ctx, start+3)
	require.ErrorIs(t, err, iam.ErrCompacted)
	now := feedRevision(t, store)
	got, err := store.Changes(ctx, now-1024)
	require.NoError(t, err)
	require.Len(t, got, 1024, "the log keeps the last 1024 changes")
	require.Equal(t, now, got[len(got)-1].Revision)
}
