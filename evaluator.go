package iam

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Evaluator answers Requests from an index of who holds what where,
// precomputed from a Store and kept current as the store changes.
//
// It is safe for concurrent use. The zero Evaluator is not usable (its
// methods panic): build one with [NewEvaluator]. Checks read an immutable
// snapshot and never wait for writers; each store write is folded into
// the index before the write returns (for stores that deliver changes so,
// as [MemoryStore] does), so a check made after a write sees it. A check
// of unconditional grants, allowed or denied, allocates nothing.
//
// Conditional grants stay off that path: a check evaluates the conditions
// of the caller's rules (compiled once, when the rule is indexed) only when
// no unconditional grant allows the request. Without a condition engine
// (see ConditionEngine) a rule with a condition grants nothing.
//
// Every query (Check, CheckBatch, Explain, the reverse queries,
// Authenticate) reads one published snapshot and nothing else, so no
// query, however slow, delays a store write or another query.
//
// The index never skips a change. Given a Change whose revision is more
// than one past its own (it missed one: a lost notification, or a store
// that dropped a connection), the Evaluator reads the missed changes from
// the store (Store.Changes) and applies them before it publishes the
// newer revision. When it cannot (the store's log no longer holds them,
// ErrCompacted) or when applying a change fails (panics), its index may
// lack a committed change, perhaps the revocation of a grant: it then
// fails closed. Every query returns an error wrapping ErrStale, and
// Revision stays at the last revision fully applied, until a rebuild from
// the store's whole state, started at once and retried until it
// succeeds, replaces the index. The rebuild runs apart from the delivery
// of the change (a store delivers while it holds its write lock), so a
// write that triggered it may return before it is done: queries made
// meanwhile get ErrStale, never an answer from the old state.
type Evaluator struct {
	snap   atomic.Pointer[snapshot]
	mu     sync.Mutex // serializes index writers; queries never take it
	mirror *mirror    // the writers' copy of the store; nil while rebuilding
	store  Store
	cancel func()
	now    func() time.Time
	engine ConditionEngine
	hook   DecisionHook

	building bool     // a build reads the store: changes wait in pending
	pending  []Change // changes delivered during a build
	closed   bool
	stop     chan struct{} // closed by Close: ends a rebuild's retries
	watch    revisionWatch // wakes WaitRevision on each publication
}

// DecisionHook observes one decision: the request, its answer (or error)
// and how long the check took. It runs on the checking goroutine, so it
// should be quick, and on every checking goroutine at once, so it must be
// safe for concurrent use; it must not retain req.Resource.
type DecisionHook func(ctx context.Context, req Request, dec Decision, err error, took time.Duration)

// EvaluatorOption configures an Evaluator: WithClock, WithDecisionHook,
// and WithConditions, which configures stores too.
type EvaluatorOption interface {
	applyEvaluator(*Evaluator)
}

type evaluatorOption func(*Evaluator)

func (f evaluatorOption) applyEvaluator(e *Evaluator) { f(e) }

// WithClock sets the Evaluator's clock (default [time.Now]). API keys
// expire by it, and it fills in the Time of a request that has none: the
// conditions that read request.time see its now, one instant for the
// whole request (in Check, Explain and the reverse queries alike).
func WithClock(now func() time.Time) EvaluatorOption {
	return evaluatorOption(func(e *Evaluator) { e.now = now })
}

// WithDecisionHook calls hook after every Check (and every request of a
// CheckBatch), for audit logging. Unset, it costs one nil test.
func WithDecisionHook(hook DecisionHook) EvaluatorOption {
	return evaluatorOption(func(e *Evaluator) { e.hook = hook })
}

// NewEvaluator builds the index of everything store holds and follows its
// changes until Close. ctx bounds the build only.
func NewEvaluator(ctx context.Context, store Store, opts ...EvaluatorOption) (*Evaluator, error) {
	e := &Evaluator{now: time.Now, store: store, building: true, stop: make(chan struct{})}
	if cs, ok := store.(ConditionSource); ok {
		e.engine = cs.ConditionEngine()
	}
	for _, opt := range opts {
		opt.applyEvaluator(e)
	}
	// Subscribe first, so that no change is missed between the read and the
	// subscription; changes already in the read are skipped by revision.
	e.cancel = store.Subscribe(e.onChange)
	if err := e.build(ctx); err != nil {
		e.cancel()
		return nil, err
	}
	return e, nil
}

