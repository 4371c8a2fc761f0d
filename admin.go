package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Admin performs IAM reads and writes on behalf of a caller, after
// checking the caller's organization-level rights with an Evaluator
// (DESIGN section 2, rule 9). It is what a host puts behind its own IAM
// API: the host authenticates the caller, then calls
// admin.As(caller).CreatePolicy(ctx, p) instead of store.CreatePolicy.
//
// # The rights
//
// Every call is checked with Evaluator.Check at the organization the call
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
// permissions gets ErrUnknownPermission from every call.
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
// A refusal wraps ErrForbidden, and its message names the caller, the
// action, the organization and the permission it needs, with the sets
// that hold it:
//
//	iam: user "ana" may not create policies in organization "acme": it needs
//	iam:policy:create (held through IAMManager, IAMPolicyManager,
//	OrganizationManager or ownership): iam: forbidden
//
// A refusal because an API key has expired also wraps ErrExpired. Errors
// of the check (ErrNotFound for an unknown caller, ErrInvalid for the zero
// Principal) and of the store pass through, wrapped.
//
// Admin never shows a caller anything outside its own organization: an
// entity of another organization, and a create, list or read aimed at
// another organization, is ErrNotFound, exactly as if it did not exist,
// never ErrForbidden; so is a reference, inside a written entity, to
// another organization's project, user, application or group (a policy's
// principal, a rule's projects, a group's members, an API key's bearer or
// default project). Such an error is the very error an ID that nothing
// holds gets, word for word: it names neither the other organization nor
// the kind of entity that holds the ID. Inside its own organization a
// caller may learn that an entity exists (ErrForbidden rather than
// ErrNotFound), as Scaleway shows its members their organization's
// resources.
//
// # IDs chosen by the caller
//
// IDs are unique across the store, whatever the kind and the organization.
// A create that names its own ID (Project.ID, User.ID, APIKey.AccessKey...;
// not a permission set's name, which is unique only inside its
// organization) is refused, once the caller may create, when anything in
// the store holds that ID, with one and the same ErrConflict whoever holds
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
// caller may do it through Admin (ErrForbidden): the host creates
// organizations, and their owners, directly on the Store. Likewise moving
// ownership, which takes one atomic write of two users, is the host's
// business on the Store (Store.Atomic).
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
// zero Admin is not usable: call NewAdmin.
type Admin struct {
	store Store
	ev    *Evaluator
}

// NewAdmin returns an Admin that writes to store after checking with ev.
// ev must follow store (NewEvaluator(ctx, store)); otherwise its decisions
// are about some other world.
func NewAdmin(store Store, ev *Evaluator) *Admin {
	return &Admin{store: store, ev: ev}
}

// As returns the store as seen by caller (a user, an application, a group,
// answered from the group's own policies, or an API key, answered for its
// bearer): every method checks caller's rights before it reads or writes.
// The result implements Entities, so it drops in wherever code takes a
// store's per-entity interfaces (a UserStore, a PolicyStore, ...). The
// caller is resolved on each call, so a view stays correct as the caller's
// rights change.
func (a *Admin) As(caller Principal) Entities {
	return &adminView{a: a, caller: caller}
}

// adminView is what As returns.
type adminView struct {
	a      *Admin
	caller Principal
}

var _ Entities = (*adminView)(nil)

// adminActor is the caller, resolved against the store.
type adminActor struct {
	p    Principal // the caller as given
	self Principal // who acts: the bearer of an API key, else p
	org  string    // the caller's organization
}

// String names the caller in messages: `user "ana"`, or `API key "SCW…"
// of user "ana"`.
func (a adminActor) String() string {
	if a.p.Type == PrincipalAPIKey {
		return fmt.Sprintf("API key %q of %s", a.p.ID, adminWho(a.self))
	}
	return adminWho(a.p)
}

func adminWho(p Principal) string {
	switch p.Type {
	case PrincipalUser, PrincipalApplication, PrincipalGroup:
		return fmt.Sprintf("%s %q", p.Type, p.ID)
	case PrincipalAPIKey:
		return fmt.Sprintf("API key %q", p.ID)
	}
	return "no principal"
}

