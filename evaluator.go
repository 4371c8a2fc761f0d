package iam

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Request asks whether a principal may use a permission at a target.
type Request struct {
	// Principal is the caller: a user, an application, an API key (answered
	// for its bearer) or a group (answered from the group's own policies).
	Principal Principal
	// Exactly one of ProjectID and OrganizationID names the target. A
	// project-scoped permission asked at the organization asks for it in
	// every project at once (an organization-wide listing).
	ProjectID      string
	OrganizationID string
	// Permission is a permission set name ("InstancesFullAccess") or a
	// permission triple ("instance:server:create").
	Permission string

	// The condition context, read only by rules that have a condition.
	// UserAgent and the Resource's fields have at most MaxRequestField
	// bytes each: a request with a longer one is malformed (ErrInvalid),
	// whether or not a condition would read it.
	IP        netip.Addr
	Time      time.Time // zero: now
	UserAgent string
	Resource  *Resource // nil on list requests
}

// Resource is the resource a request acts on, for conditions.
type Resource struct {
	ID       string
	Name     string
	Locality string
}

// Reason says why a Decision came out as it did.
type Reason uint8

// Reasons.
const (
	ReasonNone              Reason = iota // no decision (the check failed)
	ReasonGranted                         // a policy grants it
	ReasonOwner                           // the caller owns the organization
	ReasonNotGranted                      // nothing grants it
	ReasonOtherOrganization               // caller and target are in different organizations
	ReasonLocked                          // the user is locked
	ReasonExpired                         // the API key has expired
)

var reasonNames = [...]string{"none", "granted", "owner", "not granted", "other organization", "locked", "expired"}