// onChange is the Evaluator's subscription to the store.
func (e *Evaluator) onChange(ch Change) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.building {
		e.pending = append(e.pending, ch)
		return
	}
	e.advanceLocked(ch)
}

// advanceLocked folds ch into the index and publishes it, or makes the
// Evaluator fail closed when it cannot.
func (e *Evaluator) advanceLocked(ch Change) {
	cur := e.snap.Load()
	if ch.Revision <= cur.rev {
		return
	}
	if err := e.applyLocked(cur, ch); err != nil {
		e.failLocked(cur, ch.Revision, err)
	}
}

// applyLocked applies ch to the index at cur, after the changes between
// them that the Evaluator was never given, read from the store, and
// publishes the result. It publishes nothing when it fails, panics
// included; the mirror may then be half-changed.
func (e *Evaluator) applyLocked(cur *snapshot, ch Change) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("applying revision %d panicked: %v", ch.Revision, p)
		}
	}()
	var missed []Change
	if ch.Revision > cur.rev+1 {
		if missed, err = e.missed(cur.rev, ch.Revision); err != nil {
			return err
		}
	}
	a := e.mirror.newApplier(cur)
	for _, c := range missed {
		for _, ev := range c.Events {
			a.apply(ev)
		}
	}
	for _, ev := range ch.Events {
		a.apply(ev)
	}
	e.publish(a.finish(ch.Revision))
	return nil
}

// missed reads from the store's log the changes after revision after and
// before revision upto, which the Evaluator was never given.
func (e *Evaluator) missed(after, upto uint64) ([]Change, error) {
	got, err := e.store.Changes(context.Background(), after)
	if err != nil {
		return nil, fmt.Errorf("catching up from revision %d to %d: %w", after, upto, err)
	}
	n := 0
	for n < len(got) && got[n].Revision < upto {
		if got[n].Revision != after+1+uint64(n) {
			return nil, fmt.Errorf("catching up from revision %d to %d: the store gave revision %d where %d was due", after, upto, got[n].Revision, after+1+uint64(n))
		}
		n++
	}
	if after+1+uint64(n) != upto {
		return nil, fmt.Errorf("catching up from revision %d to %d: the store gave revisions only up to %d", after, upto, after+uint64(n))
	}
	return got[:n], nil
}

// failLocked makes the Evaluator fail closed after it could not apply
// revision rev: its index may lack a committed change, perhaps a revoked
// grant, so it publishes the same state marked stale (every query then
// answers ErrStale) and starts a rebuild from the store.
func (e *Evaluator) failLocked(cur *snapshot, rev uint64, cause error) {
	stale := *cur
	stale.stale = fmt.Errorf("iam: the evaluator could not apply revision %d (%v) and is rebuilding its index from the store: %w", rev, cause, ErrStale)
	e.publish(&stale)
	e.mirror = nil
	e.building, e.pending = true, nil
	if !e.closed {
		go e.rebuild()
	}
}