// adminActor resolves the caller: who it is and in which organization.
func (v *adminView) actor(ctx context.Context) (adminActor, error) {
	p := v.caller
	act := adminActor{p: p, self: p}
	if p.ID == "" {
		return act, &ValidationError{Entity: "caller", Field: "principal", Value: p.String(),
			Reason: "Admin.As needs a caller: a user, an application, a group or an API key"}
	}
	s := v.a.store
	var err error
	switch p.Type {
	case PrincipalUser:
		var u User
		u, err = s.GetUser(ctx, p.ID)
		act.org = u.OrganizationID
	case PrincipalApplication:
		var app Application
		app, err = s.GetApplication(ctx, p.ID)
		act.org = app.OrganizationID
	case PrincipalGroup:
		var g Group
		g, err = s.GetGroup(ctx, p.ID)
		act.org = g.OrganizationID
	case PrincipalAPIKey:
		var k APIKey
		k, err = s.GetAPIKey(ctx, p.ID)
		act.self, act.org = k.Bearer, k.OrganizationID
	default:
		return act, &ValidationError{Entity: "caller", Field: "principal", Value: p.String(),
			Reason: "Admin.As needs a caller: a user, an application, a group or an API key"}
	}
	if err != nil {
		return act, fmt.Errorf("iam: resolving the caller: %w", err)
	}
	return act, nil
}

// adminResources maps an entity kind to the service:resource of its
// management permissions, and to its plural in messages.
var adminResources = [...]struct{ perm, plural string }{
	KindOrganization:  {"organization:organization", "organizations"},
	KindProject:       {"project:project", "projects"},
	KindUser:          {"iam:user", "users"},
	KindApplication:   {"iam:application", "applications"},
	KindGroup:         {"iam:group", "groups"},
	KindPolicy:        {"iam:policy", "policies"},
	KindPermissionSet: {"iam:permission_set", "permission sets"},
	KindAPIKey:        {"iam:api_key", "API keys"},
}

// Management actions.
const (
	adminActCreate = "create"
	adminActRead   = "read"
	adminActList   = "list"
	adminActUpdate = "update"
	adminActDelete = "delete"
)

// adminAccess is one management action to check.
type adminAccess struct {
	kind   Kind
	action string // adminActCreate, ...
	id     string // the entity's ID (a set's name); "" for create and list
	org    string // the organization the action happens in
	detail string // extra words after the object (`for application "ci"`)
}

func (ac adminAccess) permission() string { return adminResources[ac.kind].perm + ":" + ac.action }

// words renders the action for messages: `create policies`, `delete user
// "bob"`, `list organizations`.
func (ac adminAccess) words() string {
	var b strings.Builder
	b.WriteString(ac.action)
	b.WriteByte(' ')
	if ac.id == "" {
		b.WriteString(adminResources[ac.kind].plural)
	} else {
		fmt.Fprintf(&b, "%s %q", ac.kind, ac.id)
	}
	if ac.detail != "" {
		b.WriteByte(' ')
		b.WriteString(ac.detail)
	}
	if ac.kind != KindOrganization {
		fmt.Fprintf(&b, " in organization %q", ac.org)
	}
	return b.String()
}

// hidden is the answer to an action aimed outside the caller's
// organization: what the store says of an entity that does not exist.
func (ac adminAccess) hidden() error {
	if ac.id == "" || ac.kind == KindOrganization {
		return notFound(KindOrganization, ac.org)
	}
	return notFound(ac.kind, ac.id)
}

// check runs the Evaluator for ac. It answers ErrNotFound, before any
// check, when ac is aimed outside the caller's organization.
func (v *adminView) check(ctx context.Context, act adminActor, ac adminAccess) (Decision, error) {
	if ac.org != act.org {
		return Decision{}, ac.hidden()
	}
	dec, err := v.a.ev.Check(ctx, Request{Principal: act.p, OrganizationID: ac.org, Permission: ac.permission()})
	if err != nil {
		return dec, fmt.Errorf("iam: checking whether %s may %s: %w", act, ac.words(), err)
	}
	if dec.Reason == ReasonOtherOrganization {
		return Decision{}, ac.hidden()
	}
	return dec, nil
}

// authorize allows ac when the caller holds its permission.
func (v *adminView) authorize(ctx context.Context, act adminActor, ac adminAccess) error {
	return v.authorizeOwn(ctx, act, ac, false)
}

