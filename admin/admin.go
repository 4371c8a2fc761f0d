// Package admin is the management layer of iam: the Store's reads and
// writes made on behalf of a caller, each one checked first against the
// caller's own rights with an [iam.Evaluator]. A host puts it behind its
// own IAM API:
//
//	adm := admin.New(store, ev)
//	p, err := adm.As(caller).CreatePolicy(ctx, policy)
//
// It uses only the public API of package iam.
package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamkit/iam"
)

// Admin performs IAM reads and writes on behalf of a caller, after
// checking the caller's organization-level rights with an [iam.Evaluator]
// (rule 9, management actions, of docs/semantics.md). It is what a host
// puts behind its own IAM API: the host authenticates the caller, then
// calls adm.As(caller).CreatePolicy(ctx, p) instead of
// store.CreatePolicy.
//
// # The rights
//
// Every call is checked with [iam.Evaluator.Check] at the organization the call
// acts in, for the permission triple below, where <action> is create,
// update or delete for writes, read for Get… and list for List…:
//
//   - users, applications, groups, policies, permission sets and API keys:
//     iam:<resource>:<action>, resource being user, application, group,
//     policy, permission_set or api_key. The Scaleway catalogue grants these
//     through IAMManager (iam:*:*), the IAM…Manager and IAM…ReadOnly sets,
//     and OrganizationManager, which includes IAMManager;
//   - projects: project:project:<action> (ProjectManager, which IAMManager
//     and OrganizationManager include);
//   - the organization itself: organization:organization:<action>
//     (OrganizationManager). ListOrganizations returns the caller's own
//     organization only.
//
// So the owner may do everything in its own organization, a locked user
// nothing, and an API key exactly what its bearer may (never more), and
// nothing at all once expired: the Evaluator decides all of that, as for
// any other request. A host whose catalogue holds no set naming these
// permissions gets [iam.ErrUnknownPermission] from every call.
//
// As in Scaleway, an IAM manager can grant itself anything: whoever may
// write policies (iam:policy:create or update) may write one that gives
// itself, or anyone, any permission set of the organization, and whoever
// may update groups may join a group that holds such a policy. Admin does
// not stop this; grant IAMManager, IAMPolicyManager and IAMGroupManager
// as you would grant ownership.
//
// # Email addresses
//
// Nobody but a user itself (or a caller that is an API key of that user)
// changes the user's email through UpdateUser: not an IAM manager, not the
// owner. A host that recovers accounts by email would otherwise hand the
// account to whoever set the address. The user itself still needs
// iam:user:update like any update; a host that lets every user change its
// own address, or an administrator correct one, verifies the new address
// and writes it on the Store directly.
//
// # API keys
//
// Nobody, whatever their rights (the owner and IAM managers included),
// creates an API key for another human user: a key is a credential, and a
// credential of a person is that person's alone. A user creates, reads,
// lists, updates and deletes its own keys with no right needed; a caller
// that is an API key of that user counts as the user. Keys of
// applications are created by IAM managers (iam:api_key:create), the
// application itself included: a leaked application key must not mint
// fresh ones. For the same reason only a user updates its own keys
// without a right (an update can push ExpiresAt back); any principal may
// read and delete its own keys. Other principals' keys take
// iam:api_key:read, update or delete. ListAPIKeys returns every key of the
// organization to a caller with iam:api_key:list, and only the caller's
// own keys to one without (an empty list for a caller with none). Even
// for one's own keys the caller must be valid: a locked user or an
// expired key is refused, so an expired key cannot renew itself.
//
// # Errors
//
// A refusal wraps [iam.ErrForbidden], and its message names the caller, the
// action, the organization and the permission it needs, with the sets
// that hold it:
//
//	iam: user "ana" may not create policies in organization "acme": it needs
//	iam:policy:create (held through IAMManager, IAMPolicyManager,
//	OrganizationManager or ownership): iam: forbidden
//
// A refusal because an API key has expired also wraps [iam.ErrExpired]. Errors
// of the check ([iam.ErrNotFound] for an unknown caller, [iam.ErrInvalid] for the zero
// Principal) and of the store pass through, wrapped.
//
// Admin never shows a caller anything outside its own organization: an
// entity of another organization, and a create, list or read aimed at
// another organization, is [iam.ErrNotFound], exactly as if it did not exist,
// never [iam.ErrForbidden]; so is a reference, inside a written entity, to
// another organization's project, user, application or group (a policy's
// principal, a rule's projects, a group's members, an API key's bearer or
// default project). Such an error is the very error an ID that nothing
// holds gets, word for word: it names neither the other organization nor
// the kind of entity that holds the ID. Inside its own organization a
// caller may learn that an entity exists ([iam.ErrForbidden] rather than
// [iam.ErrNotFound]), as Scaleway shows its members their organization's
// resources.
//
// # IDs chosen by the caller
//
// IDs are unique across the store, whatever the kind and the organization.
// A create that names its own ID (Project.ID, User.ID, APIKey.AccessKey...;
// not a permission set's name, which is unique only inside its
// organization) is refused, once the caller may create, when anything in
// the store holds that ID, with one and the same [iam.ErrConflict] whoever holds
// it, the caller's organization or another, and whatever its kind:
//
//	iam: user "ops": the ID is not available; leave it empty to have one generated: iam: conflict
//
// That the ID is taken somewhere is the one fact such a create tells, and
// no answer can hide it, since the create cannot succeed; it tells nothing
// of who holds the ID. Leave IDs empty and the store generates them (random
// UUIDs, random access keys): a host whose API should not tell even that
// much clears the ID, or refuses caller-chosen IDs, before calling Admin.
//
// Creating an organization is not an action inside an organization, so no
// caller may do it through Admin ([iam.ErrForbidden]): the host creates
// organizations, and their owners, directly on the Store. Likewise moving
// ownership, which takes one atomic write of two users, is the host's
// business on the Store ([iam.Store.Atomic]).
//
// # Consistency
//
// The check and the write are two steps, not one atomic step: the
// decision reflects the Evaluator's index at the time of the call, so a
// right revoked by a concurrent write may still let through a write that
// was checked just before the revocation landed. Each step on its own is
// consistent: with a MemoryStore, a check made after a write returns sees
// that write.
//
// An Admin is safe for concurrent use; so are the views As returns. The
// zero Admin is not usable: call [New].
type Admin struct {
	store iam.Store
	ev    *iam.Evaluator
}

