package iam_test

// Levels and known permissions: every permission has one level, project or
// organization, a grant answers only for permissions of its own level, and
// a catalogue that declares a service's permissions knows those only.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/iamkit/iam"
	"github.com/iamkit/iam/admin"
	"github.com/iamkit/iam/internal/gen"
)

// takeoverTriples are what a member who holds a project-scoped set on the
// organization must never be allowed through it.
var takeoverTriples = []string{"iam:policy:create", "organization:organization:delete", "billing:invoice:read"}

// TestAProjectScopedSetNeverGrantsOrganizationLevelPermissions: an
// organization defines a project-scoped set holding "*:*:*" and grants it
// on the organization; its holder must get nothing of the organization
// level. The store refuses such a set; whatever it does, the three
// organization-level triples stay denied.
func TestAProjectScopedSetNeverGrantsOrganizationLevelPermissions(t *testing.T) {
	w := newWorld(t)
	mallory := iam.UserPrincipal(w.user(w.org, "mallory"))
	_, setErr := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Everything", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"*:*:*"}})
	_, polErr := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "pol-mallory", OrganizationID: w.org, Principal: mallory, Rules: []iam.Rule{onOrg(w.org, "Everything")}})
	t.Logf("creating the set: %v; the policy: %v", setErr, polErr)
	for _, perm := range takeoverTriples {
		d, err := w.ev.Check(w.ctx, atOrg(mallory, w.org, perm))
		require.False(t, d.Allowed, "%s at the organization: allowed (%v, %v)", perm, d.Reason, err)
	}
}

// unvalidatedStore is a Store whose reads show, beside what the memory
// store holds, a catalogue that breaks the levels and a policy granting it:
// what a store that skipped validation, or a catalogue written before the
// levels existed, could hand an Evaluator.
type unvalidatedStore struct {
	*iam.MemoryStore
	org   string
	sets  []iam.PermissionSet
	extra []iam.Policy
}

type unvalidatedTx struct {
	iam.Tx
	s *unvalidatedStore
}

func (s *unvalidatedStore) Atomic(ctx context.Context, fn func(tx iam.Tx) error) error {
	return s.MemoryStore.Atomic(ctx, func(tx iam.Tx) error { return fn(unvalidatedTx{tx, s}) })
}

func (tx unvalidatedTx) ListPermissionSets(ctx context.Context, org string) ([]iam.PermissionSet, error) {
	sets, err := tx.Tx.ListPermissionSets(ctx, org)
	if org == tx.s.org {
		sets = append(sets, tx.s.sets...)
	}
	return sets, err
}

func (tx unvalidatedTx) ListPolicies(ctx context.Context, org string) ([]iam.Policy, error) {
	pols, err := tx.Tx.ListPolicies(ctx, org)
	if org == tx.s.org {
		pols = append(pols, tx.s.extra...)
	}
	return pols, err
}