// authorizeOwn allows ac when the caller holds its permission, or, when
// own is true (the caller acts on what is its own), whenever the caller is
// valid: the Evaluator found nothing against it but a missing grant.
func (v *adminView) authorizeOwn(ctx context.Context, act adminActor, ac adminAccess, own bool) error {
	dec, err := v.check(ctx, act, ac)
	if err != nil {
		return err
	}
	if dec.Allowed || (own && dec.Reason == ReasonNotGranted) {
		return nil
	}
	return v.denied(ctx, act, ac, dec.Reason)
}

// denied builds the refusal of ac for the given reason.
func (v *adminView) denied(ctx context.Context, act adminActor, ac adminAccess, r Reason) error {
	head := fmt.Sprintf("iam: %s may not %s", act, ac.words())
	switch r {
	case ReasonNotGranted:
		perm := ac.permission()
		return fmt.Errorf("%s: it needs %s (%s): %w", head, perm, v.holders(ctx, ac.org, perm), ErrForbidden)
	case ReasonLocked:
		return fmt.Errorf("%s: the user is locked: %w", head, ErrForbidden)
	case ReasonExpired:
		return fmt.Errorf("%s: the API key has expired (%w): %w", head, ErrExpired, ErrForbidden)
	}
	return fmt.Errorf("%s: %s: %w", head, r, ErrForbidden)
}

// adminMaxHolders caps the set names a refusal lists.
const adminMaxHolders = 6

// holders says which permission sets of org grant perm: "held through
// IAMManager, IAMPolicyManager, OrganizationManager or ownership". It reads
// the catalogue from the store; it runs only on a refusal.
func (v *adminView) holders(ctx context.Context, org, perm string) string {
	const fallback = "held through ownership or a permission set that grants it"
	builtin, err := v.a.store.ListPermissionSets(ctx, "")
	if err != nil {
		return fallback
	}
	own, err := v.a.store.ListPermissionSets(ctx, org)
	if err != nil {
		return fallback
	}
	sets := make(map[string]PermissionSet, len(builtin)+len(own))
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
		ok := slices.ContainsFunc(ps.Permissions, func(p string) bool { return MatchPermission(p, perm) }) ||
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
	if len(names) > adminMaxHolders {
		more := len(names) - adminMaxHolders
		return fmt.Sprintf("held through %s, %d more permission sets or ownership", strings.Join(names[:adminMaxHolders], ", "), more)
	}
	return "held through " + strings.Join(names, ", ") + " or ownership"
}

// adminNeedOrg refuses a create that names no organization; the
// store would refuse it too, but only after the check.
func adminNeedOrg(k Kind, id, org, callerOrg string) error {
	if org != "" {
		return nil
	}
	return &ValidationError{Entity: k.String(), ID: id, Field: "organization_id", Reason: "the organization is required",
		Hint: fmt.Sprintf("the caller's organization is %q", callerOrg)}
}

// adminCreate authorizes creating an entity of kind k in org, then runs write.
func adminCreate[T any](ctx context.Context, v *adminView, k Kind, id, org string, write func(context.Context, T) (T, error), e T) (T, error) {
	var zero T
	act, err := v.actor(ctx)
	if err != nil {
		return zero, err
	}
	if err := adminNeedOrg(k, id, org, act.org); err != nil {
		return zero, err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: k, action: adminActCreate, org: org}); err != nil {
		return zero, err
	}
	if err := v.available(ctx, k, id); err != nil {
		return zero, err
	}
	return write(ctx, e)
}

// available refuses a caller-chosen ID that anything in the store holds,
// with one answer whoever holds it (idUnavailable), so that the store's
// own conflict, which may name the holder, is not what the caller sees. A
// permission set's name is unique only inside its organization: it is not
// looked up.
func (v *adminView) available(ctx context.Context, k Kind, id string) error {
	if id == "" || k == KindPermissionSet {
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
			return idUnavailable(k, id, "leave it empty to have one generated")
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid):
			// Nothing of that kind holds it (an ID malformed for a kind is
			// left to the create's own validation).
		default:
			return fmt.Errorf("iam: checking whether %s ID %q is available: %w", k, id, err)
		}
	}
	return nil
}

// adminList authorizes listing entities of kind k in org, then runs read.
func adminList[T any](ctx context.Context, v *adminView, k Kind, org string, listAll func(context.Context, string) ([]T, error)) ([]T, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: k, action: adminActList, org: org}); err != nil {
		return nil, err
	}
	return listAll(ctx, org)
}