// New returns an Admin that writes to store after checking with ev. ev
// must follow store ([iam.NewEvaluator](ctx, store)); otherwise its
// decisions are about some other world.
func New(store iam.Store, ev *iam.Evaluator) *Admin {
	return &Admin{store: store, ev: ev}
}

// As returns the store as seen by caller (a user, an application, a group,
// answered from the group's own policies, or an API key, answered for its
// bearer): every method checks caller's rights before it reads or writes.
// The result implements [iam.Entities], so it drops in wherever code takes
// a store's per-entity interfaces (an [iam.UserStore], an
// [iam.PolicyStore], ...). The caller is resolved on each call, so a view
// stays correct as the caller's rights change.
func (a *Admin) As(caller iam.Principal) iam.Entities {
	return &view{a: a, caller: caller}
}

// view is what As returns.
type view struct {
	a      *Admin
	caller iam.Principal
}

var _ iam.Entities = (*view)(nil)

// actor is the caller, resolved against the store.
type actor struct {
	p    iam.Principal // the caller as given
	self iam.Principal // who acts: the bearer of an API key, else p
	org  string        // the caller's organization
}

// String names the caller in messages: `user "ana"`, or `API key "SCW…"
// of user "ana"`.
func (a actor) String() string {
	if a.p.Type == iam.PrincipalAPIKey {
		return fmt.Sprintf("API key %q of %s", a.p.ID, who(a.self))
	}
	return who(a.p)
}

func who(p iam.Principal) string {
	switch p.Type {
	case iam.PrincipalUser, iam.PrincipalApplication, iam.PrincipalGroup:
		return fmt.Sprintf("%s %q", p.Type, p.ID)
	case iam.PrincipalAPIKey:
		return fmt.Sprintf("API key %q", p.ID)
	}
	return "no principal"
}

// actor resolves the caller: who it is and in which organization.
func (v *view) actor(ctx context.Context) (actor, error) {
	p := v.caller
	act := actor{p: p, self: p}
	if p.ID == "" {
		return act, &iam.ValidationError{Entity: "caller", Field: "principal", Value: p.String(),
			Reason: "Admin.As needs a caller: a user, an application, a group or an API key"}
	}
	s := v.a.store
	var err error
	switch p.Type {
	case iam.PrincipalUser:
		var u iam.User
		u, err = s.GetUser(ctx, p.ID)
		act.org = u.OrganizationID
	case iam.PrincipalApplication:
		var app iam.Application
		app, err = s.GetApplication(ctx, p.ID)
		act.org = app.OrganizationID
	case iam.PrincipalGroup:
		var g iam.Group
		g, err = s.GetGroup(ctx, p.ID)
		act.org = g.OrganizationID
	case iam.PrincipalAPIKey:
		var k iam.APIKey
		k, err = s.GetAPIKey(ctx, p.ID)
		act.self, act.org = k.Bearer, k.OrganizationID
	default:
		return act, &iam.ValidationError{Entity: "caller", Field: "principal", Value: p.String(),
			Reason: "Admin.As needs a caller: a user, an application, a group or an API key"}
	}
	if err != nil {
		return act, fmt.Errorf("iam: resolving the caller: %w", err)
	}
	return act, nil
}