// String returns the reason in words.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Decision is the answer to a Request.
type Decision struct {
	Allowed  bool
	Reason   Reason
	Revision uint64 // the store revision the answer reflects
}

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
func (e *Evaluator) build(ctx context.Context) (err error) {
	e.mu.Lock()
	e.pending = nil // what was delivered so far, the read below holds
	e.mu.Unlock()
	var ch Change
	m := &mirror{
		engine:   e.engine,
		orgs:     map[string]*mOrg{},
		compiled: map[string]Condition{},
		masks:    map[string]string{},
	}
	err = readSnapshot(ctx, e.store, func(tx Tx) error {
		ch.Revision = tx.Revision()
		builtin, err := tx.ListPermissionSets(ctx, "")
		if err != nil {
			return err
		}
		m.builtin, m.builtinCat = builtin, compileCatalogue(builtin, nil, nil)
		evs, err := readAll(ctx, tx)
		ch.Events = evs
		return err
	})
	if err != nil {
		return fmt.Errorf("iam: building the evaluator index: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("iam: building the evaluator index: indexing revision %d panicked: %v", ch.Revision, p)
		}
	}()
	a := m.newApplier(&snapshot{})
	for _, ev := range ch.Events {
		a.apply(ev)
	}
	e.publish(a.finish(ch.Revision))
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

// readAll lists every entity of the store as OpPut events, in an order in
// which each refers only to what came before.
func readAll(ctx context.Context, tx Tx) ([]Event, error) {
	orgs, err := tx.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	var evs []Event
	put := func(k Kind, id, org string, v any) {
		evs = append(evs, Event{Op: OpPut, Kind: k, ID: id, OrganizationID: org, Value: v})
	}
	for _, o := range orgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		put(KindOrganization, o.ID, o.ID, o)
		sets, err := tx.ListPermissionSets(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range sets {
			put(KindPermissionSet, v.Name, o.ID, v)
		}
		projects, err := tx.ListProjects(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range projects {
			put(KindProject, v.ID, o.ID, v)
		}
		users, err := tx.ListUsers(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range users {
			put(KindUser, v.ID, o.ID, v)
		}
		apps, err := tx.ListApplications(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range apps {
			put(KindApplication, v.ID, o.ID, v)
		}
		groups, err := tx.ListGroups(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range groups {
			put(KindGroup, v.ID, o.ID, v)
		}
		policies, err := tx.ListPolicies(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range policies {
			put(KindPolicy, v.ID, o.ID, v)
		}
		keys, err := tx.ListAPIKeys(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range keys {
			put(KindAPIKey, v.AccessKey, o.ID, v)
		}
	}
	return evs, nil
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

// Check answers req. Errors come in this order: an index being rebuilt
// after a failure (ErrStale, see Evaluator); a malformed request
// (ErrInvalid); an unknown project or organization (ErrNotFound); a
// permission the target's organization does not know
// (ErrUnknownPermission); an organization-level permission asked in a
// project (ErrScopeMismatch); an unknown principal, or an ID of another
// kind (ErrNotFound). Then a caller of another organization is denied, an
// expired API key is denied, a locked user is denied, the owner is
// allowed, and the grants decide. Whenever err != nil, Allowed is false.
//
// ctx is not consulted: a check never blocks.
func (e *Evaluator) Check(ctx context.Context, req Request) (Decision, error) {
	return e.observe(ctx, e.snap.Load(), &req)
}

// observe answers req from snapshot s and reports it to the decision hook,
// if any.
func (e *Evaluator) observe(ctx context.Context, s *snapshot, req *Request) (Decision, error) {
	if e.hook == nil {
		return e.check(s, req)
	}
	start := time.Now()
	dec, err := e.check(s, req)
	e.hook(ctx, *req, dec, err, time.Since(start))
	return dec, err
}

func (e *Evaluator) check(s *snapshot, req *Request) (Decision, error) {
	if s.stale != nil {
		return Decision{}, s.stale
	}
	var q query
	if err := q.parse(s, req); err != nil {
		return Decision{}, err
	}
	pe, reason, err := e.resolve(s, &q, req.Principal)
	if err != nil {
		return Decision{}, err
	}
	if reason == ReasonNone {
		var conditional bool
		reason, conditional = q.decide(pe)
		if reason == ReasonNotGranted && conditional {
			// The slow path: a copy, so that req itself never escapes and
			// unconditional checks stay free of allocation.
			c := *req
			if c.Time.IsZero() {
				c.Time = e.now() // one instant for every rule of this check
			}
			if len(e.conditionalGrants(&q, pe, &c, true)) > 0 {
				reason = ReasonGranted
			}
		}
	}
	return Decision{Allowed: reason == ReasonGranted || reason == ReasonOwner, Reason: reason, Revision: s.rev}, nil
}

// Result is one answer of CheckBatch.
type Result struct {
	Decision Decision
	Err      error
}

// CheckBatch answers every request against one and the same state of the
// index, so the answers are mutually consistent even while writes land.
func (e *Evaluator) CheckBatch(ctx context.Context, reqs []Request) []Result {
	s := e.snap.Load()
	out := make([]Result, len(reqs))
	for i := range reqs {
		out[i].Decision, out[i].Err = e.observe(ctx, s, &reqs[i])
	}
	return out
}

// unknownSet reports a set name that cat does not hold. Its suggestion is
// taken from the built-in sets and from the own sets of organization org
// only: another organization's sets are never shown.
func unknownSet(name string, cat *catalogue, org string) error {
	names := make([]string, 0, len(cat.sets))
	for _, s := range cat.sets {
		if s.OrganizationID == "" || s.OrganizationID == org {
			names = append(names, s.Name)
		}
	}
	msg := fmt.Sprintf("iam: permission set %q is not in the catalogue", clip(name))
	if hint := didYouMean(name, names); hint != "" {
		msg += "; " + hint
	}
	return fmt.Errorf("%s: %w", msg, ErrUnknownPermission)
}

// resolve finds the caller's index entry. A non-None reason settles the
// decision before grants are read.
func (e *Evaluator) resolve(s *snapshot, q *query, p Principal) (*principalEntry, Reason, error) {
	expired := false
	if p.Type == PrincipalAPIKey {
		k, ok := s.keys.Get(p.ID)
		if !ok {
			if err := checkIDSize("principal", p.ID); err != nil {
				return nil, ReasonNone, err
			}
			return nil, ReasonNone, fmt.Errorf("iam: API key %q: %w", clip(p.ID), ErrNotFound)
		}
		expired = !k.expires.IsZero() && !e.now().Before(k.expires)
		p = k.bearer
	}
	pe, ok := s.principals.Ref(p.ID)
	if !ok || pe.typ != p.Type {
		if err := checkIDSize("principal", p.ID); err != nil {
			return nil, ReasonNone, err
		}
		return nil, ReasonNone, fmt.Errorf("iam: %s %q: %w", p.Type, clip(p.ID), ErrNotFound)
	}
	switch {
	case pe.org != q.org.id:
		return pe, ReasonOtherOrganization, nil
	case expired:
		return pe, ReasonExpired, nil
	case pe.locked:
		return pe, ReasonLocked, nil
	case pe.owner:
		return pe, ReasonOwner, nil
	}
	return pe, ReasonNone, nil
}

// specialGroups returns the groups pe belongs to without being listed: the
// all-users groups for a user, the all-applications groups for a
// non-managed application.
func (o *orgIndex) specialGroups(pe *principalEntry) []int32 {
	switch {
	case pe.typ == PrincipalUser:
		return o.allUsers
	case pe.typ == PrincipalApplication && !pe.managed:
		return o.allApps
	}
	return nil
}

// decide reads the grants of the caller and of its groups. conditional
// reports whether any of them has a conditional rule, for the slow path.
func (q *query) decide(pe *principalEntry) (r Reason, conditional bool) {
	org := q.org
	if pe.typ == PrincipalGroup {
		g := org.group(pe.seq)
		if q.holds(g) {
			return ReasonGranted, false
		}
		return ReasonNotGranted, g != nil && g.conditional
	}
	if q.holds(&pe.own) {
		return ReasonGranted, false
	}
	conditional = pe.own.conditional
	for _, seq := range pe.groups {
		g := org.group(seq)
		if q.holds(g) {
			return ReasonGranted, false
		}
		conditional = conditional || g != nil && g.conditional
	}
	for _, seq := range org.specialGroups(pe) {
		g := org.group(seq)
		if q.holds(g) {
			return ReasonGranted, false
		}
		conditional = conditional || g != nil && g.conditional
	}
	return ReasonNotGranted, conditional
}

// holder is one source of grants for a caller: itself or a group.
type holder struct {
	p Principal // the caller itself, or the group
	g *grants
}

// holders lists the caller's sources of grants that have any: its own,
// then its explicit groups, then the all-users or all-applications groups.
// self names the caller in the result. (It allocates: slow paths only.)
func (q *query) holders(pe *principalEntry, self Principal) []holder {
	org := q.org
	var out []holder
	add := func(p Principal, g *grants) {
		if g != nil {
			out = append(out, holder{p, g})
		}
	}
	if pe.typ == PrincipalGroup {
		add(GroupPrincipal(org.groupIDs[pe.seq]), org.group(pe.seq))
		return out
	}
	if len(pe.own.rules) > 0 {
		add(self, &pe.own)
	}
	for _, seq := range pe.groups {
		add(GroupPrincipal(org.groupIDs[seq]), org.group(seq))
	}
	for _, seq := range org.specialGroups(pe) {
		add(GroupPrincipal(org.groupIDs[seq]), org.group(seq))
	}
	return out
}

// ruleMatch returns the set of rule r that grants the query at its target
// and the set that matched inside its closure (equal to the first when the
// rule names it directly), or ok false.
func (q *query) ruleMatch(r *ruleRef) (named, via string, ok bool) {
	cat := q.org.cat
	for _, name := range r.rule().PermissionSets {
		bit, known := cat.lookup.Get(name)
		if !known {
			continue
		}
		cs := &cat.sets[bit]
		if !r.appliesAt(q.projectID, cs.ScopeType) {
			continue
		}
		if q.triple {
			if m := cat.matchingSet(cs.closure, q.pats, q.resource, q.action, q.orgScoped); m >= 0 {
				return cs.Name, cat.sets[m].Name, true
			}
			continue
		}
		if cs.closure.has(q.bit) {
			return cs.Name, cat.sets[q.bit].Name, true
		}
	}
	return "", "", false
}

// conditionalGrants evaluates the conditional rules that would grant the
// query and returns those whose condition holds (the first only, when
// first is set).
func (e *Evaluator) conditionalGrants(q *query, pe *principalEntry, req *Request, first bool) []Grant {
	var out []Grant
	for _, h := range q.holders(pe, req.Principal) {
		for _, i := range q.candidates(h.g) {
			r := &h.g.rules[i]
			if r.cond == nil {
				continue
			}
			named, via, ok := q.ruleMatch(r)
			if !ok {
				continue
			}
			if holds, err := r.cond.Eval(req); err != nil || !holds {
				continue
			}
			out = append(out, q.grant(h.p, r, named, via))
			if first {
				return out
			}
		}
	}
	return out
}

// candidates lists, in order, the indexes of g's rules that name a set
// which could grant the query: a set whose closure holds the asked set,
// or one of the sets matching the asked triple. The slow paths read only
// these, never every rule of a holder. (It allocates.)
func (q *query) candidates(g *grants) []int32 {
	cat := q.org.cat
	var out []int32
	add := func(bit int32) {
		for _, inc := range cat.sets[bit].includers {
			out = g.rulesNaming(inc, out)
		}
	}
	switch {
	case !q.triple:
		add(q.bit)
	case q.overflow:
		for bit := range cat.sets {
			if cat.matchingSet(cat.sets[bit].closure, q.pats, q.resource, q.action, q.orgScoped) >= 0 {
				out = g.rulesNaming(int32(bit), out)
			}
		}
	default:
		for _, bit := range q.matches[:q.nmatch] {
			add(bit)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// holds reports whether one holder's grants allow the query. A grant
// answers only for permissions of its own level: at the organization, an
// organization-level permission (or organization-scoped set) is read from
// the organization-scoped grants only, and a project-level one from the
// project-scoped sets granted on the organization (all projects) only.
func (q *query) holds(g *grants) bool {
	if g == nil {
		return false
	}
	var a, b mask // the masks that apply at the target
	switch {
	case q.project >= 0:
		a, b = g.all, g.inProject(q.project)
	case q.orgScoped:
		a = g.org
	default:
		a = g.all
	}
	if !q.triple {
		return a.has(q.bit) || b.has(q.bit)
	}
	if q.overflow {
		cat := q.org.cat
		return cat.grantsTriple(a, q.pats, q.resource, q.action, q.orgScoped) ||
			cat.grantsTriple(b, q.pats, q.resource, q.action, q.orgScoped)
	}
	as, bs := a.bytes(), b.bytes()
	for _, bit := range q.matches[:q.nmatch] {
		if hasBit(as, bit) || hasBit(bs, bit) {
			return true
		}
	}
	return false
}