// adminExisting reads the stored entity id to learn its organization, then
// authorizes action on it. It returns the stored entity.
func adminExisting[T any](ctx context.Context, v *adminView, act adminActor, k Kind, action, id string, get func(context.Context, string) (T, error), orgOf func(T) string) (T, error) {
	var zero T
	cur, err := get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		// The answer hidden() gives for another organization's entity, so
		// the two stay alike whatever the store's own message says.
		return zero, notFound(k, id)
	}
	if err != nil {
		return zero, err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: k, action: action, id: id, org: orgOf(cur)}); err != nil {
		return zero, err
	}
	return cur, nil
}

// adminRead authorizes reading the entity id and returns it.
func adminRead[T any](ctx context.Context, v *adminView, k Kind, id string, get func(context.Context, string) (T, error), orgOf func(T) string) (T, error) {
	act, err := v.actor(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return adminExisting(ctx, v, act, k, adminActRead, id, get, orgOf)
}

// adminUpdate authorizes replacing the stored entity id, then runs write.
func adminUpdate[T any](ctx context.Context, v *adminView, k Kind, id string, get func(context.Context, string) (T, error), orgOf func(T) string, write func(context.Context, T) (T, error), e T) (T, error) {
	var zero T
	act, err := v.actor(ctx)
	if err != nil {
		return zero, err
	}
	if _, err := adminExisting(ctx, v, act, k, adminActUpdate, id, get, orgOf); err != nil {
		return zero, err
	}
	return write(ctx, e)
}

// adminRemove authorizes deleting the stored entity id, then deletes it.
func adminRemove[T any](ctx context.Context, v *adminView, k Kind, id string, get func(context.Context, string) (T, error), orgOf func(T) string, del func(context.Context, string) error) error {
	act, err := v.actor(ctx)
	if err != nil {
		return err
	}
	if _, err := adminExisting(ctx, v, act, k, adminActDelete, id, get, orgOf); err != nil {
		return err
	}
	return del(ctx, id)
}

func adminProjectOrg(p Project) string         { return p.OrganizationID }
func adminUserOrg(u User) string               { return u.OrganizationID }
func adminApplicationOrg(a Application) string { return a.OrganizationID }
func adminGroupOrg(g Group) string             { return g.OrganizationID }
func adminPolicyOrg(p Policy) string           { return p.OrganizationID }

// ----- organizations -----

// CreateOrganization is always refused with ErrForbidden: creating an
// organization is not an action inside one. The host creates organizations
// on the Store.
func (v *adminView) CreateOrganization(ctx context.Context, o Organization) (Organization, error) {
	return Organization{}, fmt.Errorf("iam: %s may not create organizations: the host creates organizations directly on the Store, not through Admin: %w",
		adminWho(v.caller), ErrForbidden)
}

// GetOrganization needs organization:organization:read.
func (v *adminView) GetOrganization(ctx context.Context, id string) (Organization, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return Organization{}, err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: KindOrganization, action: adminActRead, id: id, org: id}); err != nil {
		return Organization{}, err
	}
	return v.a.store.GetOrganization(ctx, id)
}

// ListOrganizations needs organization:organization:list and returns the
// caller's own organization only.
func (v *adminView) ListOrganizations(ctx context.Context) ([]Organization, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: KindOrganization, action: adminActList, org: act.org}); err != nil {
		return nil, err
	}
	o, err := v.a.store.GetOrganization(ctx, act.org)
	if err != nil {
		return nil, err
	}
	return []Organization{o}, nil
}

// UpdateOrganization needs organization:organization:update.
func (v *adminView) UpdateOrganization(ctx context.Context, o Organization) (Organization, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return Organization{}, err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: KindOrganization, action: adminActUpdate, id: o.ID, org: o.ID}); err != nil {
		return Organization{}, err
	}
	return v.a.store.UpdateOrganization(ctx, o)
}

// DeleteOrganization needs organization:organization:delete.
func (v *adminView) DeleteOrganization(ctx context.Context, id string) error {
	act, err := v.actor(ctx)
	if err != nil {
		return err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: KindOrganization, action: adminActDelete, id: id, org: id}); err != nil {
		return err
	}
	return v.a.store.DeleteOrganization(ctx, id)
}

// ----- projects -----