// resources maps an entity kind to the service:resource of its
// management permissions, and to its plural in messages.
var resources = [...]struct{ perm, plural string }{
	iam.KindOrganization:  {"organization:organization", "organizations"},
	iam.KindProject:       {"project:project", "projects"},
	iam.KindUser:          {"iam:user", "users"},
	iam.KindApplication:   {"iam:application", "applications"},
	iam.KindGroup:         {"iam:group", "groups"},
	iam.KindPolicy:        {"iam:policy", "policies"},
	iam.KindPermissionSet: {"iam:permission_set", "permission sets"},
	iam.KindAPIKey:        {"iam:api_key", "API keys"},
}

// Management actions.
const (
	actCreate = "create"
	actRead   = "read"
	actList   = "list"
	actUpdate = "update"
	actDelete = "delete"
)

// access is one management action to check.
type access struct {
	kind   iam.Kind
	action string // actCreate, ...
	id     string // the entity's ID (a set's name); "" for create and list
	org    string // the organization the action happens in
	detail string // extra words after the object (`for application "ci"`)
}

func (ac access) permission() string { return resources[ac.kind].perm + ":" + ac.action }

// words renders the action for messages: `create policies`, `delete user
// "bob"`, `list organizations`.
func (ac access) words() string {
	var b strings.Builder
	b.WriteString(ac.action)
	b.WriteByte(' ')
	if ac.id == "" {
		b.WriteString(resources[ac.kind].plural)
	} else {
		fmt.Fprintf(&b, "%s %q", ac.kind, ac.id)
	}
	if ac.detail != "" {
		b.WriteByte(' ')
		b.WriteString(ac.detail)
	}
	if ac.kind != iam.KindOrganization {
		fmt.Fprintf(&b, " in organization %q", ac.org)
	}
	return b.String()
}

// notFound is what a MemoryStore answers for an ID that no entity of kind k
// holds, word for word, so that an entity of another organization answers
// exactly as one that does not exist.
func notFound(k iam.Kind, id string) error {
	return fmt.Errorf("iam: %s %q: %w", k, id, iam.ErrNotFound)
}

// hidden is the answer to an action aimed outside the caller's
// organization: what the store says of an entity that does not exist.
func (ac access) hidden() error {
	if ac.id == "" || ac.kind == iam.KindOrganization {
		return notFound(iam.KindOrganization, ac.org)
	}
	return notFound(ac.kind, ac.id)
}

// check runs the Evaluator for ac. It answers [iam.ErrNotFound], before any
// check, when ac is aimed outside the caller's organization.
func (v *view) check(ctx context.Context, act actor, ac access) (iam.Decision, error) {
	if ac.org != act.org {
		return iam.Decision{}, ac.hidden()
	}
	dec, err := v.a.ev.Check(ctx, iam.Request{Principal: act.p, OrganizationID: ac.org, Permission: ac.permission()})
	if err != nil {
		return dec, fmt.Errorf("iam: checking whether %s may %s: %w", act, ac.words(), err)
	}
	if dec.Reason == iam.ReasonOtherOrganization {
		return iam.Decision{}, ac.hidden()
	}
	return dec, nil
}

// authorize allows ac when the caller holds its permission.
func (v *view) authorize(ctx context.Context, act actor, ac access) error {
	return v.authorizeOwn(ctx, act, ac, false)
}

// authorizeOwn allows ac when the caller holds its permission, or, when
// own is true (the caller acts on what is its own), whenever the caller is
// valid: the Evaluator found nothing against it but a missing grant.
func (v *view) authorizeOwn(ctx context.Context, act actor, ac access, own bool) error {
	dec, err := v.check(ctx, act, ac)
	if err != nil {
		return err
	}
	if dec.Allowed || (own && dec.Reason == iam.ReasonNotGranted) {
		return nil
	}
	return v.denied(ctx, act, ac, dec.Reason)
}