// rebuild replaces a failed index by one built from the store's whole
// state, retrying with a growing delay until it succeeds or Close.
func (e *Evaluator) rebuild() {
	delay := 10 * time.Millisecond
	for e.build(context.Background()) != nil {
		select {
		case <-e.stop:
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// build reads the whole store in one transaction, replaces the index with
// it, and then applies the changes delivered since the read began. Until
// it succeeds, changes wait in pending.
//
// The new index's mirror is private to the build until it is published,
// so the read folds each organization into it as it is listed (the
// store's lists of one organization are all that is held besides the
// store and the index); the snapshot is derived after the read.
func (e *Evaluator) build(ctx context.Context) (err error) {
	e.mu.Lock()
	e.pending = nil // what was delivered so far, the read below holds
	e.mu.Unlock()
	var rev uint64
	m := newMirror(e.engine)
	a := m.newApplier(&snapshot{})
	a.full = true
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("iam: building the evaluator index: indexing revision %d panicked: %v", rev, p)
		}
	}()
	err = readSnapshot(ctx, e.store, func(tx Tx) error {
		rev = tx.Revision()
		builtin, err := tx.ListPermissionSets(ctx, "")
		if err != nil {
			return err
		}
		m.builtin, m.builtinCat = builtin, compileCatalogue(builtin, nil, nil, &m.masks)
		return a.readStore(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("iam: building the evaluator index: %w", err)
	}
	s := a.finish(rev)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.publish(s)
	e.mirror = m
	pending := e.pending
	e.pending, e.building = nil, false
	for _, p := range pending {
		if e.building {
			break // a pending change failed: a new rebuild reads it
		}
		e.advanceLocked(p)
	}
	return nil
}

// readStore folds every entity of the store into the mirror, organization
// by organization, each in an order in which it refers only to what came
// before.
func (a *applier) readStore(ctx context.Context, tx Tx) error {
	orgs, err := tx.ListOrganizations(ctx)
	if err != nil {
		return err
	}
	// The write rules' transaction copies every entity it lists, for a
	// caller that may change or keep it. The build keeps nothing of the
	// users, applications, policies and keys but their strings, so it
	// reads those lists from the store's own view, without the copies.
	var view View
	vctx := ctx
	if wt, ok := tx.(*WriteTx); ok && wt.view != nil {
		if c, err := wt.begin(ctx, false); err == nil {
			view, vctx = wt.view, c
		}
	}
	for _, o := range orgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		a.putOrganization(o.ID)
		mo := a.m.orgs[o.ID]
		sets, err := tx.ListPermissionSets(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, v := range sets {
			mo.sets[v.Name] = v
		}
		if len(sets) > 0 {
			a.catDirty[o.ID] = true
		}
		projects, err := tx.ListProjects(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, v := range projects {
			a.putProject(mo, v.ID)
		}
		var users []User
		if view != nil {
			users, err = view.Users(vctx, o.ID)
		} else {
			users, err = tx.ListUsers(ctx, o.ID)
		}
		if err != nil {
			return err
		}
		var apps []Application
		if view != nil {
			apps, err = view.Applications(vctx, o.ID)
		} else {
			apps, err = tx.ListApplications(ctx, o.ID)
		}
		if err != nil {
			return err
		}
		if len(mo.principals) == 0 {
			mo.principals = make(map[string]pinfo, len(users)+len(apps)) // sized once
		}
		for i := range users {
			a.putUser(mo, users[i].ID, &users[i])
		}
		for i := range apps {
			a.putApplication(mo, apps[i].ID, &apps[i])
		}
		// Copies, the build's own: it sorts their member lists in place.
		groups, err := tx.ListGroups(ctx, o.ID)
		if err != nil {
			return err
		}
		for i := range groups {
			a.putGroup(mo, groups[i].ID, &groups[i])
		}
		var policies []Policy
		if view != nil {
			policies, err = view.Policies(vctx, o.ID)
		} else {
			policies, err = tx.ListPolicies(ctx, o.ID)
		}
		if err != nil {
			return err
		}
		if len(mo.policies) == 0 {
			mo.policies = make(map[string]*cpolicy, len(policies))
		}
		for i := range policies {
			a.putPolicy(mo, policies[i].ID, &policies[i])
		}
		var keys []APIKey
		if view != nil {
			keys, err = view.APIKeys(vctx, o.ID)
		} else {
			keys, err = tx.ListAPIKeys(ctx, o.ID)
		}
		if err != nil {
			return err
		}
		for i := range keys {
			a.putKey(mo, keys[i].AccessKey, &keys[i])
		}
	}
	return nil
}

// Close stops following the store. The Evaluator keeps answering from the
// state it had last seen (and a stale one keeps answering ErrStale).
func (e *Evaluator) Close() error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.stop)
	}
	e.mu.Unlock()
	e.watch.notify()
	e.cancel()
	return nil
}

// current returns the published snapshot, or the error of a stale one.
func (e *Evaluator) current() (*snapshot, error) {
	s := e.snap.Load()
	if s.stale != nil {
		return nil, s.stale
	}
	return s, nil
}

// Revision returns the store revision the index reflects: the last one
// fully applied (a stale Evaluator stays at the revision before the one it
// could not apply).
func (e *Evaluator) Revision() uint64 { return e.snap.Load().rev }