func (v *adminView) CreateProject(ctx context.Context, p Project) (Project, error) {
	return adminCreate(ctx, v, KindProject, p.ID, p.OrganizationID, v.a.store.CreateProject, p)
}

func (v *adminView) GetProject(ctx context.Context, id string) (Project, error) {
	return adminRead(ctx, v, KindProject, id, v.a.store.GetProject, adminProjectOrg)
}

func (v *adminView) ListProjects(ctx context.Context, organizationID string) ([]Project, error) {
	return adminList(ctx, v, KindProject, organizationID, v.a.store.ListProjects)
}

func (v *adminView) UpdateProject(ctx context.Context, p Project) (Project, error) {
	return adminUpdate(ctx, v, KindProject, p.ID, v.a.store.GetProject, adminProjectOrg, v.a.store.UpdateProject, p)
}

func (v *adminView) DeleteProject(ctx context.Context, id string) error {
	return adminRemove(ctx, v, KindProject, id, v.a.store.GetProject, adminProjectOrg, v.a.store.DeleteProject)
}

// ----- users -----

func (v *adminView) CreateUser(ctx context.Context, u User) (User, error) {
	return adminCreate(ctx, v, KindUser, u.ID, u.OrganizationID, v.a.store.CreateUser, u)
}

func (v *adminView) GetUser(ctx context.Context, id string) (User, error) {
	return adminRead(ctx, v, KindUser, id, v.a.store.GetUser, adminUserOrg)
}

func (v *adminView) ListUsers(ctx context.Context, organizationID string) ([]User, error) {
	return adminList(ctx, v, KindUser, organizationID, v.a.store.ListUsers)
}