// denied builds the refusal of ac for the given reason.
func (v *view) denied(ctx context.Context, act actor, ac access, r iam.Reason) error {
	head := fmt.Sprintf("iam: %s may not %s", act, ac.words())
	switch r {
	case iam.ReasonNotGranted:
		perm := ac.permission()
		return fmt.Errorf("%s: it needs %s (%s): %w", head, perm, v.holders(ctx, ac.org, perm), iam.ErrForbidden)
	case iam.ReasonLocked:
		return fmt.Errorf("%s: the user is locked: %w", head, iam.ErrForbidden)
	case iam.ReasonExpired:
		return fmt.Errorf("%s: the API key has expired (%w): %w", head, iam.ErrExpired, iam.ErrForbidden)
	}
	return fmt.Errorf("%s: %s: %w", head, r, iam.ErrForbidden)
}

// maxHolders caps the set names a refusal lists.
const maxHolders = 6

// holders says which permission sets of org grant perm: "held through
// IAMManager, IAMPolicyManager, OrganizationManager or ownership". It reads
// the catalogue from the store; it runs only on a refusal.
func (v *view) holders(ctx context.Context, org, perm string) string {
	const fallback = "held through ownership or a permission set that grants it"
	builtin, err := v.a.store.ListPermissionSets(ctx, "")
	if err != nil {
		return fallback
	}
	own, err := v.a.store.ListPermissionSets(ctx, org)
	if err != nil {
		return fallback
	}
	sets := make(map[string]iam.PermissionSet, len(builtin)+len(own))
	for _, ps := range slices.Concat(builtin, own) {
		sets[ps.Name] = ps
	}
	const (
		unseen = iota
		visiting
		yes
		no
	)
	state := make(map[string]int, len(sets))
	var grants func(name string) bool
	grants = func(name string) bool {
		switch state[name] {
		case yes:
			return true
		case visiting, no: // a cycle (the store forbids them) grants nothing more
			return false
		}
		state[name] = visiting
		ps := sets[name]
		ok := slices.ContainsFunc(ps.Permissions, func(p string) bool { return iam.MatchPermission(p, perm) }) ||
			slices.ContainsFunc(ps.Includes, grants)
		state[name] = no
		if ok {
			state[name] = yes
		}
		return ok
	}
	var names []string
	for name := range sets {
		if grants(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "held only through ownership"
	}
	slices.Sort(names)
	if len(names) > maxHolders {
		more := len(names) - maxHolders
		return fmt.Sprintf("held through %s, %d more permission sets or ownership", strings.Join(names[:maxHolders], ", "), more)
	}
	return "held through " + strings.Join(names, ", ") + " or ownership"
}

// needOrg refuses a create that names no organization; the
// store would refuse it too, but only after the check.
func needOrg(k iam.Kind, id, org, callerOrg string) error {
	if org != "" {
		return nil
	}
	return &iam.ValidationError{Entity: k.String(), ID: id, Field: "organization_id", Reason: "the organization is required",
		Hint: fmt.Sprintf("the caller's organization is %q", callerOrg)}
}

// create authorizes creating an entity of kind k in org, then runs write.
func create[T any](ctx context.Context, v *view, k iam.Kind, id, org string, write func(context.Context, T) (T, error), e T) (T, error) {
	var zero T
	act, err := v.actor(ctx)
	if err != nil {
		return zero, err
	}
	if err := needOrg(k, id, org, act.org); err != nil {
		return zero, err
	}
	if err := v.authorize(ctx, act, access{kind: k, action: actCreate, org: org}); err != nil {
		return zero, err
	}
	if err := v.available(ctx, k, id); err != nil {
		return zero, err
	}
	return write(ctx, e)
}

// available refuses a caller-chosen ID that anything in the store holds,
// with one answer whoever holds it, so that the store's
// own conflict, which may name the holder, is not what the caller sees. A
// permission set's name is unique only inside its organization: it is not
// looked up.
func (v *view) available(ctx context.Context, k iam.Kind, id string) error {
	if id == "" || k == iam.KindPermissionSet {
		return nil
	}
	s := v.a.store
	for _, get := range [...]func() error{
		func() error { _, err := s.GetOrganization(ctx, id); return err },
		func() error { _, err := s.GetProject(ctx, id); return err },
		func() error { _, err := s.GetUser(ctx, id); return err },
		func() error { _, err := s.GetApplication(ctx, id); return err },
		func() error { _, err := s.GetGroup(ctx, id); return err },
		func() error { _, err := s.GetPolicy(ctx, id); return err },
		func() error { _, err := s.GetAPIKey(ctx, id); return err },
	} {
		switch err := get(); {
		case err == nil:
			what := "ID"
			if k == iam.KindAPIKey {
				what = "access key"
			}
			return fmt.Errorf("iam: %s %q: the %s is not available; leave it empty to have one generated: %w", k, id, what, iam.ErrConflict)
		case errors.Is(err, iam.ErrNotFound), errors.Is(err, iam.ErrInvalid):
			// Nothing of that kind holds it (an ID malformed for a kind is
			// left to the create's own validation).
		default:
			return fmt.Errorf("iam: checking whether %s ID %q is available: %w", k, id, err)
		}
	}
	return nil
}

// list authorizes listing entities of kind k in org, then runs read.
func list[T any](ctx context.Context, v *view, k iam.Kind, org string, listAll func(context.Context, string) ([]T, error)) ([]T, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.authorize(ctx, act, access{kind: k, action: actList, org: org}); err != nil {
		return nil, err
	}
	return listAll(ctx, org)
}

// existing reads the stored entity id to learn its organization, then
// authorizes action on it. It returns the stored entity.
func existing[T any](ctx context.Context, v *view, act actor, k iam.Kind, action, id string, get func(context.Context, string) (T, error), orgOf func(T) string) (T, error) {
	var zero T
	cur, err := get(ctx, id)
	if errors.Is(err, iam.ErrNotFound) {
		// The answer hidden() gives for another organization's entity, so
		// the two stay alike whatever the store's own message says.
		return zero, notFound(k, id)
	}
	if err != nil {
		return zero, err
	}
	if err := v.authorize(ctx, act, access{kind: k, action: action, id: id, org: orgOf(cur)}); err != nil {
		return zero, err
	}
	return cur, nil
}

// read authorizes reading the entity id and returns it.
func read[T any](ctx context.Context, v *view, k iam.Kind, id string, get func(context.Context, string) (T, error), orgOf func(T) string) (T, error) {
	act, err := v.actor(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return existing(ctx, v, act, k, actRead, id, get, orgOf)
}

// update authorizes replacing the stored entity id, then runs write.
func update[T any](ctx context.Context, v *view, k iam.Kind, id string, get func(context.Context, string) (T, error), orgOf func(T) string, write func(context.Context, T) (T, error), e T) (T, error) {
	var zero T
	act, err := v.actor(ctx)
	if err != nil {
		return zero, err
	}
	if _, err := existing(ctx, v, act, k, actUpdate, id, get, orgOf); err != nil {
		return zero, err
	}
	return write(ctx, e)
}

// remove authorizes deleting the stored entity id, then deletes it.
func remove[T any](ctx context.Context, v *view, k iam.Kind, id string, get func(context.Context, string) (T, error), orgOf func(T) string, del func(context.Context, string) error) error {
	act, err := v.actor(ctx)
	if err != nil {
		return err
	}
	if _, err := existing(ctx, v, act, k, actDelete, id, get, orgOf); err != nil {
		return err
	}
	return del(ctx, id)
}

func projectOrg(p iam.Project) string         { return p.OrganizationID }
func userOrg(u iam.User) string               { return u.OrganizationID }
func applicationOrg(a iam.Application) string { return a.OrganizationID }
func groupOrg(g iam.Group) string             { return g.OrganizationID }
func policyOrg(p iam.Policy) string           { return p.OrganizationID }

// ----- organizations -----

// CreateOrganization is always refused with [iam.ErrForbidden]: creating an
// organization is not an action inside one. The host creates organizations
// on the Store.
func (v *view) CreateOrganization(ctx context.Context, o iam.Organization) (iam.Organization, error) {
	return iam.Organization{}, fmt.Errorf("iam: %s may not create organizations: the host creates organizations directly on the Store, not through Admin: %w",
		who(v.caller), iam.ErrForbidden)
}

// GetOrganization needs organization:organization:read.
func (v *view) GetOrganization(ctx context.Context, id string) (iam.Organization, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return iam.Organization{}, err
	}
	if err := v.authorize(ctx, act, access{kind: iam.KindOrganization, action: actRead, id: id, org: id}); err != nil {
		return iam.Organization{}, err
	}
	return v.a.store.GetOrganization(ctx, id)
}

// ListOrganizations needs organization:organization:list and returns the
// caller's own organization only.
func (v *view) ListOrganizations(ctx context.Context) ([]iam.Organization, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.authorize(ctx, act, access{kind: iam.KindOrganization, action: actList, org: act.org}); err != nil {
		return nil, err
	}
	o, err := v.a.store.GetOrganization(ctx, act.org)
	if err != nil {
		return nil, err
	}
	return []iam.Organization{o}, nil
}

// UpdateOrganization needs organization:organization:update.
func (v *view) UpdateOrganization(ctx context.Context, o iam.Organization) (iam.Organization, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return iam.Organization{}, err
	}
	if err := v.authorize(ctx, act, access{kind: iam.KindOrganization, action: actUpdate, id: o.ID, org: o.ID}); err != nil {
		return iam.Organization{}, err
	}
	return v.a.store.UpdateOrganization(ctx, o)
}