// TestALevelNeverLeaksEvenFromAnUnvalidatedCatalogue: the index keeps the
// levels apart on its own. A project-scoped "*:*:*" set granted on the
// organization grants project-level permissions everywhere, and nothing of
// the organization level, through Check, Explain, WhoCan and the
// management layer.
func TestALevelNeverLeaksEvenFromAnUnvalidatedCatalogue(t *testing.T) {
	ctx := context.Background()
	mem := iam.NewMemoryStore()
	_, err := mem.CreateOrganization(ctx, iam.Organization{ID: "acme", Name: "Acme"})
	require.NoError(t, err)
	_, err = mem.CreateUser(ctx, iam.User{ID: "boss", OrganizationID: "acme", Email: "boss@acme.test", Type: iam.UserOwner})
	require.NoError(t, err)
	_, err = mem.CreateUser(ctx, iam.User{ID: "mallory", OrganizationID: "acme", Email: "mallory@acme.test"})
	require.NoError(t, err)
	_, err = mem.CreateProject(ctx, iam.Project{ID: "p1", OrganizationID: "acme", Name: "p1"})
	require.NoError(t, err)
	mallory := iam.UserPrincipal("mallory")
	store := &unvalidatedStore{MemoryStore: mem, org: "acme",
		sets: []iam.PermissionSet{
			{Name: "Everything", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"*:*:*"}},
			{Name: "HostEverything", OrganizationID: "acme", ScopeType: iam.ScopeProjects, Permissions: []string{"host:*:*", "*:*:delete"}},
		},
		extra: []iam.Policy{{ID: "pol-mallory", OrganizationID: "acme", Principal: mallory, Rules: []iam.Rule{onOrg("acme", "Everything", "HostEverything")}}},
	}
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()

	for _, perm := range append(slices.Clone(takeoverTriples), "iam:policy:update", "project:project:delete", "IAMManager", "OrganizationManager") {
		d, err := ev.Check(ctx, atOrg(mallory, "acme", perm))
		require.NoError(t, err, perm)
		require.False(t, d.Allowed, "%s at the organization", perm)
		x, err := ev.Explain(ctx, atOrg(mallory, "acme", perm))
		require.NoError(t, err, perm)
		require.False(t, x.Decision.Allowed, "Explain of %s at the organization: %v", perm, x)
		who, err := ev.WhoCan(ctx, iam.Request{OrganizationID: "acme", Permission: perm})
		require.NoError(t, err, perm)
		require.Equal(t, []iam.Principal{iam.UserPrincipal("boss")}, who, "WhoCan %s", perm)
	}
	for _, perm := range []string{"iam:policy:create", "billing:invoice:read"} {
		_, err := ev.Check(ctx, inProject(mallory, "p1", perm))
		require.ErrorIs(t, err, iam.ErrScopeMismatch, perm)
	}
	// The project level still works: the grant is not thrown away.
	for _, req := range []iam.Request{
		inProject(mallory, "p1", "instance:server:create"),
		atOrg(mallory, "acme", "instance:server:create"),
		inProject(mallory, "p1", "host:doc:read"),
		inProject(mallory, "p1", "Everything"),
	} {
		d, err := ev.Check(ctx, req)
		require.NoError(t, err, req.Permission)
		require.True(t, d.Allowed, "%s in %s%s", req.Permission, req.ProjectID, req.OrganizationID)
	}

	// Through the management layer: no policy granting the organization's
	// management, no deletion of the organization.
	as := admin.New(store, ev).As(mallory)
	_, err = as.CreatePolicy(ctx, iam.Policy{ID: "pol-takeover", OrganizationID: "acme", Principal: mallory, Rules: []iam.Rule{onOrg("acme", "OrganizationManager")}})
	require.ErrorIs(t, err, iam.ErrForbidden)
	require.ErrorIs(t, as.DeleteOrganization(ctx, "acme"), iam.ErrForbidden)
	_, err = mem.GetOrganization(ctx, "acme")
	require.NoError(t, err)
}

// TestAProjectScopedSetNeverLetsItsHolderTakeOverTheOrganizationThroughAdmin:
// the attack through the management layer. Whatever the store makes of
// the set, its holder cannot write a policy giving itself
// OrganizationManager, nor delete the organization.
func TestAProjectScopedSetNeverLetsItsHolderTakeOverTheOrganizationThroughAdmin(t *testing.T) {
	w := newWorld(t)
	mallory := iam.UserPrincipal(w.user(w.org, "mallory"))
	_, setErr := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Everything", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"*:*:*"}})
	_, polErr := w.store.CreatePolicy(w.ctx, iam.Policy{ID: "pol-mallory", OrganizationID: w.org, Principal: mallory, Rules: []iam.Rule{onOrg(w.org, "Everything")}})
	t.Logf("creating the set: %v; the policy: %v", setErr, polErr)

	as := admin.New(w.store, w.ev).As(mallory)
	_, err := as.CreatePolicy(w.ctx, iam.Policy{ID: "pol-takeover", OrganizationID: w.org, Principal: mallory, Rules: []iam.Rule{onOrg(w.org, "OrganizationManager")}})
	require.ErrorIs(t, err, iam.ErrForbidden)
	require.ErrorIs(t, as.DeleteOrganization(w.ctx, w.org), iam.ErrForbidden)
	_, err = w.store.GetOrganization(w.ctx, w.org)
	require.NoError(t, err, "the organization is gone")
	d, err := w.ev.Check(w.ctx, atOrg(mallory, w.org, "OrganizationManager"))
	require.NoError(t, err)
	require.False(t, d.Allowed)
}