// UpdateUser: iam:user:update, and only the user itself (or one of its API
// keys) changes its email. The email is compared with the stored one in
// the same transaction as the write, so that a concurrent change of the
// user's own is never undone by a stale copy.
func (v *adminView) UpdateUser(ctx context.Context, u User) (User, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return User{}, err
	}
	if _, err := adminExisting(ctx, v, act, KindUser, adminActUpdate, u.ID, v.a.store.GetUser, adminUserOrg); err != nil {
		return User{}, err
	}
	self := act.self == UserPrincipal(u.ID)
	var out User
	err = v.a.store.Atomic(ctx, func(tx Tx) error {
		cur, err := tx.GetUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if u.Email != cur.Email && !self {
			ac := adminAccess{kind: KindUser, action: adminActUpdate, id: u.ID, org: cur.OrganizationID, detail: "with another email"}
			return fmt.Errorf("iam: %s may not %s: only the user itself changes its email address, whatever the caller's rights (a host that recovers accounts by email would hand the account over): %w",
				act, ac.words(), ErrForbidden)
		}
		out, err = tx.UpdateUser(ctx, u)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

func (v *adminView) DeleteUser(ctx context.Context, id string) error {
	return adminRemove(ctx, v, KindUser, id, v.a.store.GetUser, adminUserOrg, v.a.store.DeleteUser)
}

// ----- applications -----

func (v *adminView) CreateApplication(ctx context.Context, a Application) (Application, error) {
	return adminCreate(ctx, v, KindApplication, a.ID, a.OrganizationID, v.a.store.CreateApplication, a)
}

func (v *adminView) GetApplication(ctx context.Context, id string) (Application, error) {
	return adminRead(ctx, v, KindApplication, id, v.a.store.GetApplication, adminApplicationOrg)
}

func (v *adminView) ListApplications(ctx context.Context, organizationID string) ([]Application, error) {
	return adminList(ctx, v, KindApplication, organizationID, v.a.store.ListApplications)
}

func (v *adminView) UpdateApplication(ctx context.Context, a Application) (Application, error) {
	return adminUpdate(ctx, v, KindApplication, a.ID, v.a.store.GetApplication, adminApplicationOrg, v.a.store.UpdateApplication, a)
}

func (v *adminView) DeleteApplication(ctx context.Context, id string) error {
	return adminRemove(ctx, v, KindApplication, id, v.a.store.GetApplication, adminApplicationOrg, v.a.store.DeleteApplication)
}

// ----- groups -----

func (v *adminView) CreateGroup(ctx context.Context, g Group) (Group, error) {
	return adminCreate(ctx, v, KindGroup, g.ID, g.OrganizationID, v.a.store.CreateGroup, g)
}

func (v *adminView) GetGroup(ctx context.Context, id string) (Group, error) {
	return adminRead(ctx, v, KindGroup, id, v.a.store.GetGroup, adminGroupOrg)
}

func (v *adminView) ListGroups(ctx context.Context, organizationID string) ([]Group, error) {
	return adminList(ctx, v, KindGroup, organizationID, v.a.store.ListGroups)
}

func (v *adminView) UpdateGroup(ctx context.Context, g Group) (Group, error) {
	return adminUpdate(ctx, v, KindGroup, g.ID, v.a.store.GetGroup, adminGroupOrg, v.a.store.UpdateGroup, g)
}

func (v *adminView) DeleteGroup(ctx context.Context, id string) error {
	return adminRemove(ctx, v, KindGroup, id, v.a.store.GetGroup, adminGroupOrg, v.a.store.DeleteGroup)
}

// ----- policies -----

func (v *adminView) CreatePolicy(ctx context.Context, p Policy) (Policy, error) {
	return adminCreate(ctx, v, KindPolicy, p.ID, p.OrganizationID, v.a.store.CreatePolicy, p)
}

func (v *adminView) GetPolicy(ctx context.Context, id string) (Policy, error) {
	return adminRead(ctx, v, KindPolicy, id, v.a.store.GetPolicy, adminPolicyOrg)
}

func (v *adminView) ListPolicies(ctx context.Context, organizationID string) ([]Policy, error) {
	return adminList(ctx, v, KindPolicy, organizationID, v.a.store.ListPolicies)
}

func (v *adminView) UpdatePolicy(ctx context.Context, p Policy) (Policy, error) {
	return adminUpdate(ctx, v, KindPolicy, p.ID, v.a.store.GetPolicy, adminPolicyOrg, v.a.store.UpdatePolicy, p)
}

func (v *adminView) DeletePolicy(ctx context.Context, id string) error {
	return adminRemove(ctx, v, KindPolicy, id, v.a.store.GetPolicy, adminPolicyOrg, v.a.store.DeletePolicy)
}

// ----- permission sets -----
//
// A permission set is named by (organization, name), so its organization
// is known without a read. The empty organization ID names the built-in
// catalogue: it is read with iam:permission_set:read or list at the
// caller's own organization, like the organization's own sets, and writes
// to it are refused by the store.

// adminSetOrg is the organization whose rights govern sets of organizationID.
func adminSetOrg(act adminActor, organizationID string) string {
	if organizationID == "" {
		return act.org
	}
	return organizationID
}

func (v *adminView) setAccess(ctx context.Context, action, organizationID, name string) error {
	act, err := v.actor(ctx)
	if err != nil {
		return err
	}
	return v.authorize(ctx, act, adminAccess{kind: KindPermissionSet, action: action, id: name, org: adminSetOrg(act, organizationID)})
}

func (v *adminView) CreatePermissionSet(ctx context.Context, s PermissionSet) (PermissionSet, error) {
	return adminCreate(ctx, v, KindPermissionSet, s.Name, s.OrganizationID, v.a.store.CreatePermissionSet, s)
}

func (v *adminView) GetPermissionSet(ctx context.Context, organizationID, name string) (PermissionSet, error) {
	if err := v.setAccess(ctx, adminActRead, organizationID, name); err != nil {
		return PermissionSet{}, err
	}
	return v.a.store.GetPermissionSet(ctx, organizationID, name)
}

func (v *adminView) ListPermissionSets(ctx context.Context, organizationID string) ([]PermissionSet, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := v.authorize(ctx, act, adminAccess{kind: KindPermissionSet, action: adminActList, org: adminSetOrg(act, organizationID)}); err != nil {
		return nil, err
	}
	return v.a.store.ListPermissionSets(ctx, organizationID)
}

func (v *adminView) UpdatePermissionSet(ctx context.Context, s PermissionSet) (PermissionSet, error) {
	if err := v.setAccess(ctx, adminActUpdate, s.OrganizationID, s.Name); err != nil {
		return PermissionSet{}, err
	}
	return v.a.store.UpdatePermissionSet(ctx, s)
}

func (v *adminView) DeletePermissionSet(ctx context.Context, organizationID, name string) error {
	if err := v.setAccess(ctx, adminActDelete, organizationID, name); err != nil {
		return err
	}
	return v.a.store.DeletePermissionSet(ctx, organizationID, name)
}

// ----- API keys -----

// CreateAPIKey: a user creates its own keys with no right; nobody creates
// one for another user; keys of applications need iam:api_key:create.
func (v *adminView) CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return APIKey{}, err
	}
	if err := adminNeedOrg(KindAPIKey, k.AccessKey, k.OrganizationID, act.org); err != nil {
		return APIKey{}, err
	}
	ac := adminAccess{kind: KindAPIKey, action: adminActCreate, org: k.OrganizationID}
	if k.Bearer.Type != PrincipalNone {
		ac.detail = "for " + adminWho(k.Bearer)
	}
	if k.OrganizationID != act.org {
		return APIKey{}, ac.hidden()
	}
	own := false
	if k.Bearer.Type == PrincipalUser {
		if k.Bearer != act.self {
			return APIKey{}, fmt.Errorf("iam: %s may not %s: nobody creates an API key for another user, whatever their rights; users create their own keys: %w",
				act, ac.words(), ErrForbidden)
		}
		own = true
	}
	if err := v.authorizeOwn(ctx, act, ac, own); err != nil {
		return APIKey{}, err
	}
	if err := v.available(ctx, KindAPIKey, k.AccessKey); err != nil {
		return APIKey{}, err
	}
	return v.a.store.CreateAPIKey(ctx, k)
}

