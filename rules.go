package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// View is the state a write is validated against: what the store holds,
// with the current transaction's earlier writes applied. A store
// implements it over its own state (see StoreTx); the write rules read
// through it and never write through it.
//
// ok is false when nothing has that ID; err reports a failure of the
// store only (I/O), never "not found". The values returned may share
// memory with the store: the rules never modify them. Lists are sorted
// by ID (permission sets by name) and are empty, not an error, for an
// organization that does not exist. Every ID is unique across a store,
// whatever the entity, except that an organization's own ID is also the
// ID of its default project.
type View interface {
	Organization(ctx context.Context, id string) (Organization, bool, error)
	// Holder reports the kind and organization of the entity that holds
	// id: a project, user, application, group, policy or API key (an
	// organization's ID is held by its default project).
	Holder(ctx context.Context, id string) (kind Kind, organizationID string, ok bool, err error)
	Project(ctx context.Context, id string) (Project, bool, error)
	User(ctx context.Context, id string) (User, bool, error)
	Application(ctx context.Context, id string) (Application, bool, error)
	Group(ctx context.Context, id string) (Group, bool, error)
	Policy(ctx context.Context, id string) (Policy, bool, error)
	// APIKey returns the key with SecretSHA256 set and Secret empty.
	APIKey(ctx context.Context, accessKey string) (APIKey, bool, error)
	// PermissionSet reads one of an organization's own sets (never the
	// built-in catalogue, which the rules hold).
	PermissionSet(ctx context.Context, organizationID, name string) (PermissionSet, bool, error)
	// UserByEmail finds the user of an organization with that email,
	// compared case-insensitively (as strings.ToLower of both).
	UserByEmail(ctx context.Context, organizationID, email string) (User, bool, error)
	// GroupByName finds the group of an organization with that name.
	GroupByName(ctx context.Context, organizationID, name string) (Group, bool, error)
	// Owner returns the ID of the organization's owner (its user of type
	// owner); ok is false when it has none.
	Owner(ctx context.Context, organizationID string) (userID string, ok bool, err error)

	// The lists serve the List methods, the cascades of deletes and the
	// suggestions of error messages.
	Organizations(ctx context.Context) ([]Organization, error)
	Projects(ctx context.Context, organizationID string) ([]Project, error)
	Users(ctx context.Context, organizationID string) ([]User, error)
	Applications(ctx context.Context, organizationID string) ([]Application, error)
	Groups(ctx context.Context, organizationID string) ([]Group, error)
	Policies(ctx context.Context, organizationID string) ([]Policy, error)
	APIKeys(ctx context.Context, organizationID string) ([]APIKey, error)
	PermissionSets(ctx context.Context, organizationID string) ([]PermissionSet, error)
}

// StoreTx is what a store implements for one write transaction: a View of
// its state plus Apply, which writes one Event (the put of a whole entity,
// or a delete, as the write rules planned it) so that later View reads
// see it. Apply does not validate: the rules did, and they apply a
// cascade child first (an organization is deleted after everything in
// it). The Event's Value is the store's to keep. An error from Apply (a
// store failure) fails the whole transaction.
type StoreTx interface {
	View
	Apply(ctx context.Context, ev Event) error
}

// ConditionSource is an optional capability of a Store: the condition
// engine its writes compile rule conditions with (nil when conditions are
// switched off). NewEvaluator compiles the conditions of the rules it
// indexes with the engine of a store that has this capability, unless it
// is given one with WithConditions: so the engine is configured once,
// where writes are validated, and a condition means at check time what
// it meant when a write accepted it. MemoryStore has it; a store built on
// WriteRules has it by returning its rules' ConditionEngine.
type ConditionSource interface {
	ConditionEngine() ConditionEngine
}

// Option configures the write rules of a store: NewMemoryStore and
// NewWriteRules take it, as may other stores built on WriteRules.
type Option interface {
	applyRules(*rulesOptions)
}

// SharedOption configures a store and an Evaluator alike: it is both an
// Option and an EvaluatorOption (WithConditions).
type SharedOption interface {
	Option
	EvaluatorOption
}

type rulesOptions struct {
	catalogue    []PermissionSet
	catalogueSet bool
	cond         ConditionEngine
}

type rulesOption func(*rulesOptions)

func (f rulesOption) applyRules(o *rulesOptions) { f(o) }