// TestAPermissionHasOneLevel: a set whose pattern overlaps a pattern of a
// set of the other scope type is invalid, and the error names both sets
// and both patterns; the store is left unchanged.
func TestAPermissionHasOneLevel(t *testing.T) {
	t.Run("against the built-in catalogue", func(t *testing.T) {
		w := newWorld(t)
		before := dumpStore(t, w.store)
		_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Everything", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"instance:*:*", "*:*:*"}})
		ve := requireValidation(t, err, "permissions[1]")
		require.ErrorIs(t, err, iam.ErrScopeMismatch)
		require.Equal(t, "Everything", ve.ID)
		require.Equal(t, "*:*:*", ve.Value)
		// The first organization-scoped set of the catalogue, and its pattern.
		require.Contains(t, err.Error(), "ProjectManager")
		require.Contains(t, err.Error(), "project:project:*")
		requireUnchanged(t, w.store, before)

		_, err = w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "UserReader", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"iam:user:read"}})
		requireValidation(t, err, "permissions[0]")
		require.ErrorIs(t, err, iam.ErrScopeMismatch)
		require.Contains(t, err.Error(), "IAMReadOnly")
		require.Contains(t, err.Error(), "iam:*:read")
		_, err = w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "OrgServers", OrganizationID: w.org, ScopeType: iam.ScopeOrganization, Permissions: []string{"instance:server:*"}})
		require.ErrorIs(t, err, iam.ErrScopeMismatch)
		require.Contains(t, err.Error(), "InstancesFullAccess")
		require.Contains(t, err.Error(), "instance:*:*")
		requireUnchanged(t, w.store, before)
	})
	t.Run("among an organization's own sets", func(t *testing.T) {
		w := newWorld(t, iam.WithCatalogue(nil))
		w.set(iam.PermissionSet{Name: "Admin", OrganizationID: w.org, ScopeType: iam.ScopeOrganization, Permissions: []string{"app:admin:*"}})
		w.set(iam.PermissionSet{Name: "Reader", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"app:doc:read"}})
		before := dumpStore(t, w.store)
		for _, write := range []func() error{
			func() error {
				_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "AppAll", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"app:*:*"}})
				return err
			},
			func() error {
				_, err := w.store.UpdatePermissionSet(w.ctx, iam.PermissionSet{Name: "Reader", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"app:*:read"}})
				return err
			},
		} {
			err := write()
			requireValidation(t, err, "permissions[0]")
			require.ErrorIs(t, err, iam.ErrScopeMismatch)
			for _, name := range []string{"Admin", "app:admin:*"} {
				require.Contains(t, err.Error(), name)
			}
			requireUnchanged(t, w.store, before)
		}
		// Disjoint patterns of both levels live side by side ("*:*:list"
		// would not: it overlaps app:admin:*).
		w.set(iam.PermissionSet{Name: "Docs", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"app:doc:*"}})
	})
	t.Run("in a world file", func(t *testing.T) {
		store := iam.NewMemoryStore()
		err := iam.Load(context.Background(), store, "world.json", []byte(`{
  "organization": {"id": "acme", "name": "Acme"},
  "permission_sets": [
    {"name": "Settings", "scope_type": "organization", "permissions": ["app:settings:*"]},
    {"name": "AppAll", "scope_type": "projects", "permissions": ["app:*:*"]}
  ]
}`))
		require.ErrorIs(t, err, iam.ErrScopeMismatch)
		require.Contains(t, err.Error(), "world.json")
		for _, name := range []string{"AppAll", "app:*:*", "Settings", "app:settings:*"} {
			require.Contains(t, err.Error(), name)
		}
		orgs, err := store.ListOrganizations(context.Background())
		require.NoError(t, err)
		require.Empty(t, orgs)
	})
	t.Run("in a built-in catalogue", func(t *testing.T) {
		defer func() {
			r := recover()
			require.NotNil(t, r, "NewMemoryStore accepted a catalogue whose levels overlap")
			err, ok := r.(error)
			require.True(t, ok, "panic with %v", r)
			require.ErrorIs(t, err, iam.ErrScopeMismatch)
			for _, name := range []string{"Reader", "*:*:read", "Admin", "app:admin:*"} {
				require.Contains(t, err.Error(), name)
			}
		}()
		iam.NewMemoryStore(iam.WithCatalogue([]iam.PermissionSet{
			{Name: "Admin", ScopeType: iam.ScopeOrganization, Permissions: []string{"app:admin:*"}},
			{Name: "Reader", ScopeType: iam.ScopeProjects, Permissions: []string{"*:*:read"}},
		}))
	})
}