// DeleteOrganization needs organization:organization:delete.
func (v *view) DeleteOrganization(ctx context.Context, id string) error {
	act, err := v.actor(ctx)
	if err != nil {
		return err
	}
	if err := v.authorize(ctx, act, access{kind: iam.KindOrganization, action: actDelete, id: id, org: id}); err != nil {
		return err
	}
	return v.a.store.DeleteOrganization(ctx, id)
}

// ----- projects -----

func (v *view) CreateProject(ctx context.Context, p iam.Project) (iam.Project, error) {
	return create(ctx, v, iam.KindProject, p.ID, p.OrganizationID, v.a.store.CreateProject, p)
}

func (v *view) GetProject(ctx context.Context, id string) (iam.Project, error) {
	return read(ctx, v, iam.KindProject, id, v.a.store.GetProject, projectOrg)
}

func (v *view) ListProjects(ctx context.Context, organizationID string) ([]iam.Project, error) {
	return list(ctx, v, iam.KindProject, organizationID, v.a.store.ListProjects)
}

func (v *view) UpdateProject(ctx context.Context, p iam.Project) (iam.Project, error) {
	return update(ctx, v, iam.KindProject, p.ID, v.a.store.GetProject, projectOrg, v.a.store.UpdateProject, p)
}

func (v *view) DeleteProject(ctx context.Context, id string) error {
	return remove(ctx, v, iam.KindProject, id, v.a.store.GetProject, projectOrg, v.a.store.DeleteProject)
}