// WithCatalogue replaces the built-in permission-set catalogue (by default
// ScalewayCatalogue()) with sets, which must have an empty OrganizationID.
// WithCatalogue(nil) turns the built-in catalogue off: organizations then
// have only their own sets. NewMemoryStore panics on an invalid catalogue,
// as it is a programming error; NewWriteRules returns the error.
func WithCatalogue(sets []PermissionSet) Option {
	return rulesOption(func(o *rulesOptions) { o.catalogue, o.catalogueSet = sets, true })
}

// WithConditions switches rule conditions on, compiled by engine. It is
// the one way to say which engine compiles conditions, to a store and to
// an Evaluator.
//
// Given to a store (NewMemoryStore, NewWriteRules), it makes writes accept
// conditions: each is compiled when written, and a write whose condition
// does not compile is refused. CreatePolicy and UpdatePolicy compile a
// policy's conditions before they take the store's lock, so that a slow
// compilation never delays the reads and writes of others; inside Atomic
// (and so in LoadFile) the function runs under the lock, compilations
// included.
//
// An Evaluator takes the engine of its store by default (see
// ConditionSource), and reuses what the store compiled for a write rather
// than compiling it again. Given to NewEvaluator, WithConditions replaces
// that engine for this Evaluator only, to evaluate conditions otherwise
// than the store does (an analysis that holds every condition true, say);
// WithConditions(nil) then means that no rule with a condition grants.
func WithConditions(engine ConditionEngine) SharedOption {
	return conditionsOption{engine}
}

type conditionsOption struct{ engine ConditionEngine }

func (c conditionsOption) applyRules(o *rulesOptions)  { o.cond = c.engine }
func (c conditionsOption) applyEvaluator(e *Evaluator) { e.engine = c.engine }

// WriteRules validates writes against a View and plans them as Events:
// the entity written and every cascade, in order. Every Store runs its
// writes through one, so that no store skips or re-implements a rule: a
// store implements View and Apply over its own state, its transactions,
// its revision and its change feed, and hands the Tx that Tx returns to
// its Atomic function. It holds the built-in catalogue and the condition
// engine. It is safe for concurrent use; the zero value is not usable,
// call NewWriteRules.
type WriteRules struct {
	catalogue []PermissionSet
	catByName map[string]int
	cond      *storeConditions // nil: conditions are switched off

	builtinServices map[string]*servicePatterns // the built-in catalogue by service
}