// TestATypoInAPermissionIsUnknownEvenWhereAWildcardMatchesIt: Scaleway's
// catalogue declares its services' permissions, so instance:servers:create
// is an error that points at instance:server:create, not an allow through
// instance:*:*, for the owner too.
func TestATypoInAPermissionIsUnknownEvenWhereAWildcardMatchesIt(t *testing.T) {
	w := newWorld(t)
	w.project(w.org, "p1")
	full := iam.UserPrincipal(w.user(w.org, "full"))
	w.policy(w.org, "pol-full", full, onOrg(w.org, "InstancesFullAccess"))
	for _, req := range []iam.Request{
		inProject(full, "p1", "instance:servers:create"),
		atOrg(full, w.org, "instance:servers:create"),
		inProject(iam.UserPrincipal(w.owner), "p1", "instance:servers:create"),
	} {
		d, err := w.ev.Check(w.ctx, req)
		require.ErrorIs(t, err, iam.ErrUnknownPermission)
		require.False(t, d.Allowed)
		require.Contains(t, err.Error(), "did you mean instance:server:create?")
	}
	w.expect(t, inProject(full, "p1", "instance:server:create"), granted)
	w.expect(t, inProject(iam.UserPrincipal(w.owner), "p1", "instance:server:create"), ownerAllow)
	w.expect(t, inProject(full, "p1", "instance:gpu:create"), isUnknown)
	_, err := w.ev.WhoCan(w.ctx, iam.Request{ProjectID: "p1", Permission: "instance:servers:create"})
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
}

