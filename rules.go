package iam

import "context"

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
	// Owner returns the ID of the organization's owner (the user of type
	// owner), ok false when it has none.
	Owner(ctx context.Context, organizationID string) (userID string, ok bool, err error)

	// The lists serve the cascades of deletes and the suggestions of
	// error messages.
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
// see it. Apply never validates: the rules did. An error from Apply (a
// store failure) makes the whole transaction fail.
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
// it meant when the write accepted it. MemoryStore has it; a store built
// on WriteRules has it by returning its rules' ConditionEngine.
type ConditionSource interface {
	ConditionEngine() ConditionEngine
}

// WriteRules validates writes against a View and plans them as Events:
// the entity written and every cascade, in order. Every Store runs its
// writes through one, so that no store skips or re-implements a rule: a
// store implements View and Apply over its own state, its transactions,
// its revision and its change feed, and hands the Tx that Tx returns to
// its Atomic function. It is safe for concurrent use; the zero value is
// not usable, call NewWriteRules.
type WriteRules struct {
}

// NewWriteRules returns the write rules configured by the options that
// NewMemoryStore takes (WithCatalogue, WithConditions). It returns an
// error wrapping ErrInvalid for an invalid catalogue.
func NewWriteRules(opts ...Option) (*WriteRules, error) {
	panic("unfinished")
}

// Catalogue returns copies of the built-in permission sets.
func (w *WriteRules) Catalogue() []PermissionSet { panic("unfinished") }

// ConditionEngine returns the engine that compiles rule conditions, or nil
// when conditions are switched off.
func (w *WriteRules) ConditionEngine() ConditionEngine { panic("unfinished") }

// Tx returns the transaction a store hands to its Atomic function: every
// Entities method, validated by the rules, reading through st and writing
// through st.Apply. rev is the store's revision as of the transaction's
// start (Tx.Revision). The store then calls Commit, and commits its own
// transaction only when Commit succeeds, or rolls it back; either way it
// calls End once the function returns.
func (w *WriteRules) Tx(ctx context.Context, st StoreTx, rev uint64) *WriteTx {
	panic("unfinished")
}

// Reader returns the reads of Entities over st, for a store's methods
// outside a transaction; its writes fail with ErrInvalid.
func (w *WriteRules) Reader(st View) Entities { panic("unfinished") }

// Precompile does the work of a write of policy p that needs no state,
// before the store takes its lock or opens its transaction: the bounds
// on the policy's size (their error is returned) and the compilation of
// its conditions, which the transactions then find compiled. The store
// calls release once the write's Change is delivered, so that an
// Evaluator following the store finds them compiled too.
func (w *WriteRules) Precompile(ctx context.Context, p Policy) (release func(), err error) {
	panic("unfinished")
}

// WriteTx is one write transaction under the write rules: a Tx whose
// writes are validated, then applied through the store's StoreTx. It is
// used by one goroutine at a time and refuses every call once it ended.
type WriteTx struct {
	Tx // placeholder until the methods are written
}

var _ Tx = (*WriteTx)(nil)

// Commit checks the invariants that hold only at the end of a
// transaction (an organization whose owner was demoted has a new owner;
// every pattern of an organization's own permission sets matches a
// declared permission) and returns the transaction's events, the
// Change's Events, in the order they were applied. It ends the
// transaction. On an error the store must roll back.
func (t *WriteTx) Commit() ([]Event, error) { panic("unfinished") }

// End ends the transaction: every later call fails with ErrInvalid. It
// may be called more than once.
func (t *WriteTx) End() { panic("unfinished") }