// ----- users -----

func (v *view) CreateUser(ctx context.Context, u iam.User) (iam.User, error) {
	return create(ctx, v, iam.KindUser, u.ID, u.OrganizationID, v.a.store.CreateUser, u)
}

func (v *view) GetUser(ctx context.Context, id string) (iam.User, error) {
	return read(ctx, v, iam.KindUser, id, v.a.store.GetUser, userOrg)
}

func (v *view) ListUsers(ctx context.Context, organizationID string) ([]iam.User, error) {
	return list(ctx, v, iam.KindUser, organizationID, v.a.store.ListUsers)
}

// UpdateUser: iam:user:update, and only the user itself (or one of its API
// keys) changes its email. The email is compared with the stored one in
// the same transaction as the write, so that a concurrent change of the
// user's own is never undone by a stale copy.
func (v *view) UpdateUser(ctx context.Context, u iam.User) (iam.User, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return iam.User{}, err
	}
	if _, err := existing(ctx, v, act, iam.KindUser, actUpdate, u.ID, v.a.store.GetUser, userOrg); err != nil {
		return iam.User{}, err
	}
	self := act.self == iam.UserPrincipal(u.ID)
	var out iam.User
	err = v.a.store.Atomic(ctx, func(tx iam.Tx) error {
		cur, err := tx.GetUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if u.Email != cur.Email && !self {
			ac := access{kind: iam.KindUser, action: actUpdate, id: u.ID, org: cur.OrganizationID, detail: "with another email"}
			return fmt.Errorf("iam: %s may not %s: only the user itself changes its email address, whatever the caller's rights (a host that recovers accounts by email would hand the account over): %w",
				act, ac.words(), iam.ErrForbidden)
		}
		out, err = tx.UpdateUser(ctx, u)
		return err
	})
	if err != nil {
		return iam.User{}, err
	}
	return out, nil
}

func (v *view) DeleteUser(ctx context.Context, id string) error {
	return remove(ctx, v, iam.KindUser, id, v.a.store.GetUser, userOrg, v.a.store.DeleteUser)
}

// ----- applications -----

func (v *view) CreateApplication(ctx context.Context, a iam.Application) (iam.Application, error) {
	return create(ctx, v, iam.KindApplication, a.ID, a.OrganizationID, v.a.store.CreateApplication, a)
}

func (v *view) GetApplication(ctx context.Context, id string) (iam.Application, error) {
	return read(ctx, v, iam.KindApplication, id, v.a.store.GetApplication, applicationOrg)
}

func (v *view) ListApplications(ctx context.Context, organizationID string) ([]iam.Application, error) {
	return list(ctx, v, iam.KindApplication, organizationID, v.a.store.ListApplications)
}

func (v *view) UpdateApplication(ctx context.Context, a iam.Application) (iam.Application, error) {
	return update(ctx, v, iam.KindApplication, a.ID, v.a.store.GetApplication, applicationOrg, v.a.store.UpdateApplication, a)
}