// TestAHostServiceIsKnownByItsPatternsUntilItDeclaresPermissions: a host's
// own service without declarations works as before; once a set declares
// its permissions, only those are known.
func TestAHostServiceIsKnownByItsPatternsUntilItDeclaresPermissions(t *testing.T) {
	w := newWorld(t)
	w.project(w.org, "p1")
	w.set(iam.PermissionSet{Name: "ShopAll", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:*:*"}})
	u := iam.UserPrincipal(w.user(w.org, "u"))
	w.policy(w.org, "pol-u", u, onProjects(ids("p1"), "ShopAll"))
	w.expect(t, inProject(u, "p1", "shop:order:read"), granted)
	w.expect(t, inProject(u, "p1", "shop:orders:read"), granted)

	_, err := w.store.UpdatePermissionSet(w.ctx, iam.PermissionSet{Name: "ShopAll", OrganizationID: w.org, ScopeType: iam.ScopeProjects,
		Permissions: []string{"shop:*:*"}, Declared: []string{"shop:order:read", "shop:order:create"}})
	require.NoError(t, err)
	w.expect(t, inProject(u, "p1", "shop:order:read"), granted)
	w.expect(t, inProject(u, "p1", "shop:order:create"), granted)
	w.expect(t, inProject(u, "p1", "shop:orders:read"), isUnknown)
	_, err = w.ev.Check(w.ctx, inProject(u, "p1", "shop:orders:read"))
	require.Contains(t, err.Error(), "did you mean shop:order:read?")
	// Another organization's declarations change nothing here.
	w.addOrg("beta", "beta-owner")
	w.set(iam.PermissionSet{Name: "BetaShop", OrganizationID: "beta", ScopeType: iam.ScopeProjects, Permissions: []string{"shop:*:*"}})
	w.expect(t, inProject(iam.UserPrincipal("beta-owner"), "beta", "shop:orders:read"), ownerAllow)
}

// TestAPatternThatMatchesNoDeclaredPermissionIsInvalid: a pattern naming a
// service with declared permissions must match one of them; the check is
// made on the catalogue as a transaction leaves it.
func TestAPatternThatMatchesNoDeclaredPermissionIsInvalid(t *testing.T) {
	w := newWorld(t)
	before := dumpStore(t, w.store)
	_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Servers", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"instance:servers:*"}})
	ve := requireValidation(t, err, "permissions[0]")
	require.ErrorIs(t, err, iam.ErrUnknownPermission)
	require.Equal(t, "Servers", ve.ID)
	require.Equal(t, "instance:servers:*", ve.Value)
	require.Contains(t, err.Error(), "instance")
	requireUnchanged(t, w.store, before)
	// The declared permissions an organization adds count, for any set.
	w.set(iam.PermissionSet{Name: "Gpu", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"instance:gpu:*"}, Declared: []string{"instance:gpu:attach"}})
	w.set(iam.PermissionSet{Name: "GpuAttach", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"instance:gpu:attach"}})
	w.expect(t, inProject(iam.UserPrincipal(w.owner), w.org, "instance:gpu:attach"), ownerAllow)

	t.Run("declarations of a host service", func(t *testing.T) {
		w := newWorld(t)
		w.set(iam.PermissionSet{Name: "Invoices", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:invoice:*"}})
		before := dumpStore(t, w.store)
		// Declaring shop's permissions leaves Invoices' pattern matching none.
		_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Orders", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:order:*"}, Declared: []string{"shop:order:read"}})
		ve := requireValidation(t, err, "permissions[0]")
		require.ErrorIs(t, err, iam.ErrUnknownPermission)
		require.Equal(t, "Invoices", ve.ID)
		require.Contains(t, err.Error(), "Orders")
		requireUnchanged(t, w.store, before)
		// In one transaction, the order of the writes does not matter: the
		// catalogue is checked as the transaction leaves it.
		err = w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			if _, err := tx.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Orders", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:order:*"}, Declared: []string{"shop:order:read"}}); err != nil {
				return err
			}
			_, err := tx.UpdatePermissionSet(w.ctx, iam.PermissionSet{Name: "Invoices", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:invoice:*"}, Declared: []string{"shop:invoice:read"}})
			return err
		})
		require.NoError(t, err)
		// Taking a declaration back that a pattern relies on is refused too.
		before = dumpStore(t, w.store)
		_, err = w.store.UpdatePermissionSet(w.ctx, iam.PermissionSet{Name: "Invoices", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:invoice:*"}})
		requireValidation(t, err, "permissions[0]")
		require.ErrorIs(t, err, iam.ErrUnknownPermission)
		requireUnchanged(t, w.store, before)
		// Deleting every declaration of the service makes its patterns
		// known by matching again.
		err = w.store.Atomic(w.ctx, func(tx iam.Tx) error {
			if _, err := tx.UpdatePermissionSet(w.ctx, iam.PermissionSet{Name: "Invoices", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:invoice:*"}}); err != nil {
				return err
			}
			return tx.DeletePermissionSet(w.ctx, w.org, "Orders")
		})
		require.NoError(t, err)
		w.expect(t, inProject(iam.UserPrincipal(w.owner), w.org, "shop:invoice:anything"), ownerAllow)
	})
	t.Run("a declared permission is concrete and its set's own", func(t *testing.T) {
		w := newWorld(t)
		for _, c := range []struct {
			declared []string
			field    string
		}{
			{[]string{"shop:order:*"}, "declared[0]"},
			{[]string{"shop:order:read", "shop:invoice:read"}, "declared[1]"},
			{[]string{"Shop:Order"}, "declared[0]"},
		} {
			_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Orders", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:order:*"}, Declared: c.declared})
			requireValidation(t, err, c.field)
		}
		_, err := w.store.CreatePermissionSet(w.ctx, iam.PermissionSet{Name: "Orders", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:order:*"},
			Declared: make([]string, iam.MaxDeclaredPerSet+1)})
		requireValidation(t, err, "declared")
	})
	t.Run("in a world file", func(t *testing.T) {
		store := iam.NewMemoryStore()
		ctx := context.Background()
		require.NoError(t, iam.Load(ctx, store, "world.json", []byte(`{
  "organization": {"id": "acme", "name": "Acme"},
  "users": [{"id": "boss", "email": "boss@acme.test", "type": "owner"}],
  "permission_sets": [
    {"name": "Invoices", "scope_type": "projects", "permissions": ["shop:invoice:*"]},
    {"name": "Orders", "scope_type": "projects", "permissions": ["shop:order:*", "shop:invoice:read"], "declared": ["shop:order:read", "shop:invoice:read"]}
  ]
}`)))
		ev, err := iam.NewEvaluator(ctx, store)
		require.NoError(t, err)
		defer ev.Close()
		_, err = ev.Check(ctx, inProject(iam.UserPrincipal("boss"), "acme", "shop:invoice:write"))
		require.True(t, errors.Is(err, iam.ErrUnknownPermission), "%v", err)
		d, err := ev.Check(ctx, inProject(iam.UserPrincipal("boss"), "acme", "shop:invoice:read"))
		require.NoError(t, err)
		require.True(t, d.Allowed)
		sets, err := store.ListPermissionSets(ctx, "acme")
		require.NoError(t, err)
		require.True(t, slices.ContainsFunc(sets, func(ps iam.PermissionSet) bool {
			return slices.Equal(ps.Declared, []string{"shop:order:read", "shop:invoice:read"})
		}))

		err = iam.Load(ctx, iam.NewMemoryStore(), "world.json", []byte(`{
  "organization": {"id": "acme", "name": "Acme"},
  "permission_sets": [{"name": "Servers", "scope_type": "projects", "permissions": ["instance:servers:*"]}]
}`))
		require.ErrorIs(t, err, iam.ErrUnknownPermission)
		require.True(t, strings.Contains(err.Error(), "instance:servers:*"), "%v", err)
		var ve *iam.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "world.json", ve.File)
		require.Equal(t, 3, ve.Line, "%v", err)
		require.Equal(t, "permission_sets[0].permissions[0]", ve.Path)
	})
}