// adminOwnKey reports whether the caller acts on one of its own keys. Only a
// user updates its own keys without a right.
func adminOwnKey(act adminActor, k APIKey, action string) bool {
	if k.Bearer != act.self {
		return false
	}
	return action != adminActUpdate || act.self.Type == PrincipalUser
}

// keyAccess reads the stored key and authorizes action on it.
func (v *adminView) keyAccess(ctx context.Context, action, accessKey string) (APIKey, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return APIKey{}, err
	}
	k, err := v.a.store.GetAPIKey(ctx, accessKey)
	if errors.Is(err, ErrNotFound) {
		return APIKey{}, notFound(KindAPIKey, accessKey) // as hidden() answers
	}
	if err != nil {
		return APIKey{}, err
	}
	ac := adminAccess{kind: KindAPIKey, action: action, id: accessKey, org: k.OrganizationID}
	if err := v.authorizeOwn(ctx, act, ac, adminOwnKey(act, k, action)); err != nil {
		return APIKey{}, err
	}
	return k, nil
}

// GetAPIKey: one's own key needs no right, another's iam:api_key:read.
func (v *adminView) GetAPIKey(ctx context.Context, accessKey string) (APIKey, error) {
	return v.keyAccess(ctx, adminActRead, accessKey)
}

// ListAPIKeys returns every key of the organization to a caller with
// iam:api_key:list, and only the caller's own keys to a valid caller
// without it.
func (v *adminView) ListAPIKeys(ctx context.Context, organizationID string) ([]APIKey, error) {
	act, err := v.actor(ctx)
	if err != nil {
		return nil, err
	}
	ac := adminAccess{kind: KindAPIKey, action: adminActList, org: organizationID}
	dec, err := v.check(ctx, act, ac)
	if err != nil {
		return nil, err
	}
	if !dec.Allowed && dec.Reason != ReasonNotGranted {
		return nil, v.denied(ctx, act, ac, dec.Reason)
	}
	keys, err := v.a.store.ListAPIKeys(ctx, organizationID)
	if err != nil || dec.Allowed {
		return keys, err
	}
	return slices.DeleteFunc(keys, func(k APIKey) bool { return k.Bearer != act.self }), nil
}

// UpdateAPIKey: a user's own key needs no right; any other key, an
// application's own included, needs iam:api_key:update.
func (v *adminView) UpdateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	if _, err := v.keyAccess(ctx, adminActUpdate, k.AccessKey); err != nil {
		return APIKey{}, err
	}
	return v.a.store.UpdateAPIKey(ctx, k)
}

// DeleteAPIKey: one's own key needs no right, another's
// iam:api_key:delete.
func (v *adminView) DeleteAPIKey(ctx context.Context, accessKey string) error {
	if _, err := v.keyAccess(ctx, adminActDelete, accessKey); err != nil {
		return err
	}
	return v.a.store.DeleteAPIKey(ctx, accessKey)
}