func (v *view) DeleteApplication(ctx context.Context, id string) error {
	return remove(ctx, v, iam.KindApplication, id, v.a.store.GetApplication, applicationOrg, v.a.store.DeleteApplication)
}

// ----- groups -----

func (v *view) CreateGroup(ctx context.Context, g iam.Group) (iam.Group, error) {
	return create(ctx, v, iam.KindGroup, g.ID, g.OrganizationID, v.a.store.CreateGroup, g)
}

func (v *view) GetGroup(ctx context.Context, id string) (iam.Group, error) {
	return read(ctx, v, iam.KindGroup, id, v.a.store.GetGroup, groupOrg)
}

func (v *view) ListGroups(ctx context.Context, organizationID string) ([]iam.Group, error) {
	return list(ctx, v, iam.KindGroup, organizationID, v.a.store.ListGroups)
}

func (v *view) UpdateGroup(ctx context.Context, g iam.Group) (iam.Group, error) {
	return update(ctx, v, iam.KindGroup, g.ID, v.a.store.GetGroup, groupOrg, v.a.store.UpdateGroup, g)
}

func (v *view) DeleteGroup(ctx context.Context, id string) error {
	return remove(ctx, v, iam.KindGroup, id, v.a.store.GetGroup, groupOrg, v.a.store.DeleteGroup)
}

// ----- policies -----

func (v *view) CreatePolicy(ctx context.Context, p iam.Policy) (iam.Policy, error) {
	return create(ctx, v, iam.KindPolicy, p.ID, p.OrganizationID, v.a.store.CreatePolicy, p)
}

func (v *view) GetPolicy(ctx context.Context, id string) (iam.Policy, error) {
	return read(ctx, v, iam.KindPolicy, id, v.a.store.GetPolicy, policyOrg)
}

func (v *view) ListPolicies(ctx context.Context, organizationID string) ([]iam.Policy, error) {
	return list(ctx, v, iam.KindPolicy, organizationID, v.a.store.ListPolicies)
}

func (v *view) UpdatePolicy(ctx context.Context, p iam.Policy) (iam.Policy, error) {
	return update(ctx, v, iam.KindPolicy, p.ID, v.a.store.GetPolicy, policyOrg, v.a.store.UpdatePolicy, p)
}

func (v *view) DeletePolicy(ctx context.Context, id string) error {
	return remove(ctx, v, iam.KindPolicy, id, v.a.store.GetPolicy, policyOrg, v.a.store.DeletePolicy)
}

// ----- permission sets -----
//
// A permission set is named by (organization, name), so its organization
// is known without a read. The empty organization ID names the built-in
// catalogue: it is read with iam:permission_set:read or list at the
// caller's own organization, like the organization's own sets, and writes
// to it are refused by the store.

// setOrg is the organization whose rights govern sets of organizationID.
func setOrg(act actor, organizationID string) string {
	if organizationID == "" {
		return act.org
	}
	return organizationID
}

func (v *view) setAccess(ctx context.Context, action, organizationID, name string) error {
	act, err := v.actor(ctx)
	if err != nil {
		return err
	}
	return v.authorize(ctx, act, access{kind: iam.KindPermissionSet, action: action, id: name, org: setOrg(act, organizationID)})
}

func (v *view) CreatePermissionSet(ctx context.Context, s iam.PermissionSet) (iam.PermissionSet, error) {
	return create(ctx, v, iam.KindPermissionSet, s.Name, s.OrganizationID, v.a.store.CreatePermissionSet, s)
}

func (v *view) GetPermissionSet(ctx context.Context, organizationID, name string) (iam.PermissionSet, error) {
	if err := v.setAccess(ctx, actRead, organizationID, name); err != nil {
		return iam.PermissionSet{}, err
	}
	return v.a.store.GetPermissionSet(ctx, organizationID, name)
}

func (v *view) ListPermissionSets(ctx context.Context, organizationID string) ([]iam.PermissionSet, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.authorize(ctx, act, access{kind: iam.KindPermissionSet, action: actList, org: setOrg(act, organizationID)}); err != nil {
		return nil, err
	}
	return v.a.store.ListPermissionSets(ctx, organizationID)
}

func (v *view) UpdatePermissionSet(ctx context.Context, s iam.PermissionSet) (iam.PermissionSet, error) {
	if err := v.setAccess(ctx, actUpdate, s.OrganizationID, s.Name); err != nil {
		return iam.PermissionSet{}, err
	}
	return v.a.store.UpdatePermissionSet(ctx, s)
}