// TestInvariantAGrantAnswersOnlyForItsOwnLevel: over a generated world,
// every allowed request at the organization is backed only by grants of
// the permission's level: organization-scoped sets on the organization for
// an organization-level permission, project-scoped sets on the
// organization (all projects) for a project-level one.
func TestInvariantAGrantAnswersOnlyForItsOwnLevel(t *testing.T) {
	ctx := context.Background()
	w := gen.Generate(gen.Config{Seed: 7, Organizations: 2, Principals: 120, ProjectsPerOrg: 3, Groups: 4,
		PoliciesPerPrincipal: 1.5, MaxRulesPerPolicy: 6, CustomSets: 8, OrganizationShare: 0.35, AllProjectsShare: 0.35})
	store := iam.NewMemoryStore()
	require.NoError(t, w.Load(ctx, store))
	ev, err := iam.NewEvaluator(ctx, store)
	require.NoError(t, err)
	defer ev.Close()

	for _, org := range w.Organizations {
		cat := w.Catalogue(org.ID)
		scope := map[string]iam.ScopeType{}
		for _, ps := range cat {
			scope[ps.Name] = ps.ScopeType
		}
		levelOf := func(perm string) iam.ScopeType {
			for _, ps := range cat {
				if slices.ContainsFunc(ps.Permissions, func(p string) bool { return iam.MatchPermission(p, perm) }) {
					return ps.ScopeType
				}
			}
			return ""
		}
		var perms []string
		for _, ps := range cat {
			if len(ps.Declared) > 0 {
				perms = append(perms, ps.Declared[len(ps.Declared)/2])
			}
		}
		for _, req := range w.Requests(3, 400) {
			if req.OrganizationID == org.ID && strings.Contains(req.Permission, ":") {
				perms = append(perms, req.Permission)
			}
		}
		checked := map[iam.ScopeType]int{}
		for _, u := range w.Users {
			if u.OrganizationID != org.ID {
				continue
			}
			for _, perm := range perms {
				x, err := ev.Explain(ctx, atOrg(iam.UserPrincipal(u.ID), org.ID, perm))
				if err != nil || !x.Decision.Allowed || x.Decision.Reason == iam.ReasonOwner {
					continue
				}
				level := levelOf(perm)
				checked[level]++
				for _, g := range x.Grants {
					require.Equal(t, level, scope[g.PermissionSet], "%s at %s for %s: %v", perm, org.ID, u.ID, g)
					require.Equal(t, level == iam.ScopeOrganization, g.Scope.Organization, "%s: %v", perm, g)
					require.Equal(t, level == iam.ScopeProjects, g.Scope.AllProjects, "%s: %v", perm, g)
				}
			}
		}
		t.Logf("organization %s: allowed requests checked, by level: %v", org.ID, checked)
		require.Positive(t, checked[iam.ScopeOrganization], "no organization-level request allowed at %s", org.ID)
		require.Positive(t, checked[iam.ScopeProjects], "no project-level request allowed at %s", org.ID)
	}
}

