package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// View is the state a write is validated against: what the store holds,
// with the current transaction's earlier writes applied. A store
// implements it over its own state (see StoreTx); the write rules read
// through it and never write through it.
//
// ok is false when nothing has that ID; err reports a failure of the
// store only (I/O), never "not found". The values returned, and the
// lists themselves, may share memory with the store (a list it keeps,
// the slices of tags, rules and members): the rules never modify them
// nor keep them, and copy what they return to a caller. Lists are sorted by ID
// (permission sets by name) and are empty, not an error, for an
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

// Option configures the write rules of a store: NewMemoryStore and
// NewWriteRules take it, as may other stores built on WriteRules.
type Option interface {
	applyRules(*rulesOptions)
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

// WriteTx is one transaction under the write rules: a Tx whose writes are
// validated, then applied through the store's StoreTx (or, as given by
// Reader, a Tx that only reads). It is not safe for concurrent use, as a
// Tx is used by the function it is given to; it refuses every call once
// it has ended, and every call after a store failure in the middle of a
// write (the transaction must then be rolled back). The zero value is not
// usable: WriteRules.Tx makes one.
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
	lists      sharedLists     // see sharedList
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

// copied copies a list of values that hold no slices.
func copied[V any](vs []V, err error) ([]V, error) {
	if err != nil {
		return nil, err
	}
	return slices.Clone(vs), nil
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

// The bulk entry points: a loader writing many new entities that it built
// itself (a world file) hands each over to the transaction, which keeps
// its slices, instead of having it copied in and out as a Create method
// does for a caller that keeps its own. The rules are the Create
// methods' own (insertUser, insertApplication, insertPolicy), and a Tx
// that is not the write rules' (a store of another kind) gets one Create
// call each.

// createUserOwned creates u, which the caller no longer touches.
func createUserOwned(ctx context.Context, tx Tx, u User) (err error) {
	t, ok := tx.(*WriteTx)
	if !ok {
		_, err = tx.CreateUser(ctx, u)
		return err
	}
	if ctx, err = t.begin(ctx, true); err == nil {
		_, err = t.insertUser(ctx, u)
	}
	return err
}

// createApplicationOwned creates a, which the caller no longer touches.
func createApplicationOwned(ctx context.Context, tx Tx, a Application) (err error) {
	t, ok := tx.(*WriteTx)
	if !ok {
		_, err = tx.CreateApplication(ctx, a)
		return err
	}
	if ctx, err = t.begin(ctx, true); err == nil {
		_, err = t.insertApplication(ctx, a)
	}
	return err
}

// createPolicyOwned creates p, which the caller no longer touches.
func createPolicyOwned(ctx context.Context, tx Tx, p Policy) (err error) {
	t, ok := tx.(*WriteTx)
	if !ok {
		_, err = tx.CreatePolicy(ctx, p)
		return err
	}
	if ctx, err = t.begin(ctx, true); err == nil {
		_, err = t.insertPolicy(ctx, t.ownPolicy(p, true))
	}
	return err
}

// bulkSizes is how many entities of each kind a loader is about to create
// in one organization.
type bulkSizes [KindAPIKey + 1]int

// reserver is a StoreTx that can make room ahead of a bulk write
// (MemoryStore's, for an organization the transaction created).
type reserver interface {
	reserve(org string, n bulkSizes)
}

// reserveOwned makes room in tx, and in its store where it can, for the
// n entities a loader is about to create in organization org: no table
// is grown step by step.
func reserveOwned(tx Tx, org string, n bulkSizes) {
	t, ok := tx.(*WriteTx)
	if !ok || t.st == nil {
		return
	}
	total := 0
	for _, c := range n {
		total += c
	}
	t.events = slices.Grow(t.events, total)
	if r, ok := t.st.(reserver); ok {
		r.reserve(org, n)
	}
}