func (v *view) DeletePermissionSet(ctx context.Context, organizationID, name string) error {
	if err := v.setAccess(ctx, actDelete, organizationID, name); err != nil {
		return err
	}
	return v.a.store.DeletePermissionSet(ctx, organizationID, name)
}

// ----- API keys -----

// CreateAPIKey: a user creates its own keys with no right; nobody creates
// one for another user; keys of applications need iam:api_key:create.
func (v *view) CreateAPIKey(ctx context.Context, k iam.APIKey) (iam.APIKey, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return iam.APIKey{}, err
	}
	if err := needOrg(iam.KindAPIKey, k.AccessKey, k.OrganizationID, act.org); err != nil {
		return iam.APIKey{}, err
	}
	ac := access{kind: iam.KindAPIKey, action: actCreate, org: k.OrganizationID}
	if k.Bearer.Type != iam.PrincipalNone {
		ac.detail = "for " + who(k.Bearer)
	}
	if k.OrganizationID != act.org {
		return iam.APIKey{}, ac.hidden()
	}
	own := false
	if k.Bearer.Type == iam.PrincipalUser {
		if k.Bearer != act.self {
			return iam.APIKey{}, fmt.Errorf("iam: %s may not %s: nobody creates an API key for another user, whatever their rights; users create their own keys: %w",
				act, ac.words(), iam.ErrForbidden)
		}
		own = true
	}
	if err := v.authorizeOwn(ctx, act, ac, own); err != nil {
		return iam.APIKey{}, err
	}
	if err := v.available(ctx, iam.KindAPIKey, k.AccessKey); err != nil {
		return iam.APIKey{}, err
	}
	return v.a.store.CreateAPIKey(ctx, k)
}

// ownKey reports whether the caller acts on one of its own keys. Only a
// user updates its own keys without a right.
func ownKey(act actor, k iam.APIKey, action string) bool {
	if k.Bearer != act.self {
		return false
	}
	return action != actUpdate || act.self.Type == iam.PrincipalUser
}

// keyAccess reads the stored key and authorizes action on it.
func (v *view) keyAccess(ctx context.Context, action, accessKey string) (iam.APIKey, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return iam.APIKey{}, err
	}
	k, err := v.a.store.GetAPIKey(ctx, accessKey)
	if errors.Is(err, iam.ErrNotFound) {
		return iam.APIKey{}, notFound(iam.KindAPIKey, accessKey) // as hidden() answers
	}
	if err != nil {
		return iam.APIKey{}, err
	}
	ac := access{kind: iam.KindAPIKey, action: action, id: accessKey, org: k.OrganizationID}
	if err := v.authorizeOwn(ctx, act, ac, ownKey(act, k, action)); err != nil {
		return iam.APIKey{}, err
	}
	return k, nil
}

// GetAPIKey: one's own key needs no right, another's iam:api_key:read.
func (v *view) GetAPIKey(ctx context.Context, accessKey string) (iam.APIKey, error) {
	return v.keyAccess(ctx, actRead, accessKey)
}

// ListAPIKeys returns every key of the organization to a caller with
// iam:api_key:list, and only the caller's own keys to a valid caller
// without it.
func (v *view) ListAPIKeys(ctx context.Context, organizationID string) ([]iam.APIKey, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	ac := access{kind: iam.KindAPIKey, action: actList, org: organizationID}
	dec, err := v.check(ctx, act, ac)
	if err != nil {
		return nil, err
	}
	if !dec.Allowed && dec.Reason != iam.ReasonNotGranted {
		return nil, v.denied(ctx, act, ac, dec.Reason)
	}
	keys, err := v.a.store.ListAPIKeys(ctx, organizationID)
	if err != nil || dec.Allowed {
		return keys, err
	}
	return slices.DeleteFunc(keys, func(k iam.APIKey) bool { return k.Bearer != act.self }), nil
}

// UpdateAPIKey: a user's own key needs no right; any other key, an
// application's own included, needs iam:api_key:update.
func (v *view) UpdateAPIKey(ctx context.Context, k iam.APIKey) (iam.APIKey, error) {
	if _, err := v.keyAccess(ctx, actUpdate, k.AccessKey); err != nil {
		return iam.APIKey{}, err
	}
	return v.a.store.UpdateAPIKey(ctx, k)
}

// DeleteAPIKey: one's own key needs no right, another's
// iam:api_key:delete.
func (v *view) DeleteAPIKey(ctx context.Context, accessKey string) error {
	if _, err := v.keyAccess(ctx, actDelete, accessKey); err != nil {
		return err
	}
	return v.a.store.DeleteAPIKey(ctx, accessKey)
}
