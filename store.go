package iam

import "context"

// OrganizationStore manages organizations. CreateOrganization also creates
// the default project (same ID, named "default"); DeleteOrganization
// removes everything in the organization in one atomic write.
type OrganizationStore interface {
	CreateOrganization(ctx context.Context, o Organization) (Organization, error)
	GetOrganization(ctx context.Context, id string) (Organization, error)
	ListOrganizations(ctx context.Context) ([]Organization, error)
	UpdateOrganization(ctx context.Context, o Organization) (Organization, error)
	DeleteOrganization(ctx context.Context, id string) error
}

// ProjectStore manages projects. Deleting a project removes it from every
// rule, drops the rules left with no project, and resets API keys'
// DefaultProjectID to the default project, which itself cannot be deleted.
type ProjectStore interface {
	CreateProject(ctx context.Context, p Project) (Project, error)
	GetProject(ctx context.Context, id string) (Project, error)
	ListProjects(ctx context.Context, organizationID string) ([]Project, error)
	UpdateProject(ctx context.Context, p Project) (Project, error)
	DeleteProject(ctx context.Context, id string) error
}

// UserStore manages users. Deleting a user deletes its API keys, removes it
// from every group and leaves its policies without a principal; the owner
// can be neither deleted nor locked ([ErrForbidden]).
type UserStore interface {
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	ListUsers(ctx context.Context, organizationID string) ([]User, error)
	UpdateUser(ctx context.Context, u User) (User, error)
	DeleteUser(ctx context.Context, id string) error
}

// ApplicationStore manages applications. Deleting one deletes its API
// keys, removes it from every group and leaves its policies without a
// principal.
type ApplicationStore interface {
	CreateApplication(ctx context.Context, a Application) (Application, error)
	GetApplication(ctx context.Context, id string) (Application, error)
	ListApplications(ctx context.Context, organizationID string) ([]Application, error)
	UpdateApplication(ctx context.Context, a Application) (Application, error)
	DeleteApplication(ctx context.Context, id string) error
}

// GroupStore manages groups. Deleting a group leaves its policies without
// a principal.
type GroupStore interface {
	CreateGroup(ctx context.Context, g Group) (Group, error)
	GetGroup(ctx context.Context, id string) (Group, error)
	ListGroups(ctx context.Context, organizationID string) ([]Group, error)
	UpdateGroup(ctx context.Context, g Group) (Group, error)
	DeleteGroup(ctx context.Context, id string) error
}

// PolicyStore manages policies.
type PolicyStore interface {
	CreatePolicy(ctx context.Context, p Policy) (Policy, error)
	GetPolicy(ctx context.Context, id string) (Policy, error)
	ListPolicies(ctx context.Context, organizationID string) ([]Policy, error)
	UpdatePolicy(ctx context.Context, p Policy) (Policy, error)
	DeletePolicy(ctx context.Context, id string) error
}

// PermissionSetStore manages an organization's own permission sets. Sets
// have no ID of their own: they are named by (organization ID, name).
// ListPermissionSets and GetPermissionSet with an empty organization ID
// read the built-in catalogue, which cannot be written. A set that a rule
// or another set refers to cannot be deleted ([ErrConflict]).
type PermissionSetStore interface {
	CreatePermissionSet(ctx context.Context, s PermissionSet) (PermissionSet, error)
	GetPermissionSet(ctx context.Context, organizationID, name string) (PermissionSet, error)
	ListPermissionSets(ctx context.Context, organizationID string) ([]PermissionSet, error)
	UpdatePermissionSet(ctx context.Context, s PermissionSet) (PermissionSet, error)
	DeletePermissionSet(ctx context.Context, organizationID, name string) error
}

// APIKeyStore manages API keys, named by their access key. CreateAPIKey
// returns the key with Secret filled in, that one time only.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	GetAPIKey(ctx context.Context, accessKey string) (APIKey, error)
	ListAPIKeys(ctx context.Context, organizationID string) ([]APIKey, error)
	UpdateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	DeleteAPIKey(ctx context.Context, accessKey string) error
}

// Entities is every per-entity interface: what a Store offers outside a
// transaction and what a Tx offers inside one.
type Entities interface {
	OrganizationStore
	ProjectStore
	UserStore
	ApplicationStore
	GroupStore
	PolicyStore
	PermissionSetStore
	APIKeyStore
}