// TestCheckOfLevelsAndDeclaredPermissionsAllocatesNothing: resolving a
// triple's level, from the declared permissions or from the patterns of a
// service without declarations, costs no allocation, allowed or denied.
func TestCheckOfLevelsAndDeclaredPermissionsAllocatesNothing(t *testing.T) {
	w := newWorld(t)
	w.project(w.org, "p1")
	w.set(iam.PermissionSet{Name: "ShopAll", OrganizationID: w.org, ScopeType: iam.ScopeProjects, Permissions: []string{"shop:*:*"}})
	u := iam.UserPrincipal(w.user(w.org, "u"))
	w.policy(w.org, "pol-u", u, onOrg(w.org, "ShopAll", "InstancesReadOnly"), onOrg(w.org, "BillingReadOnly"))
	for _, req := range []iam.Request{
		inProject(u, "p1", "instance:server:read"),
		inProject(u, "p1", "instance:server:create"),
		atOrg(u, w.org, "instance:server:read"),
		atOrg(u, w.org, "billing:invoice:read"),
		atOrg(u, w.org, "iam:policy:create"),
		inProject(u, "p1", "shop:order:read"),
		atOrg(u, w.org, "shop:order:read"),
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := w.ev.Check(w.ctx, req); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "%s in %s%s", req.Permission, req.ProjectID, req.OrganizationID)
	}
}