// NewWriteRules returns the write rules configured by the options that
// NewMemoryStore takes (WithCatalogue, WithConditions). It returns an
// error wrapping ErrInvalid for an invalid catalogue.
func NewWriteRules(opts ...Option) (*WriteRules, error) {
	var o rulesOptions
	for _, opt := range opts {
		opt.applyRules(&o)
	}
	if !o.catalogueSet {
		o.catalogue = ScalewayCatalogue()
	}
	w := &WriteRules{
		catalogue: make([]PermissionSet, len(o.catalogue)),
		catByName: make(map[string]int, len(o.catalogue)),
	}
	if o.cond != nil {
		w.cond = &storeConditions{engine: o.cond, pinned: map[string]*pinnedCondition{}}
	}
	for i, ps := range o.catalogue {
		w.catalogue[i] = clonePermissionSet(ps)
		w.catByName[ps.Name] = i
	}
	var err error
	if o.catalogueSet {
		if err = validateCatalogue(w.catalogue, w.catByName); err == nil {
			w.builtinServices = indexServices(w.catalogue)
		}
	} else {
		w.builtinServices, err = scalewayIndex() // validated once per process
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Catalogue returns copies of the built-in permission sets, in the order
// they were given.
func (w *WriteRules) Catalogue() []PermissionSet {
	out := make([]PermissionSet, len(w.catalogue))
	for i, ps := range w.catalogue {
		out[i] = clonePermissionSet(ps)
	}
	return out
}

// ConditionEngine returns the engine given with WithConditions, or nil.
// The engine returned answers from the rules' own compilation for the
// conditions of a write in progress (see Precompile), so that an
// Evaluator following the store does not compile them again while the
// store delivers the write; other expressions it passes to the engine
// given.
func (w *WriteRules) ConditionEngine() ConditionEngine {
	if w.cond == nil {
		return nil
	}
	return w.cond
}

// Tx returns the transaction a store hands to its Atomic function: every
// Entities method, validated by the rules, reading through st and writing
// through st.Apply. ctx is the transaction's: its cancellation fails
// every later call. rev is the store's revision as of the transaction's
// start (Tx.Revision). When the function returns nil, the store calls
// Commit and commits its own transaction only if Commit succeeds; in
// every other case it rolls its transaction back. Either way it calls End
// once the function returns, so that a Tx kept beyond it is refused.
func (w *WriteRules) Tx(ctx context.Context, st StoreTx, rev uint64) *WriteTx {
	return &WriteTx{w: w, ctx: ctx, view: st, st: st, rev: rev}
}

// Reader returns the reads of Entities over st, for a store's methods
// outside a transaction (GetUser, ListPolicies...), with the same answers
// and errors as inside one; its writes fail with ErrInvalid.
func (w *WriteRules) Reader(st View) Entities {
	return &WriteTx{w: w, view: st}
}

// Precompile does the work of a write of policy p that needs no state,
// before the store takes its lock or opens its transaction: it checks the
// bounds on the policy's size (returning their error) and compiles its
// conditions, which the transactions then find compiled. The store calls
// release, never nil, once the write's Change has been delivered, so that
// an Evaluator following the store finds them compiled too.
func (w *WriteRules) Precompile(ctx context.Context, p Policy) (release func(), err error) {
	if err := checkPolicySize(p); err != nil {
		return func() {}, err
	}
	if w.cond == nil {
		return func() {}, nil
	}
	pinned := w.cond.pin(ctx, p.Rules)
	return func() { w.cond.unpin(pinned) }, nil
}

// WriteTx is one transaction under the write rules: a Tx whose writes are
// validated, then applied through the store's StoreTx (or, as given by
// Reader, a Tx that only reads). It is not safe for concurrent use, as a
// Tx is used by the function it is given to; it refuses every call once
// it has ended, and every call after a store failure in the middle of a
// write (the transaction must then be rolled back).
type WriteTx struct {
	w    *WriteRules
	ctx  context.Context // nil for a reader: each call's own
	view View
	st   StoreTx // nil: read-only
	rev  uint64
	done bool
	err  error // a write failed half-way: the transaction can only fail

	events     []Event
	demoted    map[string]bool // organizations whose owner was demoted
	catalogues map[string]bool // organizations whose own permission sets changed
}

var _ Tx = (*WriteTx)(nil)

// Revision is the store's revision as of the start of the transaction.
func (t *WriteTx) Revision() uint64 { return t.rev }

// Commit checks the invariants that hold only at the end of a
// transaction (an organization whose owner was demoted has a new owner;
// every pattern of an organization's own permission sets matches one of
// its service's declared permissions, when it has some) and returns the
// transaction's events, the Change's Events, in the order they were
// applied. It ends the transaction. On an error the store rolls back.
func (t *WriteTx) Commit() ([]Event, error) {
	if t.done || t.st == nil {
		return nil, fmt.Errorf("iam: commit of a transaction that ended or cannot write: %w", ErrInvalid)
	}
	defer t.End()
	if t.err != nil {
		return nil, t.err
	}
	ctx := t.ctx
	for _, orgID := range sortedKeys(t.demoted) {
		_, exists, err := t.view.Organization(ctx, orgID)
		if err != nil {
			return nil, err
		}
		if !exists {
			continue
		}
		if _, ok, err := t.view.Owner(ctx, orgID); err != nil {
			return nil, err
		} else if !ok {
			return nil, fmt.Errorf("iam: organization %q would be left without an owner: promote another user to owner in the same Atomic write: %w", orgID, ErrForbidden)
		}
	}
	for _, orgID := range sortedKeys(t.catalogues) {
		if err := t.checkCatalogue(orgID); err != nil {
			return nil, err
		}
	}
	return t.events, nil
}

// End ends the transaction: every later call fails with ErrInvalid. It
// may be called more than once.
func (t *WriteTx) End() { t.done = true }

// begin checks that the transaction can take a call (a write when
// write), and returns the context that its reads and writes run under:
// the transaction's, or for a reader the call's own.
func (t *WriteTx) begin(ctx context.Context, write bool) (context.Context, error) {
	if t.done {
		return nil, fmt.Errorf("iam: transaction used after its function returned: %w", ErrInvalid)
	}
	if write && t.st == nil {
		return nil, fmt.Errorf("iam: write in a read-only transaction: %w", ErrInvalid)
	}
	if t.err != nil {
		return nil, t.err
	}
	if t.ctx != nil {
		ctx = t.ctx
	}
	return ctx, ctx.Err()
}

// settle ends a write: when it fails after it applied some of its events
// (a store failure in a cascade), the transaction can only fail, so that
// nothing half-written is committed. Writes defer it with the number of
// events before them.
func (t *WriteTx) settle(before int, err *error) {
	if *err != nil && len(t.events) > before && t.err == nil {
		t.err = *err
	}
}

// apply writes one event through the store and records it.
func (t *WriteTx) apply(ctx context.Context, op Op, kind Kind, id, org string, v any) error {
	ev := Event{Op: op, Kind: kind, ID: id, OrganizationID: org, Value: v}
	if err := t.st.Apply(ctx, ev); err != nil {
		t.err = err
		return err
	}
	t.events = append(t.events, ev)
	return nil
}

// org returns the organization, or a NotFound error.
func (t *WriteTx) org(ctx context.Context, id string) (Organization, error) {
	o, ok, err := t.view.Organization(ctx, id)
	if err != nil {
		return Organization{}, err
	}
	if !ok {
		return Organization{}, notFound(KindOrganization, id)
	}
	return o, nil
}

// get reads the entity id of kind k through read, or returns a NotFound
// error.
func get[V any](ctx context.Context, k Kind, id string, read func(context.Context, string) (V, bool, error)) (V, error) {
	v, ok, err := read(ctx, id)
	if err == nil && !ok {
		err = notFound(k, id)
	}
	return v, err
}

func notFound(k Kind, id string) error {
	return fmt.Errorf("iam: %s %q: %w", k, id, ErrNotFound)
}

// claimID checks that a new entity of organization org may take the ID
// id, or reports the conflict; applying the entity takes it. IDs are
// unique across the store, so an ID that another organization holds
// cannot be claimed either; that conflict names neither the organization
// nor the kind that holds the ID (idUnavailable), so that a message
// passed on to a tenant tells it nothing about another. An ID that org
// itself holds is named with its kind.
func (t *WriteTx) claimID(ctx context.Context, k Kind, id, org string) error {
	kind, holder, ok, err := t.view.Holder(ctx, id)
	if err != nil {
		return err
	}
	if ok {
		if holder != org {
			return idUnavailable(k, id, "")
		}
		return fmt.Errorf("iam: %s %q: the ID is already used by %s of organization %q: %w", k, id, kind.withArticle(), holder, ErrConflict)
	}
	if k == KindProject && id == org {
		return nil // the default project
	}
	if _, ok, err := t.view.Organization(ctx, id); err != nil {
		return err
	} else if ok {
		if id != org {
			return idUnavailable(k, id, "")
		}
		return fmt.Errorf("iam: %s %q: the ID is already used by an organization: %w", k, id, ErrConflict)
	}
	return nil
}

// idUnavailable is the conflict of a new entity of kind k whose ID id is
// held by something the caller may not learn about: it says that the ID is
// taken, and nothing of who holds it. hint, when not empty, says what to do.
func idUnavailable(k Kind, id, hint string) error {
	what := "ID"
	if k == KindAPIKey {
		what = "access key"
	}
	if hint != "" {
		hint = "; " + hint
	}
	return fmt.Errorf("iam: %s %q: the %s is not available%s: %w", k, id, what, hint, ErrConflict)
}

// immutable rejects a change to a field that never changes.
func immutable(k Kind, id, field, stored, given string) error {
	if given == stored {
		return nil
	}
	return &ValidationError{Entity: k.String(), ID: id, Field: field, Value: given, Reason: "cannot change", Hint: fmt.Sprintf("it is %q", stored)}
}

// refError turns a NotFound of a referenced entity into a ValidationError
// on the referring field.
func refError(k Kind, id, field string, err error) error {
	if !errors.Is(err, ErrNotFound) {
		return err // a store failure
	}
	return &ValidationError{Entity: k.String(), ID: id, Field: field, Reason: strings.TrimPrefix(err.Error(), "iam: "), Cause: ErrNotFound}
}

// cloned copies each of vs with clone.
func cloned[V any](vs []V, err error, clone func(V) V) ([]V, error) {
	if err != nil {
		return nil, err
	}
	out := make([]V, len(vs))
	for i, v := range vs {
		out[i] = clone(v)
	}
	return out, nil
}

// storeConditions is the condition engine of write rules: the engine
// given with WithConditions, and the conditions compiled for the writes
// in progress, pinned from before the write takes the store's lock until
// the subscribers have seen it. It has its own lock, never held while
// compiling, and is safe for concurrent use.
type storeConditions struct {
	engine ConditionEngine

	mu     sync.Mutex
	pinned map[string]*pinnedCondition // by expression
}

type pinnedCondition struct {
	c    Condition
	err  error
	refs int // writes in progress that compiled it
}

// Compile returns the pinned condition of a write in progress, or compiles
// expr.
func (sc *storeConditions) Compile(expr string) (Condition, error) {
	sc.mu.Lock()
	p := sc.pinned[expr]
	sc.mu.Unlock()
	if p != nil {
		return p.c, p.err
	}
	return sc.engine.Compile(expr)
}

// pin compiles the conditions of rules, outside any lock, and pins them
// (with their errors) until unpin. It skips what the write's validation
// rejects anyway (a policy or a condition over the bounds), so that no
// oversized input is compiled.
func (sc *storeConditions) pin(ctx context.Context, rules []Rule) []string {
	if len(rules) > MaxRulesPerPolicy {
		return nil
	}
	var pinned []string
	for _, r := range rules {
		expr := r.Condition
		if expr == "" || runesOver(expr, MaxConditionLength) || ctx.Err() != nil || slices.Contains(pinned, expr) {
			continue
		}
		c, err := sc.engine.Compile(expr)
		sc.mu.Lock()
		if p := sc.pinned[expr]; p != nil {
			p.refs++
		} else {
			sc.pinned[expr] = &pinnedCondition{c: c, err: err, refs: 1}
		}
		sc.mu.Unlock()
		pinned = append(pinned, expr)
	}
	return pinned
}

// unpin releases what pin pinned.
func (sc *storeConditions) unpin(pinned []string) {
	if len(pinned) == 0 {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, expr := range pinned {
		if p := sc.pinned[expr]; p != nil {
			if p.refs--; p.refs == 0 {
				delete(sc.pinned, expr)
			}
		}
	}
}

func cloneUser(u User) User {
	u.Tags = slices.Clone(u.Tags)
	return u
}

func cloneApplication(a Application) Application {
	a.Tags = slices.Clone(a.Tags)
	return a
}

func cloneGroup(g Group) Group {
	g.UserIDs = slices.Clone(g.UserIDs)
	g.ApplicationIDs = slices.Clone(g.ApplicationIDs)
	g.Tags = slices.Clone(g.Tags)
	return g
}

func clonePolicy(p Policy) Policy {
	p.Tags = slices.Clone(p.Tags)
	if p.Rules != nil {
		rules := make([]Rule, len(p.Rules))
		for i, r := range p.Rules {
			r.Scope.ProjectIDs = slices.Clone(r.Scope.ProjectIDs)
			r.PermissionSets = slices.Clone(r.PermissionSets)
			rules[i] = r
		}
		p.Rules = rules
	}
	return p
}

func clonePermissionSet(ps PermissionSet) PermissionSet {
	ps.Permissions = slices.Clone(ps.Permissions)
	ps.Includes = slices.Clone(ps.Includes)
	ps.Declared = slices.Clone(ps.Declared)
	ps.Categories = slices.Clone(ps.Categories)
	return ps
}

func same[V any](v V) V { return v }

// checkRef validates a reference from an entity of organization org to an
// entity of kind k: it must exist and belong to the same organization.
//
// An ID that another organization holds, whatever the kind, is answered
// word for word as an ID that nothing holds (ErrNotFound, naming neither
// that organization nor the kind): nothing crosses the organization
// boundary, not even the fact that the ID exists. Only an entity of org
// itself of another kind is named, as a hint.
func (t *WriteTx) checkRef(ctx context.Context, org string, from Kind, fromID, field string, k Kind, id string) error {
	kind, holder, ok, err := t.view.Holder(ctx, id)
	if err != nil {
		return err
	}
	if ok && kind == k && holder == org {
		return nil
	}
	e := invalid(from, fromID, field, id, fmt.Sprintf("no %s %q in organization %q", k, id, org), "")
	e.Cause = ErrNotFound
	if ok && holder == org {
		e.Reason += fmt.Sprintf(" (%q is %s)", id, kind.withArticle())
	}
	candidates, err := t.idsOf(ctx, org, k)
	if err != nil {
		return err
	}
	e.Hint = didYouMean(id, candidates)
	return e
}

// idsOf lists the IDs (and names) of an organization's entities of kind k,
// as candidates for a suggestion.
func (t *WriteTx) idsOf(ctx context.Context, org string, k Kind) ([]string, error) {
	var out []string
	var err error
	switch k {
	case KindProject:
		var ps []Project
		ps, err = t.view.Projects(ctx, org)
		for _, p := range ps {
			out = append(out, p.ID, p.Name)
		}
	case KindUser:
		var us []User
		us, err = t.view.Users(ctx, org)
		for _, u := range us {
			out = append(out, u.ID, u.Email)
		}
	case KindApplication:
		var as []Application
		as, err = t.view.Applications(ctx, org)
		for _, a := range as {
			out = append(out, a.ID, a.Name)
		}
	case KindGroup:
		var gs []Group
		gs, err = t.view.Groups(ctx, org)
		for _, g := range gs {
			out = append(out, g.ID, g.Name)
		}
	}
	return out, err
}