// Tx is the view of a Store inside [Store.Atomic]: reads see the
// transaction's own earlier writes. A Tx is for the goroutine that runs
// the function it was given to, and for as long as that function runs: it
// is not safe for concurrent use, and must not be used after the function
// returns.
type Tx interface {
	Entities
	// Revision is the store's revision as of the start of the transaction.
	Revision() uint64
}

// Store holds the IAM model of any number of organizations. Every write is
// validated before anything changes (the rules of docs/semantics.md,
// "Validation"); an invalid write changes nothing, revision included. A
// Store gets its validation, and the cascades of deletes, from WriteRules,
// which runs them over a View of the store's own state, so that every
// store keeps the same rules.
//
// Implementations must be safe for concurrent use, and must deliver each
// committed write to every subscriber before the write returns, so that an
// [Evaluator] following the store reads its writes.
//
// The change feed never loses a change. A subscriber that panics does not
// stop the delivery to the others, and the write still lands: every write
// method (Create..., Update..., Delete..., Atomic) then returns an error
// wrapping [ErrDelivery], a [*DeliveryError], meaning that the write LANDED
// (the revision counts it) but a subscriber failed; Create... and
// Update... also return the stored entity beside it. A follower that
// still missed a change (a lost notification, a failed apply) sees a gap
// in the revisions it is given and reads what it missed with Changes.
type Store interface {
	Entities

	// Atomic runs fn in one transaction: every write fn makes lands
	// together, as one revision and one Change, when fn returns nil, and
	// none lands when fn returns an error (which Atomic returns) or panics.
	// A transaction that writes nothing leaves the revision unchanged.
	// An error wrapping ErrDelivery means that the write landed, and a
	// subscriber failed to take its Change: do not retry it.
	Atomic(ctx context.Context, fn func(tx Tx) error) error

	// Revision counts successful writes: it grows by exactly one per write
	// (an Atomic call counts as one) and never on a rejected one.
	Revision(ctx context.Context) (uint64, error)

	// Subscribe calls fn with every Change committed from now on, in
	// revision order, before the write that made it returns. fn must not
	// call back into the store, except to Changes, and should be quick:
	// writers wait for it. A panic in fn is recovered: the other
	// subscribers are still told, and the write's caller gets an error
	// wrapping ErrDelivery (the write landed all the same). The returned
	// function cancels the subscription.
	Subscribe(fn func(Change)) (cancel func())

	// Changes returns every committed Change whose Revision is greater
	// than after, in revision order (nil when there is none), so that a
	// subscriber that missed some catches up. A store keeps a bounded log
	// of recent changes: when it no longer holds all of them, Changes
	// returns an error wrapping ErrCompacted, and the caller must read the
	// whole state again. Changes may be called from inside a subscriber,
	// while the write being delivered is still in progress. The Changes'
	// Events are shared: read them, never modify them.
	Changes(ctx context.Context, after uint64) ([]Change, error)
}

// Op is what happened to an entity in a [Change].
type Op uint8

// Operations.
const (
	OpPut    Op = iota + 1 // created or replaced
	OpDelete               // deleted
)

// Kind is an entity type.
type Kind uint8

// Entity kinds.
const (
	KindOrganization Kind = iota + 1
	KindProject
	KindUser
	KindApplication
	KindGroup
	KindPolicy
	KindPermissionSet
	KindAPIKey
)

var kindNames = [...]string{"", "organization", "project", "user", "application", "group", "policy", "permission set", "API key"}

// String returns the entity kind in words ("permission set").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// withArticle returns "a user", "an application", "an API key"...
func (k Kind) withArticle() string {
	s := k.String()
	switch s[0] {
	case 'a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U':
		return "an " + s
	}
	return "a " + s
}

// Event is one entity's change inside a [Change].
type Event struct {
	Op             Op
	Kind           Kind
	ID             string // a permission set's Name; an API key's AccessKey
	OrganizationID string
	// Value is the entity as stored after an OpPut (an Organization,
	// Project, User, Application, Group, Policy, PermissionSet or APIKey
	// value, Secret never set), nil after an OpDelete. Its slices may be
	// shared with the store: a subscriber reads them and never modifies
	// them.
	Value any
}

// Change is one committed write: every entity it touched, cascades
// included (deleting a user also lists its deleted keys and the groups and
// policies it was removed from), in the order they were applied.
type Change struct {
	Revision uint64
	Events   []Event
}
